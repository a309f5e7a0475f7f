"""``dockyard exec``: a command in a running task of an app, through ECS Exec.

ECS opens the session (ExecuteCommand); the Session Manager plugin on this machine carries
the terminal, exactly as ``aws ecs execute-command`` starts it (aws-cli,
``awscli/customizations/ecs/executecommand.py``): the session as JSON, the region,
``StartSession``, the profile, the target ``ecs:<cluster>_<task id>_<runtime id>`` and the
ECS endpoint. A plugin newer than 1.2.497.0 takes the session from the environment variable
``AWS_SSM_START_SESSION_RESPONSE`` instead, so its token is never in a process listing.

The session runs as root in the container and is written to the app's log group (the
cluster's ECS Exec logging is DEFAULT); who opened it is in CloudTrail (ExecuteCommand).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from dockyard.aws.ecs import TaskState
from dockyard.config.models import Config
from dockyard.errors import DockyardError, ExitCode, UsageError

PLUGIN = "session-manager-plugin"
PLUGIN_DOCS = ("https://docs.aws.amazon.com/systems-manager/latest/userguide/"
               "session-manager-working-with-install-plugin.html")
SESSION_ENV = "AWS_SSM_START_SESSION_RESPONSE"
_ENV_SINCE = (1, 2, 497, 0)  # the first plugin version after which the variable is read
DEFAULT_COMMAND = ("/bin/sh",)


def check_enabled(cfg: Config, app: str) -> None:
    """Refuses an app whose dockyard.yml does not turn ECS Exec on."""
    if not cfg.apps[app].exec:
        raise UsageError(
            f"apps.{app}.exec is off: ECS Exec is not enabled for {app}, so no shell can be "
            "opened in its tasks",
            hint=f"set apps.{app}.exec: true and apps.{app}.read_only_root: false in "
                 f"dockyard.yml, then `dockyard up --only app-{app}` and `dockyard deploy "
                 f"{app}` (ECS turns it on for new tasks only)")


def command_string(command: Sequence[str]) -> str:
    """The command ECS Exec runs (one string; the agent splits it, no shell)."""
    return shlex.join(command or DEFAULT_COMMAND)


def choose_task(app: str, tasks: list[TaskState], wanted: str | None) -> TaskState:
    """The task to open the session in: ``wanted`` (an id or ARN), else the newest running
    task that has ECS Exec."""
    if wanted is not None:
        found = next((t for t in tasks if wanted in (t.arn, t.task_id)), None)
        if found is None:
            raise DockyardError(f"{app} has no running task {wanted}",
                                hint=f"its running tasks: {_ids(tasks)}" if tasks
                                else f"dockyard status {app}",
                                exit_code=ExitCode.AWS_PRECONDITION)
        tasks = [found]
    if not tasks:
        raise DockyardError(f"{app} has no running task", hint=f"dockyard status {app}",
                            exit_code=ExitCode.AWS_PRECONDITION)
    with_exec = [t for t in tasks if t.execute_command]
    if not with_exec:
        raise DockyardError(
            f"{'task ' + tasks[0].task_id if wanted else 'no running task of ' + app} was "
            "started with ECS Exec: ECS turns it on only for tasks started after the "
            "service's setting changed",
            hint=f"dockyard deploy {app} starts new tasks with it",
            exit_code=ExitCode.AWS_PRECONDITION)
    ready = [t for t in with_exec if (c := t.container(app)) and c.exec_agent == "RUNNING"]
    task = ready[0] if ready else with_exec[0]  # a task just started may not be ready yet
    container = task.container(app)
    if container is None or container.exec_agent != "RUNNING":
        status = container.exec_agent if container and container.exec_agent else "not started"
        raise DockyardError(f"ECS Exec's agent in task {task.task_id} is {status.lower()}",
                            hint="a task that has just started needs a moment; try again",
                            exit_code=ExitCode.AWS_PRECONDITION)
    return task


def _ids(tasks: list[TaskState]) -> str:
    return ", ".join(t.task_id for t in tasks[:5]) + (", ..." if len(tasks) > 5 else "")


@dataclass(frozen=True)
class Session:
    """What the Session Manager plugin is started with."""

    argv: list[str]
    env: dict[str, str]


def plugin_version(output: str) -> tuple[int, ...] | None:
    """``session-manager-plugin --version``'s answer (``1.2.650.0``) as numbers."""
    match = re.search(r"(\d+(?:\.\d+)+)", output)
    return tuple(int(part) for part in match.group(1).split(".")) if match else None


def plugin_session(session: dict[str, str], *, region: str, profile: str, cluster: str,
                   task: TaskState, container: str, endpoint: str,
                   version: tuple[int, ...] | None) -> Session:
    """The plugin's arguments and environment for ``session`` (ExecuteCommand's answer)."""
    state = task.container(container)
    runtime = state.runtime_id if state else ""
    target = json.dumps({"Target": f"ecs:{cluster.rsplit('/', 1)[-1]}_{task.task_id}_"
                                   f"{runtime}"})
    document = json.dumps(session)
    if version is not None and version > _ENV_SINCE:
        return Session([PLUGIN, SESSION_ENV, region, "StartSession", profile, target, endpoint],
                       {SESSION_ENV: document})
    return Session([PLUGIN, document, region, "StartSession", profile, target, endpoint], {})


def missing_plugin_error(*, region: str, profile: str, cluster: str, task: str, container: str,
                         command: str) -> DockyardError:
    """The error when the plugin is not on PATH: where to get it, and the command that opens
    the same session once it is installed (the AWS CLI's, for a machine that has it)."""
    aws = shlex.join(["aws", "ecs", "execute-command", "--region", region,
                      *(["--profile", profile] if profile else []), "--cluster",
                      cluster.rsplit("/", 1)[-1], "--task", task, "--container", container,
                      "--interactive", "--command", command])
    return DockyardError(
        f"the Session Manager plugin ({PLUGIN}) is not installed: ECS Exec needs it to "
        "carry the session",
        hint=f"install it ({PLUGIN_DOCS}), then run this again; or, where the AWS CLI and "
             f"the plugin are: {aws}",
        exit_code=ExitCode.AWS_PRECONDITION)


def not_connected_error(app: str, task: str) -> DockyardError:
    """ExecuteCommand's TargetNotConnectedException: the agent in the task has no channel."""
    return DockyardError(
        f"ECS Exec's agent in task {task} is not connected to Systems Manager",
        hint=f"the task role needs the ssmmessages permissions (`dockyard up --only app-{app}` "
             "with apps.{app}.exec: true grants them, then deploy); tasks in private subnets "
             "need a NAT gateway or an ssmmessages VPC endpoint".replace("{app}", app),
        exit_code=ExitCode.AWS_PRECONDITION)

