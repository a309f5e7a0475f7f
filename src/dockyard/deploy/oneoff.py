"""``dockyard run``: one command as a one-off Fargate task of an app, the way ECS users run
database migrations: from the app's image, in the app's network, with its environment and
secrets, before the service is updated (Copilot's ``task run``, ecspresso's ``run``).

The task runs a revision of the family ``<name>-<app>-run``: a copy of the app's task
definition (the running revision's, or one registered from dockyard.yml for ``--image``, pinned
by digest as deploy pins it) whose only difference is the log stream prefix ``run``, so a
one-off's lines never mix with the service's and a run never becomes the service's latest
revision. It is followed like a build task (dockyard.builds.task.Runner): its log streams from
the first line, Ctrl-C and the timeout stop it, and its end is classified the same way.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any, Protocol

from dockyard.aws.ecs import (
    OVERRIDES_CHARACTERS,
    TaskSpec,
    TaskState,
    overrides_characters,
    run_task_problem,
)
from dockyard.aws.services import ServiceState
from dockyard.builds.task import Runner, Status, TaskOutcome
from dockyard.config.models import Config
from dockyard.deploy.definition import APP_TAG_KEY, AppTarget, family, task_definition
from dockyard.errors import DockyardError, ExitCode, UsageError
from dockyard.names import TAG_KEY, TEST_HEADER
from dockyard.rules import clipped

RUN_STREAM_PREFIX = "run"
"""The awslogs stream prefix of one-off tasks: ``run/<app>/<task id>``."""

RUN_TAG = "dockyard:run"
"""The tag a one-off task carries: the app it ran for."""

# What RegisterTaskDefinition takes of what DescribeTaskDefinition gives (the rest, such as
# the ARN, revision, status and registration time, is ECS's own record).
_REGISTERABLE = ("taskRoleArn", "executionRoleArn", "networkMode", "containerDefinitions",
                 "volumes", "placementConstraints", "requiresCompatibilities", "cpu", "memory",
                 "pidMode", "ipcMode", "proxyConfiguration", "inferenceAccelerators",
                 "ephemeralStorage", "runtimePlatform")


class DefinitionApi(Protocol):
    """The ECS calls a one-off needs besides the task's (``dockyard.aws.services.Services``)."""

    def describe(self, cluster: str, name: str) -> ServiceState | None: ...
    def definition(self, task_definition: str) -> dict[str, Any]: ...
    def register(self, definition: dict[str, Any]) -> str: ...


def run_family(cfg: Config, app: str) -> str:
    """The task definition family of an app's one-off tasks: ``<name>-<app>-run``."""
    return f"{family(cfg, app)}-run"


def run_definition(cfg: Config, app: str, base: dict[str, Any]) -> dict[str, Any]:
    """The RegisterTaskDefinition request of a one-off: ``base`` (a registration request, or
    what DescribeTaskDefinition returned) in the run family, logging under ``run/``."""
    request = {key: base[key] for key in _REGISTERABLE if key in base}
    containers = []
    for described in request.get("containerDefinitions", []):
        container = dict(described)
        logging = container.get("logConfiguration")
        if logging and logging.get("logDriver") == "awslogs":
            container["logConfiguration"] = {**logging, "options": {
                **logging.get("options", {}), "awslogs-stream-prefix": RUN_STREAM_PREFIX}}
        containers.append(container)
    if len(containers) == 1 and "memory" in request:
        # As for kaniko's: the one container's hard limit is the task's, so RunTask's
        # container override of the memory (with --memory) has a value to replace.
        containers[0].setdefault("memory", int(request["memory"]))
    return {**request, "family": run_family(cfg, app), "containerDefinitions": containers,
            "tags": [{"key": TAG_KEY, "value": cfg.name}, {"key": APP_TAG_KEY, "value": app}]}


def smoke_definition(cfg: Config, target: AppTarget, image: str) -> dict[str, Any]:
    """The run-family revision of a deploy's smoke test: the new revision's definition, told
    where the test endpoint is ($DOCKYARD_TEST_URL, the app's URL). The header the test rule
    wants is not in it: a task definition is readable for good; see ``smoke_environment``."""
    base = task_definition(cfg, target, image, target.secret_arns)
    (container,) = base["containerDefinitions"]
    container["environment"] = [*container["environment"],
                                {"name": "DOCKYARD_TEST_URL", "value": target.url.rstrip("/")}]
    return run_definition(cfg, target.app, base)


def smoke_environment(target: AppTarget) -> dict[str, str]:
    """What the smoke task alone is told, as a RunTask override: $DOCKYARD_TEST_HEADER, the
    header the test rule wants (``X-Dockyard-Test: <its random value>``)."""
    if not target.test_header_value:
        raise DockyardError(
            f"the stack of {target.app} has no test header value (it predates it)",
            hint=f"run: dockyard up --only app-{target.app}", exit_code=ExitCode.AWS_PRECONDITION)
    return {"DOCKYARD_TEST_HEADER": f"{TEST_HEADER}: {target.test_header_value}"}


