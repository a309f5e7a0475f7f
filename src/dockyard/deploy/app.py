"""``deploy`` and ``rollback``: register a revision, create or update the service, and judge the
deployment that started."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

from dockyard.aws.ecs import TaskState
from dockyard.aws.errors import AwsPreconditionError
from dockyard.aws.services import CompletedDeployment, ServiceDeployment, ServiceState
from dockyard.config.models import Config, Strategy
from dockyard.deploy.definition import (
    ECS_STRATEGY,
    AppTarget,
    check_strategy,
    create_request,
    task_definition,
    update_request,
)
from dockyard.deploy.oneoff import smoke_environment
from dockyard.deploy.rollback import AlreadyBack, RollTo, decide, stale
from dockyard.deploy.rollout import POLL_SECONDS, VISIBLE_WITHIN, RolloutOutcome, RolloutWatch
from dockyard.deploy.stages import SmokeTest, StageWatch
from dockyard.errors import DockyardError, ExitCode
from dockyard.names import short_arn
from dockyard.polling import Poll, WaitTimeoutError, poll_until
from dockyard.progress import Progress

Action = Literal["deploy", "rollback", "follow"]
PROGRESSIVE_STRATEGIES = ("BLUE_GREEN", "CANARY", "LINEAR")
# How often, and how far apart, ``follow`` reads a service that shows nothing under way.
SETTLE_READS = 3
SETTLE_SECONDS = 2.0


class ServiceApi(Protocol):
    """The ECS calls of a deploy (``dockyard.aws.services.Services``, or a fake)."""

    def describe(self, cluster: str, name: str) -> ServiceState | None: ...
    def tasks_of(self, cluster: str, deployment_id: str, status: str,
                 limit: int = 10) -> list[TaskState]: ...
    def register(self, definition: dict[str, Any]) -> str: ...
    def create(self, request: dict[str, Any]) -> ServiceState: ...
    def update(self, request: dict[str, Any]) -> ServiceState: ...
    def completed_deployments(self, cluster: str,
                              service: str) -> list[CompletedDeployment]: ...
    def image_of(self, task_definition: str) -> str: ...
    def service_deployment(self, arn: str) -> ServiceDeployment | None: ...
    def revision_task_definition(self, revision_arn: str) -> str: ...
    def live_target_group(self, cluster: str, service: str) -> str: ...
    def stop_deployment(self, arn: str) -> None: ...


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
        """0 completed, unchanged (a rollback already done) or not waited for, 4 failed and
        rolled back, 1 superseded by a later deployment, 124 still running."""
        if self.outcome is None or self.outcome.verdict in ("completed", "unchanged"):
            return ExitCode.OK
        if self.outcome.verdict == "superseded":
            return ExitCode.FAILED
        return ExitCode.ROLLED_BACK if self.outcome.verdict == "failed" else ExitCode.TIMEOUT


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
               wait: bool, timeout: float, strategy: Strategy | None = None,
               supersede: bool = False) -> DeployResult:
        """Register a revision running ``image`` and roll the service to it (with dockyard.yml's
        strategy, or ``strategy`` this once). A deployment already under way is refused
        unless ``supersede``."""
        strategy = check_strategy(self.cfg, target, strategy)
        if strategy != "rolling" and self.cfg.apps[target.app].deploy.smoke_test:
            smoke_environment(target)  # refuses a stack with no test header, before any change
        definition = task_definition(self.cfg, target, image, secret_arns)
        before = self.services.describe(target.cluster, target.app)
        ongoing = before.primary if before is not None else None
        if ongoing is not None and ongoing.rollout_state == "IN_PROGRESS":
            what = f"{ongoing.deployment_id} of {short_arn(ongoing.task_definition)}"
            if not supersede:
                raise AwsPreconditionError(
                    f"{target.app} has a deployment under way ({what}); a second one would "
                    "stop it", hint=f"dockyard status {target.app} --wait follows it to its "
                                    "end; deploy --supersede replaces it")
            self.progress.note("deploy", f"superseding the deployment under way ({what}): "
                                         "ECS stops it")
        arn = self.services.register(definition)
        self.progress.note("deploy",
                           f"registered {short_arn(arn)} ({image.rsplit('@', 1)[-1][:19]})")
        if before is None:
            state = self.services.create(create_request(self.cfg, target, arn, strategy))
            self.progress.note("deploy", f"created the service {target.app} in "
                                         f"{short_arn(target.cluster)}")
        else:
            target = self._oriented(target)
            state = self.services.update(update_request(self.cfg, target, arn,
                                                        strategy=strategy))
        return self._follow("deploy", target, state, arn, before, wait=wait, timeout=timeout,
                            image=image, strategy=strategy)

    def rollback(self, target: AppTarget, *, wait: bool, timeout: float,
                 now: bool = False) -> DeployResult:
        """Roll the service back to the task definition of its last completed deployment
        (other than the one it runs now); nothing when it is already there (a rollback ran
        before, or ECS is undoing a failed deployment). ``now``: as a rolling deployment,
        whatever the app's strategy (no test traffic, canary or linear steps, or bake)."""
        before = self.services.describe(target.cluster, target.app)
        if before is None:
            raise AwsPreconditionError(f"{target.app} is not deployed: there is no service "
                                       f"{target.app} in {short_arn(target.cluster)}",
                                       hint=f"dockyard deploy {target.app} --image REF")
        history = self.services.completed_deployments(target.cluster, target.app)
        before = self._caught_up(target, before, history)
        decision = decide(target.app, before, history)
        strategy = check_strategy(self.cfg, target, None)
        if isinstance(decision, AlreadyBack):
            return self._unchanged(target, decision, strategy)
        self.progress.note("deploy", f"rolling {target.app} back from "
                                     f"{short_arn(decision.current)} to "
                                     f"{short_arn(decision.target)}, its last completed "
                                     "deployment")
        if not now or strategy == "rolling":
            state = self.services.update(update_request(self.cfg, target, decision.target,
                                                        with_load_balancer=False))
            return self._follow("rollback", target, state, decision.target, before,
                                wait=wait, timeout=timeout, strategy=strategy)
        under_way = self._progressive_under_way(before) if decision.under_way else None
        if under_way is not None:
            return self._stop(target, under_way, decision, wait=wait, timeout=timeout)
        # A rolling deployment starts its tasks in the service's first target group: the one
        # production is on goes first, or the rollback would serve from an empty group.
        target = self._oriented(target)
        self.progress.note("deploy", f"--now: a rolling deployment instead of {strategy} (no "
                                     "test traffic, steps or bake); the next deploy puts "
                                     f"{strategy} back")
        state = self.services.update(update_request(self.cfg, target, decision.target,
                                                    strategy="rolling"))
        return self._follow("rollback", target, state, decision.target, before, wait=wait,
                            timeout=timeout, strategy="rolling")

    def _caught_up(self, target: AppTarget, state: ServiceState,
                   history: list[CompletedDeployment]) -> ServiceState:
        """The service read again while it shows a deployment older than ECS's newest
        completed one: right after a deployment DescribeServices may still show the service
        from before it (ECS API Reference, "Eventual consistency"). Past a few reads,
        ``decide`` trusts the history."""
        for _ in range(SETTLE_READS):
            if not stale(state, history):
                break
            self.watch.clock.sleep(SETTLE_SECONDS)
            state = self.services.describe(target.cluster, target.app) or state
        return state

    def _unchanged(self, target: AppTarget, done: AlreadyBack,
                   strategy: Strategy) -> DeployResult:
        """A second rollback: nothing started, and the line that says why."""
        sentence = done.sentence(target.app)
        self.progress.note("deploy", sentence)
        if done.under_way:
            self.progress.note("deploy", f"dockyard status {target.app} --wait follows it")
        return DeployResult("rollback", target.app, target.url, done.on, done.by,
                            created=False, strategy=strategy,
                            outcome=RolloutOutcome("unchanged", done.by, done.on,
                                                   reason=sentence))

    def _progressive_under_way(self, state: ServiceState) -> ServiceDeployment | None:
        """The blue/green, canary or linear deployment under way, if that is what runs."""
        if not state.current_deployment:
            return None
        current = self.services.service_deployment(state.current_deployment)
        if current is None or current.finished or current.strategy not in \
                PROGRESSIVE_STRATEGIES:
            return None
        return current

    def _stop(self, target: AppTarget, under_way: ServiceDeployment, decision: RollTo, *,
              wait: bool, timeout: float) -> DeployResult:
        """--now while a progressive deployment is under way: ECS refuses to switch a service
        to rolling until it ends (Developer Guide, "Update the deployment strategy from
        Amazon ECS blue/green to rolling update"), but stopping it with ROLLBACK moves
        production and test traffic back to the live revision at once."""
        self.progress.note("deploy", f"--now: stopping the {under_way.strategy.lower()} "
                                     f"deployment of {short_arn(decision.current)} under way "
                                     "(StopServiceDeployment): ECS moves all traffic back to "
                                     f"{short_arn(decision.target)} at once")
        self.services.stop_deployment(under_way.arn)
        deployment_id = short_arn(under_way.arn)
        result = DeployResult("rollback", target.app, target.url, decision.target,
                              deployment_id, created=False, strategy="rolling")
        if not wait or self.stages is None:
            return result
        outcome = self.stages.watch(target.cluster, target.app, deployment_id,
                                    decision.current, timeout, deployment_arn=under_way.arn)
        final = self.services.service_deployment(under_way.arn)
        if outcome.verdict == "failed" and final is not None and \
                final.status == "ROLLBACK_SUCCESSFUL":
            outcome = RolloutOutcome("completed", deployment_id, decision.target,
                                     reason=f"ECS rolled the deployment of "
                                            f"{short_arn(decision.current)} back: all traffic "
                                            f"on {short_arn(decision.target)}")
        return replace(result, outcome=outcome)

    def follow(self, target: AppTarget, *, timeout: float) -> DeployResult:
        """Follow the app's deployment under way (one a deploy started, then stopped waiting
        for) to its end, with the same verdict and the smoke test where it pauses for it; a
        deployment that has already ended gets its verdict at once."""
        state = self.services.describe(target.cluster, target.app)
        for _ in range(SETTLE_READS):
            # Right after a deploy, reads may still show the deployment before it (ECS API
            # Reference, "Eventual consistency"): a finished one is read again before it counts.
            if state is not None and any(d.rollout_state == "IN_PROGRESS"
                                         for d in state.deployments):
                break
            self.watch.clock.sleep(SETTLE_SECONDS)
            state = self.services.describe(target.cluster, target.app)
        if state is None or state.primary is None:
            raise AwsPreconditionError(f"{target.app} is not deployed: there is no service "
                                       f"{target.app} in {short_arn(target.cluster)}",
                                       hint=f"dockyard deploy {target.app} --image REF")
        primary = state.primary
        current = self.services.service_deployment(state.current_deployment) \
            if state.current_deployment and self.stages is not None else None
        strategy = current.strategy if current is not None else ""
        deployment_id, task_definition = primary.deployment_id, primary.task_definition
        if current is not None and current.revision:
            # The service deployment names the revision it deploys; PRIMARY may be the
            # circuit breaker's rollback to the one before.
            task_definition = self.services.revision_task_definition(current.revision) or \
                task_definition
            deployment_id = short_arn(current.arn)
        self.progress.note("deploy", f"following deployment {deployment_id} of "
                                     f"{target.app} ({short_arn(task_definition)})")
        if current is not None and self.stages is not None:
            # Any strategy: the service deployment's own status is the verdict (a rolling one
            # rolled back by the circuit breaker ends ROLLBACK_SUCCESSFUL).
            smoke = None
            if self.smoke is not None and self.cfg.apps[target.app].deploy.smoke_test and \
                    not current.finished and strategy in PROGRESSIVE_STRATEGIES:
                smoke = self.smoke(target, self.services.image_of(task_definition))
            outcome = self.stages.watch(target.cluster, target.app, deployment_id,
                                        task_definition, timeout,
                                        deployment_arn=current.arn, smoke=smoke)
        else:
            outcome = self.watch.watch(target.cluster, target.app, deployment_id,
                                       task_definition, timeout,
                                       known_events=[e.event_id for e in state.events])
        return DeployResult("follow", target.app, target.url, task_definition, deployment_id,
                            created=False, outcome=outcome,
                            strategy=_strategy_name(strategy))

    def _oriented(self, target: AppTarget) -> AppTarget:
        """The app's target groups as ECS left them, the one production is on first.

        A blue/green, canary or linear deployment starts the new revision in the group
        production is not on and, once it succeeds, production stays there (ECS Developer
        Guide, "Application Load Balancer resources for blue/green, linear, and canary
        deployments"): after an odd number of them, production is on the stack's alternate
        group. A deploy that named the stack's first group as the service's would start a
        rolling deployment's tasks where no traffic goes, while the old ones drain from the
        group that serves. So the group of the live revision (as ECS resolved it) is sent
        first, and the other as the alternate.
        """
        if not target.alternate_target_group:
            return target
        live = self.services.live_target_group(target.cluster, target.app)
        if live != target.alternate_target_group:
            return target
        name = live.split(":targetgroup/")[-1].split("/")[0]
        self.progress.note("deploy", f"production is on {name}, the app stack's "
                                     "alternate target group (after a blue/green deployment): "
                                     "the service is given that one first")
        return replace(target, target_group=live, alternate_target_group=target.target_group)

    def _until_visible(self, target: AppTarget) -> None:
        """Wait until DescribeServices shows a service just created (it is eventually
        consistent: ECS API Reference, "Eventual consistency"), so that the next command
        updates it rather than creating it again. The deployment was followed through
        DescribeServiceDeployments, which does not tell."""
        try:
            poll_until(lambda: self.services.describe(target.cluster, target.app),
                       lambda state: state is not None,
                       Poll(f"the service {target.app} to show", POLL_SECONDS, VISIBLE_WITHIN,
                            first=1.0, reads=5), self.watch.clock)
        except WaitTimeoutError:
            self.progress.note("deploy", f"WARNING: the deployment completed, but ECS does not "
                                         f"show the service {target.app} yet; wait a minute "
                                         "before the next deploy")

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
        # A new service's first deployment has no old revision to move traffic from, but ECS
        # may still take it through the lifecycle stages and pause at the smoke test's hook
        # (hashicorp/terraform-provider-aws#43434): it is followed, and answered, the same way.
        if strategy != "rolling" and self.stages is not None:
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
            if before is None and outcome.verdict == "completed":
                self._until_visible(target)
        else:
            known = [e.event_id for e in (before.events if before else [])]
            outcome = self.watch.watch(target.cluster, target.app, ours.deployment_id, arn,
                                       timeout, known_events=known)
        return DeployResult(action, target.app, target.url, arn, ours.deployment_id,
                            created=before is None, image=image, outcome=outcome,
                            strategy=strategy)


def _strategy_name(ecs: str) -> Strategy:
    """dockyard's name of an ECS deployment strategy."""
    return next((ours for ours, theirs in ECS_STRATEGY.items() if theirs == ecs), "rolling")
