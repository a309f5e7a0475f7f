"""Judging the deployment a deploy started, with ECS's answers scripted at the aws/ boundary
(moto does not model rollout states)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from dockyard.aws.ecs import ContainerState, TaskState
from dockyard.aws.services import CompletedDeployment, Deployment, ServiceEvent, ServiceState
from dockyard.deploy.app import AppDeployer
from dockyard.deploy.definition import target_from_outputs
from dockyard.deploy.rollback import NothingToRollBackError
from dockyard.deploy.rollout import RolloutWatch
from dockyard.errors import DockyardError, ExitCode
from tests.conftest import example_config
from tests.deploy.test_definition import APP, BUILDER, IMAGE
from tests.fakes import FakeClock, Notes

TD = "arn:aws:ecs:ap-southeast-2:123456789012:task-definition/acme-web:"
CLUSTER = BUILDER["ClusterArn"]
SERVICE_DEPLOYMENT = "arn:aws:ecs:ap-southeast-2:123456789012:service-deployment/acme/web/"


def deployment(did: str, rev: int, state: str, status: str = "PRIMARY", *, running: int = 0,
               pending: int = 0, failed: int = 0, reason: str = "") -> Deployment:
    return Deployment(did, status, f"{TD}{rev}", desired=2, running=running, pending=pending,
                      failed=failed, rollout_state=state, rollout_reason=reason)


def service(*deployments: Deployment, events: tuple[str, ...] = ()) -> ServiceState:
    primary = next(d for d in deployments if d.status == "PRIMARY")
    return ServiceState("web", "ACTIVE", 2, sum(d.running for d in deployments), 0,
                        rollout_state=primary.rollout_state,
                        task_definition=primary.task_definition,
                        events=[ServiceEvent(e, None, f"(service web) event {e}") for e in events],
                        deployments=list(deployments))


@dataclass
class FakeEcs:
    """ECS for one app: a script of DescribeServices answers, in order (the last repeats)."""

    script: list[ServiceState | None]
    stopped: list[TaskState] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)
    revisions: int = 3
    calls: list[tuple[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)  # UpdateService's

    def describe(self, cluster: str, name: str) -> ServiceState | None:
        self.calls.append(("describe", name))
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    def tasks_of(self, cluster: str, deployment_id: str, status: str,
                 limit: int = 10) -> list[TaskState]:
        self.calls.append(("tasks_of", deployment_id))
        return list(self.stopped)

    def register(self, definition: dict[str, Any]) -> str:
        self.revisions += 1
        self.calls.append(("register", definition["containerDefinitions"][0]["image"]))
        return f"{TD}{self.revisions}"

    def create(self, request: dict[str, Any]) -> ServiceState:
        self.calls.append(("create", request["taskDefinition"]))
        return service(deployment("ecs-svc/new", self.revisions, "IN_PROGRESS"))

    def image_of(self, task_definition: str) -> str:
        return f"repo@sha256:{task_definition[-1]}"

    def service_deployment(self, arn: str) -> None:
        return None  # rolling deployments are judged by DescribeServices here

    def revision_task_definition(self, revision_arn: str) -> str:
        return ""

    def live_target_group(self, cluster: str, service: str) -> str:
        return ""  # a rolling app's stack: one target group

    def update(self, request: dict[str, Any]) -> ServiceState:
        self.calls.append(("update", request["taskDefinition"]))
        self.requests.append(request)
        rev = int(request["taskDefinition"].rsplit(":", 1)[1])
        return service(deployment("ecs-svc/new", rev, "IN_PROGRESS"),
                       deployment("ecs-svc/old", 3, "COMPLETED", "ACTIVE", running=2))

    def completed_deployments(self, cluster: str, service: str) -> list[CompletedDeployment]:
        """``completed`` as ListServiceDeployments has them: newest first, a minute apart."""
        return [CompletedDeployment(f"{SERVICE_DEPLOYMENT}{len(self.completed) - n}", arn,
                                    datetime(2026, 12, 1, 9, 59 - n, tzinfo=UTC))
                for n, arn in enumerate(self.completed)]

    def stop_deployment(self, arn: str) -> None:
        self.calls.append(("stop", arn))


def deployer(ecs: FakeEcs, notes: Notes) -> AppDeployer:
    watch = RolloutWatch(ecs, FakeClock(), notes, interval=5)
    return AppDeployer(example_config(), ecs, watch, notes)


TARGET = target_from_outputs(example_config(), "web", BUILDER, APP)
BEFORE = service(deployment("ecs-svc/old", 3, "COMPLETED", running=2), events=("e0",))


def test_a_completed_deployment_exits_0_with_progress_shown_once() -> None:
    notes = Notes()
    ecs = FakeEcs([BEFORE,
                   service(deployment("ecs-svc/new", 4, "IN_PROGRESS", pending=2),
                           deployment("ecs-svc/old", 3, "COMPLETED", "ACTIVE", running=2),
                           events=("e1", "e0")),
                   service(deployment("ecs-svc/new", 4, "IN_PROGRESS", pending=2),
                           deployment("ecs-svc/old", 3, "COMPLETED", "ACTIVE", running=2),
                           events=("e1", "e0")),
                   service(deployment("ecs-svc/new", 4, "COMPLETED", running=2,
                                      reason="ECS deployment ecs-svc/new completed."),
                           events=("e3", "e2", "e1", "e0"))])
    result = deployer(ecs, notes).deploy(TARGET, IMAGE, {}, wait=True, timeout=900)
    assert result.exit_code == ExitCode.OK
    assert result.outcome is not None and result.outcome.verdict == "completed"
    assert result.task_definition == f"{TD}4" and result.deployment_id == "ecs-svc/new"
    assert ("register", IMAGE) in ecs.calls and ("update", f"{TD}4") in ecs.calls
    events = [n for n in notes if n.startswith("(service web)")]
    assert events == ["(service web) event e1", "(service web) event e2",
                      "(service web) event e3"], "new events once each, oldest first"
    assert [n for n in notes if "running," in n] == ["0/2 running, 2 pending, 0 failed",
                                                     "2/2 running, 0 pending, 0 failed"]


def test_the_first_deploy_creates_the_service() -> None:
    ecs = FakeEcs([None, service(deployment("ecs-svc/new", 4, "COMPLETED", running=2))])
    result = deployer(ecs, Notes()).deploy(TARGET, IMAGE, {}, wait=True, timeout=900)
    assert result.created and result.exit_code == ExitCode.OK
    assert ("create", f"{TD}4") in ecs.calls
    assert not any(call[0] == "update" for call in ecs.calls)


def test_a_rolled_back_deployment_exits_4_although_the_service_is_stable() -> None:
    notes = Notes()
    crashed = TaskState("arn:aws:ecs:task/acme/t1", "STOPPED",
                        stop_code="EssentialContainerExited",
                        stopped_reason="Essential container in task exited",
                        containers=[ContainerState("web", 3, "")])
    ecs = FakeEcs([BEFORE,
                   service(deployment("ecs-svc/new", 4, "IN_PROGRESS", failed=1),
                           deployment("ecs-svc/old", 3, "COMPLETED", "ACTIVE", running=2)),
                   service(deployment("ecs-svc/back", 3, "COMPLETED", running=2),
                           deployment("ecs-svc/new", 4, "FAILED", "ACTIVE", failed=3,
                                      reason="ECS deployment circuit breaker: tasks failed "
                                             "to start."))],
                  stopped=[crashed])
    result = deployer(ecs, notes).deploy(TARGET, IMAGE, {}, wait=True, timeout=900)
    assert result.exit_code == ExitCode.ROLLED_BACK
    assert result.outcome is not None
    assert result.outcome.restored == f"{TD}3"
    assert "circuit breaker" in result.outcome.reason
    stopped = [n for n in notes if n.startswith("task ")]
    assert stopped == ["task t1 stopped: Essential container in task exited; web: exit 3"], \
        "each stopped task once, with its exit code"


def test_a_deployment_that_vanished_while_another_revision_runs_is_a_failure() -> None:
    ecs = FakeEcs([BEFORE, service(deployment("ecs-svc/back", 3, "COMPLETED", running=2))])
    result = deployer(ecs, Notes()).deploy(TARGET, IMAGE, {}, wait=True, timeout=900)
    assert result.exit_code == ExitCode.ROLLED_BACK
    assert result.outcome is not None and result.outcome.restored == f"{TD}3"


def test_a_failure_hidden_by_stale_reads_is_told_from_the_service_event() -> None:
    back = service(deployment("ecs-svc/back", 3, "COMPLETED", running=2))
    back = replace(back, events=[ServiceEvent("e9", None, "(service web) (deployment ecs-svc/new) "
                                                         "deployment failed: tasks failed to "
                                                         "start.")])
    result = deployer(FakeEcs([BEFORE, back]), Notes()).deploy(TARGET, IMAGE, {}, wait=True,
                                                          timeout=900)
    assert result.exit_code == ExitCode.ROLLED_BACK
    assert result.outcome is not None
    assert result.outcome.reason.startswith("deployment failed: tasks failed to start; the "
                                            "deployment is gone")


def test_a_port_the_app_stack_does_not_serve_registers_nothing() -> None:
    ecs = FakeEcs([BEFORE])
    stale = target_from_outputs(example_config(), "web", BUILDER, {**APP, "ContainerPort": "80"})
    with pytest.raises(DockyardError, match="the app stack serves 80"):
        deployer(ecs, Notes()).deploy(stale, IMAGE, {}, wait=True, timeout=900)
    assert ecs.calls == [], "nothing registered, created or updated"


def test_still_rolling_at_the_deadline_exits_124_after_polling_until_then() -> None:
    ecs = FakeEcs([BEFORE, service(deployment("ecs-svc/new", 4, "IN_PROGRESS", pending=2))])
    clock = FakeClock()
    watch = RolloutWatch(ecs, clock, Notes(), interval=5)
    result = AppDeployer(example_config(), ecs, watch, Notes()).deploy(
        TARGET, IMAGE, {}, wait=True, timeout=60)
    assert result.exit_code == ExitCode.TIMEOUT
    assert result.outcome is not None and "IN_PROGRESS" in result.outcome.reason
    assert sum(clock.sleeps) == pytest.approx(60)


def test_no_wait_returns_once_the_deployment_started() -> None:
    ecs = FakeEcs([BEFORE])
    result = deployer(ecs, Notes()).deploy(TARGET, IMAGE, {}, wait=False, timeout=900)
    assert result.outcome is None and result.exit_code == ExitCode.OK
    assert result.deployment_id == "ecs-svc/new"
    assert [c for c in ecs.calls if c[0] == "describe"] == [("describe", "web")]


def test_rollback_goes_to_the_last_completed_deployment_not_the_previous_revision() -> None:
    # Revision 5 runs; 4 was registered but its deployment failed; 3 completed before.
    current = service(deployment("ecs-svc/five", 5, "COMPLETED", running=2))
    ecs = FakeEcs([current, service(deployment("ecs-svc/new", 3, "COMPLETED", running=2))],
                  completed=[f"{TD}5", f"{TD}3", f"{TD}2"])
    result = deployer(ecs, Notes()).rollback(TARGET, wait=True, timeout=900)
    assert ("update", f"{TD}3") in ecs.calls
    assert result.exit_code == ExitCode.OK and result.action == "rollback"


def test_rollback_with_nothing_completed_before_is_exit_3_and_changes_nothing() -> None:
    ecs = FakeEcs([service(deployment("ecs-svc/one", 1, "COMPLETED", running=2))],
                  completed=[f"{TD}1"])
    with pytest.raises(NothingToRollBackError, match="nothing to roll back to") as raised:
        deployer(ecs, Notes()).rollback(TARGET, wait=True, timeout=900)
    assert raised.value.exit_code == ExitCode.AWS_PRECONDITION
    assert not any(c[0] == "update" for c in ecs.calls)


def test_rollback_of_an_app_never_deployed_is_exit_3() -> None:
    ecs = FakeEcs([None])
    with pytest.raises(Exception, match="web is not deployed") as raised:
        deployer(ecs, Notes()).rollback(TARGET, wait=True, timeout=900)
    assert getattr(raised.value, "exit_code", None) == ExitCode.AWS_PRECONDITION


def test_a_stale_describe_after_update_is_no_verdict() -> None:
    # ECS answers with the deployments from before UpdateService twice, then the truth.
    ecs = FakeEcs([BEFORE, BEFORE, BEFORE,
                   service(deployment("ecs-svc/new", 4, "COMPLETED", running=2))])
    result = deployer(ecs, Notes()).deploy(TARGET, IMAGE, {}, wait=True, timeout=900)
    assert result.exit_code == ExitCode.OK, result.outcome
    assert result.outcome is not None and result.outcome.verdict == "completed"


def test_a_service_not_visible_yet_after_create_is_waited_for() -> None:
    ecs = FakeEcs([None, None, None,
                   service(deployment("ecs-svc/new", 4, "COMPLETED", running=2))])
    result = deployer(ecs, Notes()).deploy(TARGET, IMAGE, {}, wait=True, timeout=900)
    assert result.created and result.exit_code == ExitCode.OK, result.outcome


def test_a_deploy_while_another_is_under_way_is_refused_before_anything_registers() -> None:
    from dockyard.aws.errors import AwsPreconditionError

    under_way = service(deployment("ecs-svc/other", 4, "IN_PROGRESS", pending=2),
                        deployment("ecs-svc/old", 3, "COMPLETED", "ACTIVE", running=2))
    ecs = FakeEcs([under_way])
    with pytest.raises(AwsPreconditionError) as refused:
        deployer(ecs, Notes()).deploy(TARGET, IMAGE, {}, wait=True, timeout=900)
    assert refused.value.message == ("web has a deployment under way (ecs-svc/other of "
                                     "acme-web:4); a second one would stop it")
    assert [c for c in ecs.calls if c[0] != "describe"] == [], "nothing registered or updated"


def test_a_deployment_a_later_one_replaced_is_superseded_exit_1() -> None:
    replaced = service(deployment("ecs-svc/later", 6, "IN_PROGRESS", pending=2),
                       deployment("ecs-svc/new", 4, "IN_PROGRESS", "ACTIVE"))
    ecs = FakeEcs([BEFORE, replaced])
    result = deployer(ecs, Notes()).deploy(TARGET, IMAGE, {}, wait=True, timeout=900)
    assert result.outcome is not None and result.outcome.verdict == "superseded"
    assert result.exit_code == ExitCode.FAILED
    assert result.outcome.reason == ("superseded by deployment ecs-svc/later of acme-web:6, "
                                     "which another deploy started")