@dataclass(frozen=True)
class OneOff:
    """What ``dockyard run`` started, and how it ended."""

    app: str
    task_definition: str
    image: str
    command: list[str]
    outcome: TaskOutcome | None = None  # None with --detach

    @property
    def command_exit_code(self) -> int | None:
        """The command's own exit code; None when it never ran to an exit (the task never
        ran, or dockyard stopped it)."""
        if self.outcome is None or self.outcome.status not in (Status.SUCCEEDED,
                                                               Status.BUILD_FAILED):
            return None
        return int(self.outcome.exit_code or 0)

    @property
    def exit_code(self) -> int:
        """dockyard's exit code for the run: 0 when the command exited 0, 1 for any other
        exit of it (its own code would read as dockyard's 2, 3 or 4: see
        ``command_exit_code``), 70 when it never ran, 124 past the timeout, 130 when stopped
        by a signal (the CLI turns that into 143 or 129 for SIGTERM or SIGHUP)."""
        if self.outcome is None:
            return ExitCode.OK
        status = self.outcome.status
        if status in (Status.SUCCEEDED, Status.BUILD_FAILED):
            return ExitCode.OK if self.command_exit_code == 0 else ExitCode.FAILED
        if status == Status.TIMED_OUT:
            return ExitCode.TIMEOUT
        if status == Status.CANCELLED:
            return ExitCode.CANCELLED
        return ExitCode.TASK_FAILED_TO_START


def command_line(command: list[str]) -> str:
    """The command as a shell would take it back (``sh -c 'echo a b'``, not ``sh -c echo a
    b``), cut to a readable length for a note or an error line."""
    return clipped(shlex.join(command))


def base_definition(cfg: Config, target: AppTarget, services: DefinitionApi,
                    image: str | None) -> tuple[dict[str, Any], str]:
    """The task definition a one-off copies, and its image: dockyard.yml's for ``image``
    (already pinned), else the service's running revision."""
    if image is not None:
        return task_definition(cfg, target, image, target.secret_arns), image
    state = services.describe(target.cluster, target.app)
    if state is None or state.status != "ACTIVE" or not state.task_definition:
        raise DockyardError(f"{target.app} has no service yet, so no running revision to run",
                            hint=f"pass --image (what `dockyard build --repo "
                                 f"{cfg.repository_of(target.app).split('/', 1)[1]}` printed), "
                                 "or deploy it first",
                            exit_code=ExitCode.AWS_PRECONDITION)
    described = services.definition(state.task_definition)
    containers = described.get("containerDefinitions") or [{}]
    return described, str(containers[0].get("image", ""))


def task_spec(cfg: Config, target: AppTarget, definition_arn: str, command: list[str], *,
              cpu: int, memory: int) -> TaskSpec:
    """The RunTask of a one-off: the app's subnets and security group, on demand (a migration
    is not work to lose to Spot), the command as the container's override."""
    return TaskSpec(cluster=target.cluster, task_definition=definition_arn,
                    subnets=target.subnets, security_groups=[target.security_group],
                    assign_public_ip=target.assign_public_ip, capacity_provider="FARGATE",
                    container=target.app, command=command, cpu=cpu, memory=memory,
                    storage_gib=None,
                    tags={TAG_KEY: cfg.name, RUN_TAG: target.app, APP_TAG_KEY: target.app},
                    started_by="dockyard-run")


def check_run_task(spec: TaskSpec) -> TaskSpec:
    """``spec``, or a usage error naming the command when RunTask would refuse it (its
    overrides past ECS's 8,192 characters, say: dockyard.aws.ecs.run_task_problem)."""
    problem = run_task_problem(spec)
    if problem is None:
        return spec
    if overrides_characters(spec) > OVERRIDES_CHARACTERS:
        raise UsageError(f"CMD is too long for ECS: {problem}",
                         hint="put the script in the image, or have the command read a "
                              "file from S3")
    raise UsageError(f"the task of {spec.container}: {problem}")


def run_one_off(runner: Runner, spec: TaskSpec, timeout: float, *,
                started: TaskState | None = None) -> TaskOutcome:
    """Run the task to its end, or follow one ``started`` already (``logs run TASK``); Ctrl-C
    and the timeout stop it (see Runner)."""
    from dockyard.builds.runner import run_parallel

    def job() -> TaskOutcome:
        if started is None:
            return runner.run("run", spec, timeout)
        return runner.follow("run", spec, started, runner.clock.now() + timeout)

    (outcome,) = run_parallel([job], runner.stop)
    return outcome
