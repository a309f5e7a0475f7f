"""Waiting on the deployment a deploy started, and judging it by its own rollout state.

A service whose deployment failed and was rolled back by the circuit breaker is "stable"
again, which is why tools that wait for stability report success. Here the verdict comes
from the deployment this deploy created (its id, from the UpdateService answer):
COMPLETED is success, FAILED is a rollback, and a deployment that left the list while the
service runs another task definition was rolled back too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from dockyard.aws.ecs import TaskState
from dockyard.aws.services import Deployment, ServiceState
from dockyard.errors import DockyardError
from dockyard.names import short_arn
from dockyard.polling import Clock, Poll, WaitTimeoutError, poll_until
from dockyard.progress import Progress

# "unchanged": a rollback found the service already rolled back, and started nothing.
Verdict = Literal["completed", "failed", "timed_out", "superseded", "unchanged"]
POLL_SECONDS = 5.0
# DescribeServices is eventually consistent: right after CreateService or UpdateService it may
# not show the service, or show it with the deployments it had before (ECS API Reference,
# "Eventual consistency"). Until the deployment has been seen, its absence means nothing, for
# this long and this many reads (over a slow link a few reads may all come back stale).
VISIBLE_WITHIN = 120.0
VISIBLE_READS = 5


class ServiceReader(Protocol):
    """What watching a deployment reads (``dockyard.aws.services.Services``, or a fake)."""

    def describe(self, cluster: str, name: str) -> ServiceState | None: ...
    def tasks_of(self, cluster: str, deployment_id: str, status: str,
                 limit: int = 10) -> list[TaskState]: ...


@dataclass(frozen=True)
class RolloutOutcome:
    """How the deployment ended (or where it stood at the deadline)."""

    verdict: Verdict
    deployment_id: str
    task_definition: str
    reason: str = ""
    restored: str = ""  # the task definition the service went back to, when known
    last: Deployment | None = None


@dataclass
class RolloutWatch:
    """Polls the service until the deployment completes or fails, reporting as it goes:
    running / pending / failed counts, new service events, and why tasks stopped."""

    services: ServiceReader
    clock: Clock
    progress: Progress
    interval: float = POLL_SECONDS
    _events: set[str] = field(default_factory=set)
    _stopped: set[str] = field(default_factory=set)
    _counts: tuple[int, int, int, int] | None = None

    def watch(self, cluster: str, service: str, deployment_id: str, task_definition: str,
              timeout: float, *, known_events: list[str] | None = None) -> RolloutOutcome:
        """Wait up to ``timeout`` seconds. ``known_events`` are event ids that predate the
        deploy (they are not shown again)."""
        self._events = set(known_events or [])
        last: list[Deployment | None] = [None]
        started = self.clock.now()

        reads = [0]

        def fetch() -> RolloutOutcome | None:
            state = self.services.describe(cluster, service)
            reads[0] += 1
            visible = last[0] is not None or (self.clock.now() - started >= VISIBLE_WITHIN and
                                              reads[0] >= VISIBLE_READS)
            if state is None:
                if not visible:
                    return None
                raise DockyardError(f"the service {service} was deleted during the deployment")
            self._show_events(service, state)
            ours = state.deployment(deployment_id)
            if ours is not None:
                last[0] = ours
                self._show_counts(ours)
                if ours.failed or ours.rollout_state == "FAILED":
                    self._show_stopped(cluster, deployment_id)
                return self._judge(state, ours, deployment_id, task_definition)
            if not visible:
                return None
            return self._judge_gone(state, deployment_id, task_definition, last[0])

        try:
            outcome = poll_until(fetch, lambda o: o is not None,
                                 Poll(f"deployment {deployment_id}", self.interval, timeout,
                                      first=min(1.0, self.interval)),
                                 self.clock)
        except WaitTimeoutError:
            current = last[0]
            state = current.rollout_state if current else "unknown"
            return RolloutOutcome("timed_out", deployment_id, task_definition,
                           reason=f"still {state} after {_duration(timeout)}", last=current)
        assert outcome is not None
        return outcome

    def _judge(self, state: ServiceState, ours: Deployment, deployment_id: str,
               task_definition: str) -> RolloutOutcome | None:
        if ours.rollout_state == "COMPLETED":
            return RolloutOutcome("completed", deployment_id, task_definition,
                           reason=ours.rollout_reason, last=ours)
        primary = state.primary
        if ours.rollout_state == "IN_PROGRESS" and primary is not None and \
                primary.deployment_id != deployment_id and \
                primary.task_definition != task_definition:
            # A later UpdateService started another deployment: ECS replaces this one.
            return RolloutOutcome("superseded", deployment_id, task_definition,
                                  reason=f"superseded by deployment {primary.deployment_id} of "
                                         f"{short_arn(primary.task_definition)}, which another "
                                         "deploy started", last=ours)
        if ours.rollout_state == "FAILED":
            restored = primary.task_definition if primary and \
                primary.deployment_id != deployment_id else ""
            return RolloutOutcome("failed", deployment_id, task_definition,
                                  reason=ours.rollout_reason, restored=restored, last=ours)
        return None

    def _judge_gone(self, state: ServiceState, deployment_id: str, task_definition: str,
                    last: Deployment | None) -> RolloutOutcome:
        primary = state.primary
        if primary is not None and primary.task_definition == task_definition and \
                primary.rollout_state == "COMPLETED":
            return RolloutOutcome("completed", deployment_id, task_definition,
                           reason="completed (the service replaced the deployment record)",
                           last=last)
        running = primary.task_definition if primary else state.task_definition
        # Reads lag (eventual consistency): the record may have been replaced by the rollback
        # before a read showed it FAILED. ECS's service event still says why.
        failed = f"(deployment {deployment_id}) deployment failed: "
        why = next((e.message.split(failed, 1)[1] for e in state.events if failed in e.message),
                   "")
        reason = f"deployment failed: {why.rstrip('.')}; " if why else ""
        return RolloutOutcome("failed", deployment_id, task_definition,
                       reason=f"{reason}the deployment is gone and the service runs "
                              f"{short_arn(running)}",
                       restored=running, last=last)

    def _show_events(self, service: str, state: ServiceState) -> None:
        fresh = [e for e in state.events if e.event_id not in self._events]
        for event in reversed(fresh[:10]):  # newest first from ECS; show oldest first
            self.progress.note("deploy", event.message)
        self._events.update(e.event_id for e in state.events)

    def _show_counts(self, ours: Deployment) -> None:
        counts = (ours.running, ours.pending, ours.failed, ours.desired)
        if counts != self._counts:
            self._counts = counts
            self.progress.note("deploy", f"{ours.running}/{ours.desired} running, "
                                         f"{ours.pending} pending, {ours.failed} failed")

    def _show_stopped(self, cluster: str, deployment_id: str) -> None:
        for task in self.services.tasks_of(cluster, deployment_id, "STOPPED", limit=5):
            if task.arn in self._stopped:
                continue
            self._stopped.add(task.arn)
            self.progress.note("deploy", f"task {task.task_id} stopped: {stop_reason(task)}")


def stop_reason(task: TaskState) -> str:
    """Why a task stopped, with its containers' exit codes and reasons."""
    parts = [task.stopped_reason or task.stop_code or "no reason given"]
    for c in task.containers:
        if c.exit_code not in (None, 0) or c.reason:
            detail = f"exit {c.exit_code}" if c.exit_code is not None else ""
            parts.append(f"{c.name}: " + ", ".join(x for x in (detail, c.reason) if x))
    return "; ".join(parts)



def _duration(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"
