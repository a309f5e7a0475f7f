"""The Jenkins agent pools: the ECS services ``jenkins-agents`` (untrusted builds) and
``jenkins-agents-trusted`` (trusted builds) of swarm clients that join the controller.
``dockyard jenkins agents`` shows them; ``dockyard jenkins agents N [--trusted]`` resizes one.

A service's desired count is its pool's size; every task is one agent with one executor that
runs one build and is replaced. ``jenkins.agents.count`` and ``trusted_count`` in dockyard.yml
are what ``up`` sets; a resize here lasts until the next ``up``, which the command says.
CloudFormation alone would not undo it (it changes only what changed in the template, and drift
is not corrected), so ``up`` sets the counts itself after the jenkins stack (:func:`converge`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from dockyard.aws.errors import AwsPreconditionError
from dockyard.aws.services import ServiceState
from dockyard.errors import DockyardError, ExitCode
from dockyard.names import AGENT_SERVICE, TRUSTED_AGENT_SERVICE
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
    configured: int  # jenkins.agents.count (or trusted_count)
    service: str = AGENT_SERVICE

    def document(self) -> dict[str, Any]:
        """The pool as ``-o json`` prints it."""
        return {"service": self.service, "desired": self.desired, "running": self.running,
                "pending": self.pending, "configured": self.configured}

    def line(self) -> str:
        """One line for people."""
        kind = "trusted" if self.service == TRUSTED_AGENT_SERVICE else "untrusted"
        text = f"{kind} pool: {self.running} of {self.desired} agents running"
        if self.pending:
            text += f", {self.pending} starting"
        if self.desired != self.configured:
            text += f" (dockyard.yml says {self.configured}; the next `up` sets that)"
        return text


def _pool(state: ServiceState, configured: int, service: str) -> Pool:
    return Pool(desired=state.desired, running=state.running, pending=state.pending,
                configured=configured, service=service)


def describe_pool(services: AgentServiceApi, cluster: str, configured: int,
                  service: str = AGENT_SERVICE) -> Pool:
    """A pool now; refused when the jenkins stack has not created it."""
    return _pool(_service(services, cluster, service), configured, service)


def _service(services: AgentServiceApi, cluster: str, service: str) -> ServiceState:
    state = services.describe(cluster, service) if cluster else None
    if state is None or state.status != "ACTIVE":
        raise AwsPreconditionError(
            f"there is no agent pool: the ECS service {service} does not exist",
            hint="`dockyard up` creates it with the jenkins stack")
    return state


def resize(services: AgentServiceApi, cluster: str, count: int, *, configured: int,
           clock: Clock, progress: Progress, wait: bool = True,
           service: str = AGENT_SERVICE) -> Pool:
    """Set a pool to ``count`` agents and, with ``wait``, return once that many run (or
    time out with exit 124, naming what ECS last said)."""
    before = _service(services, cluster, service)
    if before.desired != count:
        services.update({"cluster": cluster, "service": service, "desiredCount": count})
        progress.note("agents", f"resizing {service} from {before.desired} to {count} agents")
    if not wait:
        return _pool(services.describe(cluster, service) or before, configured, service)
    said: list[str] = []

    def fetch() -> ServiceState:
        state = _service(services, cluster, service)
        line = _pool(state, configured, service).line()
        if not said or said[-1] != line:
            said.append(line)
            progress.note("agents", line)
        return state

    try:
        state = poll_until(fetch, lambda s: s.running == count and s.pending == 0,
                           RESIZE_POLL, clock)
    except WaitTimeoutError:
        latest = _service(services, cluster, service)
        events = "; ".join(e.message for e in latest.events[:3])
        raise DockyardError(
            f"the pool did not reach {count} agents within {RESIZE_POLL.timeout / 60:.0f} minutes "
            f"({latest.running} running, {latest.pending} starting)",
            hint=f"ECS says: {events}" if events else "see `dockyard status`",
            exit_code=ExitCode.TIMEOUT) from None
    return _pool(state, configured, service)


def converge(services: AgentServiceApi, cluster: str, counts: dict[str, int],
             progress: Progress) -> None:
    """Set each pool (by service) back to dockyard.yml's count when a resize changed it
    (``up``, after the jenkins stack); the agents then start or stop on their own."""
    for service, count in counts.items():
        state = services.describe(cluster, service)
        if state is None or state.status != "ACTIVE":
            continue
        # Sent even when the count read agrees: DescribeServices is eventually consistent, and
        # a resize made a moment ago may not show yet. The same count changes nothing.
        services.update({"cluster": cluster, "service": service, "desiredCount": count})
        if state.desired != count:
            progress.note("agents", f"{service} had {state.desired} agents; dockyard.yml says "
                                    f"{count}: resizing")
