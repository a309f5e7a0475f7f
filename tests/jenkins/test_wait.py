"""Waiting for https://jenkins.<domain>/login after the jenkins stack: progress while it starts,
the stopped reasons and the controller's last lines when it does not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dockyard.aws.ecs import TaskState
from dockyard.aws.services import ServiceEvent, ServiceState, TargetState
from dockyard.polling import Poll
from dockyard.stacks.jenkins import JenkinsNotReadyError, JenkinsWait
from tests.fakes import FakeClock, Notes

URL = "https://jenkins.example.com/"


class Services:
    def __init__(self, states: list[ServiceState]) -> None:
        self.states = states
        self.stopped = [TaskState(arn="arn:task/abc123", last_status="STOPPED",
                                  stopped_reason="Task failed ELB health checks in target group")]

    def describe(self, cluster: str, name: str) -> ServiceState | None:
        return self.states.pop(0) if len(self.states) > 1 else self.states[0]

    def stopped_tasks(self, cluster: str, service: str, limit: int = 3) -> list[TaskState]:
        return self.stopped

    def service_tasks(self, cluster: str, service: str, status: str,
                      limit: int = 10) -> list[TaskState]:
        return self.stopped if status == "STOPPED" else []


class Logs:
    """Two streams: the failed task's, and an older one CloudWatch may still call newest."""

    def last_lines(self, group: str, count: int = 20,
                   stream: str | None = None) -> tuple[str, list[str]]:
        if stream is None:  # what DescribeLogStreams' lagging LastEventTime would pick
            return "controller/jenkins/older1", ["INFO: Jenkins is fully up and running"]
        assert stream == "controller/jenkins/abc123"
        return stream, ["SEVERE: ConfiguratorException: Invalid key"]


def state(running: int, rollout: str = "IN_PROGRESS", message: str = "",
          event: str = "e1") -> ServiceState:
    events = [ServiceEvent(event, datetime(2026, 1, 1, tzinfo=UTC), message)] if message else []
    return ServiceState("jenkins", "ACTIVE", 1, running, 1 - running, rollout, "", "td", events)


def waiter(services: Services, statuses: list[int | None],
           notes: Notes) -> JenkinsWait:
    answers = iter(statuses)
    return JenkinsWait(services, Logs(), FakeClock(), notes,
                       probe=lambda url: next(answers), poll=Poll("jenkins", 10, 60))


def test_returns_once_login_answers_200_and_shows_progress() -> None:
    notes = Notes()
    probed: list[str] = []
    services = Services([state(0, message="(service jenkins) has started 1 tasks"),
                         state(1, message="(service jenkins) registered 1 targets", event="e2")])
    w = waiter(services, [None, 503, 200], notes)
    original = w.probe
    def probe(url: str) -> int | None:
        probed.append(url)
        return original(url)

    w.probe = probe
    w.wait(URL, "cluster", "jenkins", "/dockyard/acme/jenkins")
    assert probed == [URL + "login"] * 3
    assert "jenkins service: (service jenkins) has started 1 tasks" in notes
    assert "jenkins service: (service jenkins) registered 1 targets" in notes
    assert any("/login answered 503" in n for n in notes)
    assert notes[-1] == f"Jenkins is up at {URL}"


def test_a_failed_deployment_stops_the_wait_with_its_evidence() -> None:
    notes = Notes()
    w = waiter(Services([state(0, rollout="FAILED")]), [503], notes)
    with pytest.raises(JenkinsNotReadyError, match="the deployment failed"):
        w.wait(URL, "cluster", "jenkins", "/dockyard/acme/jenkins")
    assert "stopped task abc123: Task failed ELB health checks in target group" in notes
    assert "  SEVERE: ConfiguratorException: Invalid key" in notes


def test_no_answer_before_the_deadline_is_a_failure() -> None:
    notes = Notes()
    w = waiter(Services([state(1)]), [403] * 20, notes)
    with pytest.raises(JenkinsNotReadyError, match=r"no 200 from .*login within 60 s"):
        w.wait(URL, "cluster", "jenkins", "/dockyard/acme/jenkins")
    assert any("last lines of controller/jenkins/abc123" in n for n in notes)


class Targets:
    """The load balancer's verdicts, one list per poll (the last one repeats)."""

    def __init__(self, rounds: list[list[TargetState]]) -> None:
        self.rounds = rounds
        self.asked: list[str] = []

    def targets(self, target_group_arn: str) -> list[TargetState]:
        self.asked.append(target_group_arn)
        return self.rounds.pop(0) if len(self.rounds) > 1 else self.rounds[0]


def test_the_wait_says_why_each_reason_once_and_again_only_when_it_changes() -> None:
    notes = Notes()
    initial = TargetState("10.0.1.5:8080", "initial", "Elb.InitialHealthChecking",
                          "Initial health checks in progress")
    unhealthy = TargetState("10.0.1.5:8080", "unhealthy", "Target.ResponseCodeMismatch",
                            "Health checks failed with these codes: [503]")
    targets = Targets([[initial], [initial], [unhealthy], [unhealthy]])
    w = waiter(Services([state(0)]), [None, 503, 503, 503, 200], notes)
    w.targets = targets
    w.wait(URL, "cluster", "jenkins", "/dockyard/acme/jenkins", target_group="arn:tg/jenkins")
    assert targets.asked == ["arn:tg/jenkins"] * 4, "asked while /login does not answer 200"
    said = list(notes)
    assert said.count("target 10.0.1.5:8080 is initial: Elb.InitialHealthChecking (Initial "
                      "health checks in progress)") == 1
    assert said.count("target 10.0.1.5:8080 is unhealthy: Target.ResponseCodeMismatch (Health "
                      "checks failed with these codes: [503])") == 1
    assert said.count("task abc123 stopped: Task failed ELB health checks in target group") == 1
    assert said.count("controller/jenkins/abc123: SEVERE: ConfiguratorException: Invalid "
                      "key") == 1
    # The answer from /login is said when it changes, not every ten seconds.
    assert said.count("/login answered 503; 0 running, 1 pending") == 1
    assert said[-1] == f"Jenkins is up at {URL}"
