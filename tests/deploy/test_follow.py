"""``status APP --wait``: a deployment left running is followed to its verdict by ECS's own
record of it (the service deployment), whatever PRIMARY shows meanwhile."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from dockyard.aws.services import ServiceDeployment
from dockyard.deploy.app import AppDeployer
from dockyard.deploy.rollout import RolloutWatch
from dockyard.deploy.stages import StageWatch
from dockyard.errors import ExitCode
from tests.conftest import example_config
from tests.deploy.test_rollout import TARGET, FakeEcs, deployment, service
from tests.fakes import FakeClock, Notes

ARN = "arn:aws:ecs:ap-southeast-2:123456789012:service-deployment/acme/web/7"
REVISION = "arn:aws:ecs:ap-southeast-2:123456789012:service-revision/acme/web/7"
TD = "arn:aws:ecs:ap-southeast-2:123456789012:task-definition/acme-web:"


@dataclass
class FollowedEcs(FakeEcs):
    """The service and its deployment record, scripted: each read of the record takes the
    next of ``records`` (the last repeats)."""

    records: list[ServiceDeployment] = field(default_factory=list)

    def service_deployment(self, arn: str) -> ServiceDeployment | None:  # type: ignore[override]
        self.calls.append(("service_deployment", arn))
        return self.records.pop(0) if len(self.records) > 1 else self.records[0]

    def revision_task_definition(self, revision_arn: str) -> str:
        return f"{TD}4" if revision_arn == REVISION else ""

    def live_target_group(self, cluster: str, service: str) -> str:
        return ""  # a rolling app's stack: one target group

    def continue_deployment(self, arn: str, hook_id: str, action: str) -> None:
        self.calls.append(("continue", action))

    def stop_deployment(self, arn: str) -> None:
        self.calls.append(("stop", arn))


def _follower(ecs: FollowedEcs, notes: Notes) -> AppDeployer:
    clock = FakeClock()
    return AppDeployer(example_config(), ecs, RolloutWatch(ecs, clock, notes), notes,
                       stages=StageWatch(ecs, clock, notes))


def test_a_rolling_deploy_the_circuit_breaker_rolls_back_is_a_failure_not_its_rollback(
        ) -> None:
    # PRIMARY is the circuit breaker's rollback to revision 3, itself rolling out; ECS's record
    # of the deployment of revision 4 says what happened.
    rolling_back = replace(service(deployment("ecs-svc/back", 3, "IN_PROGRESS"),
                                   deployment("ecs-svc/new", 4, "FAILED", "ACTIVE")),
                           current_deployment=ARN)
    done = replace(service(deployment("ecs-svc/back", 3, "COMPLETED", running=2)),
                   current_deployment=ARN)
    record = ServiceDeployment(ARN, "ROLLBACK_IN_PROGRESS", strategy="ROLLING",
                               revision=REVISION, reason="tasks failed to start")
    ecs = FollowedEcs([rolling_back, rolling_back, done],
                      records=[record, record, replace(record, status="ROLLBACK_SUCCESSFUL")])
    notes = Notes()
    result = _follower(ecs, notes).follow(TARGET, timeout=900)
    assert result.outcome is not None and result.outcome.verdict == "failed"
    assert result.exit_code == ExitCode.ROLLED_BACK
    assert result.task_definition == f"{TD}4", "the revision it deployed, not the rollback's"
    assert result.outcome.restored == f"{TD}3"
    assert "tasks failed to start" in result.outcome.reason


def test_a_finished_deployment_gets_its_verdict_at_once() -> None:
    done = replace(service(deployment("ecs-svc/new", 4, "COMPLETED", running=2)),
                   current_deployment=ARN)
    ecs = FollowedEcs([done], records=[ServiceDeployment(ARN, "SUCCESSFUL", strategy="CANARY",
                                                         revision=REVISION)])
    result = _follower(ecs, Notes()).follow(TARGET, timeout=900)
    assert result.outcome is not None and result.outcome.verdict == "completed"
    assert result.exit_code == ExitCode.OK
    assert not any(c[0] == "continue" for c in ecs.calls)
