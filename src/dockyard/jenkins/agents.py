"""The Jenkins agent pool: the ECS service ``jenkins-agents`` of swarm clients that join the
controller. ``dockyard jenkins agents`` shows it; ``dockyard jenkins agents N`` resizes it.

The service's desired count is the pool's size; every task is one agent with one executor.
``jenkins.agents.count`` in dockyard.yml is what ``up`` sets; a resize here lasts until the next
``up``, which the command says. CloudFormation alone would not undo it (it changes only what
changed in the template, and drift is not corrected), so ``up`` sets the count itself after
the jenkins stack (:func:`converge`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from dockyard.aws.errors import AwsPreconditionError
from dockyard.aws.services import ServiceState
from dockyard.errors import DockyardError, ExitCode
from dockyard.names import AGENT_SERVICE
from dockyard.polling import Clock, Poll, WaitTimeoutError, poll_until
from dockyard.progress import Progress

RESIZE_POLL = Poll("the agents to start or stop", interval=10, timeout=600, first=2)


class AgentServiceApi(Protocol):
    """The ECS service calls the pool needs (``dockyard.aws.services.Services``, or a fake)."""

    def describe(self, cluster: str, name: str) -> ServiceState | None: ...
    def update(self, request: dict[str, Any]) -> ServiceState: ...


@dataclass(frozen=True)
class Pool:
    """The agent pool as ECS reports it."""

    desired: int
    running: int
    pending: int
    configured: int  # jenkins.agents.count

    def document(self) -> dict[str, Any]:
        """The pool as ``-o json`` prints it."""
        return {"service": AGENT_SERVICE, "desired": self.desired, "running": self.running,
                "pending": self.pending, "configured": self.configured}

    def line(self) -> str:
        """One line for people."""
        text = f"{self.running} of {self.desired} agents running"
        if self.pending:
            text += f", {self.pending} starting"
        if self.desired != self.configured:
            text += f" (dockyard.yml says {self.configured}; the next `up` sets that)"
        return text


def _pool(state: ServiceState, configured: int) -> Pool:
    return Pool(desired=state.desired, running=state.running, pending=state.pending,
                configured=configured)


def describe_pool(services: AgentServiceApi, cluster: str, configured: int) -> Pool:
    """The pool now; refused when the jenkins stack has not created it."""
    return _pool(_service(services, cluster), configured)


def _service(services: AgentServiceApi, cluster: str) -> ServiceState:
    state = services.describe(cluster, AGENT_SERVICE) if cluster else None
    if state is None or state.status != "ACTIVE":
        raise AwsPreconditionError(
            f"there is no agent pool: the ECS service {AGENT_SERVICE} does not exist",
            hint="`dockyard up` creates it with the jenkins stack")
    return state


def resize(services: AgentServiceApi, cluster: str, count: int, *, configured: int,
           clock: Clock, progress: Progress, wait: bool = True) -> Pool:
    """Set the pool to ``count`` agents and, with ``wait``, return once that many run (or
    time out with exit 124, naming what ECS last said)."""
    before = _service(services, cluster)
    if before.desired != count:
        services.update({"cluster": cluster, "service": AGENT_SERVICE, "desiredCount": count})
        progress.note("agents", f"resizing the pool from {before.desired} to {count} agents")
    if not wait:
        return _pool(services.describe(cluster, AGENT_SERVICE) or before, configured)
    said: list[str] = []

    def fetch() -> ServiceState:
        state = _service(services, cluster)
        line = _pool(state, configured).line()
        if not said or said[-1] != line:
            said.append(line)
            progress.note("agents", line)
        return state

    try:
        state = poll_until(fetch, lambda s: s.running == count and s.pending == 0,
                           RESIZE_POLL, clock)
    except WaitTimeoutError:
        latest = _service(services, cluster)
        events = "; ".join(e.message for e in latest.events[:3])
        raise DockyardError(
            f"the pool did not reach {count} agents within {RESIZE_POLL.timeout / 60:.0f} minutes "
            f"({latest.running} running, {latest.pending} starting)",
            hint=f"ECS says: {events}" if events else "see `dockyard status`",
            exit_code=ExitCode.TIMEOUT) from None
    return _pool(state, configured)


def converge(services: AgentServiceApi, cluster: str, count: int, progress: Progress) -> None:
    """Set the pool back to dockyard.yml's count when a resize changed it (``up``, after the
    jenkins stack); the agents then start or stop on their own."""
    state = services.describe(cluster, AGENT_SERVICE)
    if state is None or state.status != "ACTIVE" or state.desired == count:
        return
    services.update({"cluster": cluster, "service": AGENT_SERVICE, "desiredCount": count})
    progress.note("agents", f"the pool had {state.desired} agents; dockyard.yml says {count}: "
                            "resizing")
