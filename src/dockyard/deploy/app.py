"""``deploy`` and ``rollback``: register a revision, create or update the service, and judge the
deployment that started."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from dockyard.aws.ecs import TaskState
from dockyard.aws.errors import AwsPreconditionError
from dockyard.aws.services import ServiceState
from dockyard.config.models import Config, Strategy
from dockyard.deploy.definition import (
    AppTarget,
    check_strategy,
    create_request,
    task_definition,
    update_request,
)
from dockyard.deploy.rollout import RolloutOutcome, RolloutWatch
from dockyard.deploy.stages import SmokeTest, StageWatch
from dockyard.errors import DockyardError, ExitCode
from dockyard.names import short_arn
from dockyard.progress import Progress

Action = Literal["deploy", "rollback"]


class ServiceApi(Protocol):
    """The ECS calls of a deploy (``dockyard.aws.services.Services``, or a fake)."""

    def describe(self, cluster: str, name: str) -> ServiceState | None: ...
    def tasks_of(self, cluster: str, deployment_id: str, status: str,
                 limit: int = 10) -> list[TaskState]: ...
    def register(self, definition: dict[str, Any]) -> str: ...
    def create(self, request: dict[str, Any]) -> ServiceState: ...
    def update(self, request: dict[str, Any]) -> ServiceState: ...
    def completed_task_definitions(self, cluster: str, service: str) -> list[str]: ...
    def image_of(self, task_definition: str) -> str: ...


@dataclass(frozen=True)
class DeployResult:
    """What a deploy or rollback did, and how it ended (``outcome`` is None with --no-wait)."""

    action: Action
    app: str
    url: str
    task_definition: str
    deployment_id: str
    created: bool
    image: str = ""
    outcome: RolloutOutcome | None = None
    strategy: Strategy = "rolling"

    @property
    def exit_code(self) -> ExitCode:
        """0 completed (or not waited for), 4 failed and rolled back, 124 still running."""
        if self.outcome is None or self.outcome.verdict == "completed":
            return ExitCode.OK
        return ExitCode.ROLLED_BACK if self.outcome.verdict == "failed" else ExitCode.TIMEOUT


class NothingToRollBackError(DockyardError):
    """No earlier deployment of the app completed."""

    exit_code = ExitCode.AWS_PRECONDITION


@dataclass
class AppDeployer:
    """Deploys one app's images and rolls them back, on one account."""

    cfg: Config
    services: ServiceApi
    watch: RolloutWatch
    progress: Progress
    # Blue-green, canary and linear deployments are followed stage by stage; the smoke test
    # of a deploy of ``image`` to ``target`` is made by ``smoke``.
    stages: StageWatch | None = None
    smoke: Callable[[AppTarget, str], SmokeTest] | None = None

    def deploy(self, target: AppTarget, image: str, secret_arns: dict[str, str], *,
               wait: bool, timeout: float, strategy: Strategy | None = None) -> DeployResult:
        """Register a revision running ``image`` and roll the service to it (with dockyard.yml's
        strategy, or ``strategy`` this once)."""
        strategy = check_strategy(self.cfg, target, strategy)
        definition = task_definition(self.cfg, target, image, secret_arns)
        arn = self.services.register(definition)
        self.progress.note("deploy",
                           f"registered {short_arn(arn)} ({image.rsplit('@', 1)[-1][:19]})")
        before = self.services.describe(target.cluster, target.app)
        if before is None:
            state = self.services.create(create_request(self.cfg, target, arn, strategy))
            self.progress.note("deploy", f"created the service {target.app} in "
                                         f"{short_arn(target.cluster)}")
        else:
            state = self.services.update(update_request(self.cfg, target, arn,
                                                        strategy=strategy))
        return self._follow("deploy", target, state, arn, before, wait=wait, timeout=timeout,
                            image=image, strategy=strategy)

    def rollback(self, target: AppTarget, *, wait: bool, timeout: float) -> DeployResult:
        """Roll the service back to the task definition of its last completed deployment
        (other than the one it runs now)."""
        before = self.services.describe(target.cluster, target.app)
        if before is None:
            raise AwsPreconditionError(f"{target.app} is not deployed: there is no service "
                                       f"{target.app} in {short_arn(target.cluster)}",
                                       hint=f"dockyard deploy {target.app} --image REF")
        current = before.primary.task_definition if before.primary else before.task_definition
        completed = self.services.completed_task_definitions(target.cluster, target.app)
        previous = next((t for t in completed if t != current), None)
        if previous is None:
            raise NothingToRollBackError(
                f"no earlier deployment of {target.app} completed: nothing to roll back to "
                f"(it runs {short_arn(current)})")
        self.progress.note("deploy", f"rolling {target.app} back from {short_arn(current)} to "
                                     f"{short_arn(previous)}, its last completed deployment")
        strategy = check_strategy(self.cfg, target, None)
        state = self.services.update(update_request(self.cfg, target, previous,
                                                    with_load_balancer=False))
        return self._follow("rollback", target, state, previous, before, wait=wait,
                            timeout=timeout, strategy=strategy)

    def _follow(self, action: Action, target: AppTarget, state: ServiceState, arn: str,
                before: ServiceState | None, *, wait: bool, timeout: float,
                image: str = "", strategy: Strategy = "rolling") -> DeployResult:
        ours = next((d for d in state.deployments
                     if d.status == "PRIMARY" and d.task_definition == arn), state.primary)
        if ours is None:
            raise DockyardError(f"ECS started no deployment for {target.app}",
                                hint="dockyard status " + target.app)
        self.progress.note("deploy", f"deployment {ours.deployment_id} started")
        result = DeployResult(action, target.app, target.url, arn, ours.deployment_id,
                              created=before is None, image=image, strategy=strategy)
        if not wait:
            return result
        # A new service's first deployment has no old revision to move traffic from: its
        # tasks start and it completes as a rolling one does.
        if strategy != "rolling" and before is not None and self.stages is not None:
            self.progress.note("deploy", f"{strategy} deployment: following it stage by stage")
            smoke = None
            if self.smoke is not None and self.cfg.apps[target.app].deploy.smoke_test:
                smoke = self.smoke(target, image or self.services.image_of(arn))
            previous = before.current_deployment if before else ""
            outcome = self.stages.watch(
                target.cluster, target.app, ours.deployment_id, arn, timeout,
                deployment_arn=state.current_deployment
                if state.current_deployment != previous else "",
                previous_arn=previous, smoke=smoke)
        else:
            known = [e.event_id for e in (before.events if before else [])]
            outcome = self.watch.watch(target.cluster, target.app, ours.deployment_id, arn,
                                       timeout, known_events=known)
        return DeployResult(action, target.app, target.url, arn, ours.deployment_id,
                            created=before is None, image=image, outcome=outcome,
                            strategy=strategy)

