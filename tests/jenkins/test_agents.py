"""The agent pool (jenkins/agents.py): shown and resized through ECS's service, waiting until
the agents run, timing out with what ECS said."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from dockyard.aws.errors import AwsPreconditionError
from dockyard.aws.services import ServiceEvent, ServiceState
from dockyard.errors import DockyardError, ExitCode
from dockyard.jenkins.agents import converge, describe_pool, resize
from tests.fakes import FakeClock, Notes

CLUSTER = "arn:aws:ecs:ap-southeast-2:123456789012:cluster/acme"


@dataclass
class Pool:
    """ECS's agent service: each describe moves one task toward the desired count, unless
    ``stuck`` (Spot has no capacity: tasks stay pending)."""

    desired: int = 2
    running: int = 2
    stuck: bool = False
    exists: bool = True
    updates: list[dict[str, Any]] = field(default_factory=list)

    def describe(self, cluster: str, name: str) -> ServiceState | None:
        assert (cluster, name) == (CLUSTER, "jenkins-agents")
        if not self.exists:
            return None
        if not self.stuck and self.running != self.desired:
            self.running += 1 if self.running < self.desired else -1
        pending = max(self.desired - self.running, 0)
        events = [ServiceEvent("e1", None, "(service jenkins-agents) was unable to place a task "
                               "because no container instance met all of its requirements")]
        return ServiceState(name=name, status="ACTIVE", desired=self.desired,
                            running=self.running, pending=pending,
                            events=events if self.stuck else [])

    def update(self, request: dict[str, Any]) -> ServiceState:
        self.updates.append(request)
        self.desired = request["desiredCount"]
        state = self.describe(CLUSTER, "jenkins-agents")
        assert state is not None
        return state


def test_resizing_waits_until_the_agents_run_and_says_each_change() -> None:
    pool, notes = Pool(), Notes()
    result = resize(pool, CLUSTER, 5, configured=2, clock=FakeClock(), progress=notes)
    assert pool.updates == [{"cluster": CLUSTER, "service": "jenkins-agents", "desiredCount": 5}]
    assert (result.desired, result.running, result.pending) == (5, 5, 0)
    assert notes[0] == "resizing jenkins-agents from 2 to 5 agents"
    assert notes[-1] == ("untrusted pool: 5 of 5 agents running (dockyard.yml says 2; the next "
                         "`up` sets that)")
    assert len(notes) == len(set(notes)), "each state said once"
    assert result.document() == {"service": "jenkins-agents", "desired": 5, "running": 5,
                                 "pending": 0, "configured": 2}


def test_zero_agents_is_a_pool_too() -> None:
    pool = Pool()
    result = resize(pool, CLUSTER, 0, configured=0, clock=FakeClock(), progress=Notes())
    assert (result.desired, result.running) == (0, 0)
    assert result.line() == "untrusted pool: 0 of 0 agents running"


def test_the_same_size_changes_nothing() -> None:
    pool = Pool()
    result = resize(pool, CLUSTER, 2, configured=2, clock=FakeClock(), progress=Notes())
    assert pool.updates == [] and result.running == 2


def test_agents_that_never_start_time_out_with_what_ecs_said() -> None:
    pool = Pool(stuck=True)
    with pytest.raises(DockyardError) as failed:
        resize(pool, CLUSTER, 4, configured=2, clock=FakeClock(), progress=Notes())
    assert failed.value.exit_code == ExitCode.TIMEOUT
    assert "did not reach 4 agents within 10 minutes (2 running, 2 starting)" \
        in failed.value.message
    assert failed.value.hint is not None and "unable to place a task" in failed.value.hint


def test_no_pool_before_up() -> None:
    with pytest.raises(AwsPreconditionError) as refused:
        describe_pool(Pool(exists=False), CLUSTER, 2)
    assert "ECS service jenkins-agents does not exist" in refused.value.message
    assert refused.value.hint == "`dockyard up` creates it with the jenkins stack"


def test_up_sets_the_pool_back_to_the_configured_count() -> None:
    pool, notes = Pool(desired=0, running=0), Notes()
    converge(pool, CLUSTER, {"jenkins-agents": 2}, notes)
    assert pool.updates == [{"cluster": CLUSTER, "service": "jenkins-agents", "desiredCount": 2}]
    assert notes == ["jenkins-agents had 0 agents; dockyard.yml says 2: resizing"]
    converge(pool, CLUSTER, {"jenkins-agents": 2}, notes)
    assert len(pool.updates) == 2 and len(notes) == 1, \
        "the count is sent again (a resize may not show yet), and said only when it differs"
    # before the first up: nothing to set
    converge(Pool(exists=False), CLUSTER, {"jenkins-agents": 2}, notes)
