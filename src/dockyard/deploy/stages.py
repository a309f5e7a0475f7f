"""Following a blue-green, canary or linear deployment stage by stage.

ECS runs these strategies itself (ECS Developer Guide, "Amazon ECS blue/green deployments",
"linear deployments", "canary deployments"): it starts the new revision beside the old one
behind the alternate target group, moves test traffic, then production traffic (at once, a
canary share first, or in steps), bakes, and cleans up. DescribeServiceDeployments says which
lifecycle stage the deployment is in, how much traffic the new revision has, and, once it is
over, whether it succeeded or was rolled back and why (an alarm, the circuit breaker, a hook).

A smoke test is a PAUSE hook at POST_TEST_TRAFFIC_SHIFT: when the deployment waits there,
dockyard runs the test and answers with ContinueServiceDeployment, CONTINUE or ROLLBACK.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol

from dockyard.aws.services import ServiceDeployment, ServiceState
from dockyard.deploy.rollout import VISIBLE_READS, VISIBLE_WITHIN, RolloutOutcome
from dockyard.errors import Cancelled, DockyardError
from dockyard.names import short_arn
from dockyard.polling import Clock, Poll, WaitTimeoutError, poll_until
from dockyard.progress import DeploymentEvent, Progress

POLL_SECONDS = 5.0

STAGES = {
    "RECONCILE_SERVICE": "reconciling the service's revisions",
    "PRE_SCALE_UP": "about to start the new revision",
    "SCALE_UP": "starting the new revision's tasks",
    "POST_SCALE_UP": "the new revision runs; production traffic is on the old one",
    "TEST_TRAFFIC_SHIFT": "moving test traffic to the new revision",
    "POST_TEST_TRAFFIC_SHIFT": "test traffic reaches the new revision",
    "PRODUCTION_TRAFFIC_SHIFT": "moving production traffic to the new revision",
    "POST_PRODUCTION_TRAFFIC_SHIFT": "all production traffic is on the new revision",
    "BAKE_TIME": "baking: the old revision stays up for an instant rollback",
    "CLEAN_UP": "stopping the old revision",
}

SmokeTest = Callable[[], tuple[bool, str]]
"""Runs the smoke test once: (passed, what happened, like "`curl ...` exited 7")."""


class StageApi(Protocol):
    """What following a progressive deployment calls (``dockyard.aws.services.Services``)."""

    def describe(self, cluster: str, name: str) -> ServiceState | None: ...
    def service_deployment(self, arn: str) -> ServiceDeployment | None: ...
    def continue_deployment(self, arn: str, hook_id: str, action: str) -> None: ...
    def stop_deployment(self, arn: str) -> None: ...


@dataclass(frozen=True)
class Seen:
    """What following one deployment has reported of it so far."""

    stage: str = ""
    weight: float | None = None  # % of production traffic on the new revision
    status: str = ""
    hooks: tuple[tuple[str, str], ...] = ()  # (hook id, status)


@dataclass
class StageWatch:
    """Polls one service deployment to its end, reporting each stage and traffic shift, and
    running the smoke test where the deployment pauses for it."""

    services: StageApi
    clock: Clock
    progress: Progress
    interval: float = POLL_SECONDS
    _seen: Seen = field(default_factory=Seen)
    _app: str = ""
    _answered: set[str] = field(default_factory=set)
    _smoke_failure: str = ""

    def watch(self, cluster: str, service: str, deployment_id: str, task_definition: str,
              timeout: float, *, deployment_arn: str, previous_arn: str = "",
              smoke: SmokeTest | None = None) -> RolloutOutcome:
        """Wait up to ``timeout`` seconds for the deployment ``deployment_arn`` (or, when the
        UpdateService answer did not name it, the service's next one after
        ``previous_arn``)."""
        started = self.clock.now()
        self._app = service
        arn = [deployment_arn]
        last: list[ServiceDeployment | None] = [None]
        changed = RolloutOutcome("timed_out", "", "")  # a stage or the traffic moved

        reads = [0]

        def fetch() -> RolloutOutcome | None:
            reads[0] += 1
            visible = last[0] is not None or (self.clock.now() - started >= VISIBLE_WITHIN and
                                              reads[0] >= VISIBLE_READS)
            if not arn[0]:
                state = self.services.describe(cluster, service)
                if state and state.current_deployment and \
                        state.current_deployment != previous_arn:
                    arn[0] = state.current_deployment
                elif visible:
                    raise DockyardError(f"ECS shows no new deployment of {service}",
                                        hint=f"dockyard status {service}")
                else:
                    return None
            current = self.services.service_deployment(arn[0])
            if current is None:
                if visible:
                    raise DockyardError(f"the deployment {short_arn(arn[0])} of {service} is "
                                        "gone", hint=f"dockyard status {service}")
                return None
            last[0] = current
            moved = self._report(current)
            for hook in current.paused:
                if hook.hook_id not in self._answered:
                    self._answer(arn[0], hook.hook_id, smoke)
                    moved = True
            if not current.finished:
                return changed if moved else None
            return self._judge(cluster, service, current, deployment_id, task_definition)

        deadline = started + timeout
        try:
            while True:  # after each change, ask again soon: one stage often follows another
                outcome = poll_until(fetch, lambda o: o is not None,
                                     Poll(f"deployment of {service}", self.interval,
                                          max(0.0, deadline - self.clock.now()),
                                          first=min(1.0, self.interval)), self.clock)
                if outcome is not changed:
                    break
        except WaitTimeoutError:
            stage, status = self._seen.stage, self._seen.status
            where = STAGES.get(stage, status.lower() or "not started")
            return RolloutOutcome("timed_out", deployment_id, task_definition,
                                  reason=f"still in {stage or 'progress'} ({where}) after "
                                         f"{timeout / 60:g} min")
        except KeyboardInterrupt:
            if smoke is None or self._answered or not arn[0]:
                raise
            self._stop_before_smoke(arn[0], service)
        assert outcome is not None
        return outcome

    def _stop_before_smoke(self, arn: str, service: str) -> None:
        """Cancelled before the smoke test ran: the deployment would pause at its hook with
        nobody to answer and wait out the timeout. It is rolled back now instead; when ECS
        will not stop it, the cancel is reported as it was."""
        try:
            self.services.stop_deployment(arn)
        except DockyardError:
            raise KeyboardInterrupt from None
        raise Cancelled(f"stopped before {service}'s smoke test ran; asked ECS to roll the "
                        "deployment back (StopServiceDeployment): production stays on the old "
                        "revision, nothing is left paused",
                        hint=f"dockyard status {service} --wait follows the rollback")

    def _report(self, current: ServiceDeployment) -> bool:
        """Report what changed since the last look; whether anything did."""
        self._seen, events = observe(self._seen, current, self._app,
                                     smoke_failure=self._smoke_failure)
        for event in events:
            self.progress.deployment(event)
        return bool(events)

    def _answer(self, arn: str, hook_id: str, smoke: SmokeTest | None) -> None:
        self._answered.add(hook_id)
        if smoke is None:
            self.progress.note("deploy", "the deployment is paused at a hook dockyard did not "
                                         "set; it waits for `aws ecs continue-service-deployment`")
            return
        self.progress.note("deploy", "smoke test: running it against the test endpoint")
        try:
            passed, what = smoke()
        except Cancelled as stopped:
            # Ctrl-C or SIGTERM stopped the smoke task: nothing is left paused for ECS's
            # timeout; the untested revision never gets production traffic.
            self._continue(arn, hook_id, "ROLLBACK")
            raise Cancelled(f"{stopped.message}; answered the hook ROLLBACK: ECS moves test "
                            "traffic back and production stays on the old revision",
                            hint=stopped.hint) from None
        except DockyardError as err:
            passed, what = False, f"it could not run: {err.message}"
        if passed:
            self.progress.note("deploy", f"smoke test passed ({what}); continuing")
            self._continue(arn, hook_id, "CONTINUE")
            return
        self._smoke_failure = f"smoke test failed: {what}"
        self.progress.note("deploy", f"{self._smoke_failure}; rolling back")
        self._continue(arn, hook_id, "ROLLBACK")

    def _continue(self, arn: str, hook_id: str, action: str) -> None:
        """Answer the hook. An answer whose reply was lost may have reached ECS all the same
        (and the SDK's retry is then refused: the hook no longer awaits action): the
        deployment is read back, and a hook that is no longer paused was answered."""
        try:
            self.services.continue_deployment(arn, hook_id, action)
        except DockyardError as err:
            current = self.services.service_deployment(arn)
            if current is None or any(h.hook_id == hook_id for h in current.paused):
                raise
            self.progress.note("deploy", f"the answer {action} reached ECS (its reply was "
                                         f"lost: {err.message}); the deployment goes on")

    def _judge(self, cluster: str, service: str, current: ServiceDeployment,
               deployment_id: str, task_definition: str) -> RolloutOutcome:
        if current.status == "SUCCESSFUL":
            return RolloutOutcome("completed", deployment_id, task_definition,
                                  reason=f"{current.stage or 'deployment'} done, all traffic on "
                                         f"{short_arn(task_definition)}")
        if current.status == "STOPPED":  # a later deployment replaced it
            return RolloutOutcome("superseded", deployment_id, task_definition,
                                  reason=current.reason or "stopped: another deployment of "
                                                           f"{service} replaced it")
        state = self.services.describe(cluster, service)
        # A first deployment that failed has nothing to go back to: the service shows it.
        restored = state.task_definition if state and \
            state.task_definition != task_definition else ""
        return RolloutOutcome("failed", deployment_id, task_definition,
                              reason=_why(current, self._smoke_failure), restored=restored)


def observe(seen: Seen, current: ServiceDeployment, app: str, *,
            smoke_failure: str = "") -> tuple[Seen, list[DeploymentEvent]]:
    """The events between what was ``seen`` of a deployment and how it is now (``current``,
    one DescribeServiceDeployments read), and what is then seen: a new stage, production
    traffic moved (not the 0% it starts at), a PAUSE hook that appeared or changed status, a
    rollback. A pure step: the follower calls it once per read."""
    base = DeploymentEvent("stage", app, current.arn, current.revision, current.stage,
                           production_percent=current.production_weight,
                           test_percent=current.test_weight, status=current.status)
    events: list[DeploymentEvent] = []
    stage = seen.stage
    if current.stage and current.stage != seen.stage:
        stage = current.stage
        events.append(replace(base, description=STAGES.get(stage, "")))
    weight, moved = seen.weight, current.production_weight
    if moved is not None and moved != seen.weight and (seen.weight is not None or moved > 0):
        weight = moved
        events.append(replace(base, kind="traffic"))
    elif seen.weight is None and moved is not None:
        weight = moved
    hooks = dict(seen.hooks)
    for hook_id, status in current.hooks:
        if hooks.get(hook_id) != status:
            hooks[hook_id] = status
            events.append(replace(base, kind="hook", hook_id=hook_id, hook_status=status))
    if current.status != seen.status and current.status.startswith("ROLLBACK"):
        events.append(replace(base, kind="status", reason=_why(current, smoke_failure)))
    return Seen(stage, weight, current.status or seen.status, tuple(sorted(hooks.items()))), \
        events


def _why(current: ServiceDeployment, smoke_failure: str) -> str:
    """Why a deployment was rolled back or stopped: the smoke test, an alarm, the circuit
    breaker or a hook, as far as ECS and dockyard know."""
    if smoke_failure:
        return smoke_failure
    if current.triggered_alarms:
        return f"alarm(s) {', '.join(current.triggered_alarms)} in ALARM state"
    reason = current.rollback_reason or current.reason
    return reason or f"the deployment ended {current.status}"
