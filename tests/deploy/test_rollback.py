"""``rollback``: what it decides from scripted ECS descriptions (the service and its completed
deployments), and what it then asks of ECS, with ``--now`` on a canary app."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest

from dockyard.aws.services import CompletedDeployment, ServiceDeployment, ServiceState
from dockyard.deploy.app import AppDeployer
from dockyard.deploy.definition import target_from_outputs
from dockyard.deploy.rollback import (
    AlreadyBack,
    NothingToRollBackError,
    RollTo,
    decide,
    stale,
)
from dockyard.deploy.rollout import RolloutWatch
from dockyard.deploy.stages import StageWatch
from dockyard.errors import ExitCode
from tests.conftest import example_config
from tests.deploy.test_definition import BUILDER, PROGRESSIVE
from tests.deploy.test_rollout import TARGET, TD, FakeEcs, deployment, service
from tests.fakes import FakeClock, Notes

RECORD = "arn:aws:ecs:ap-southeast-2:123456789012:service-deployment/acme/web/"


def history(*revisions: int) -> list[CompletedDeployment]:
    """Completed deployments of these revisions, newest first, an hour apart (the newest at
    10:00 UTC)."""
    return [CompletedDeployment(f"{RECORD}{len(revisions) - n}", f"{TD}{rev}",
                                datetime(2026, 12, 1, 10 - n, 0, tzinfo=UTC))
            for n, rev in enumerate(revisions)]


def on(rev: int) -> ServiceState:
    """The service, its deployment of ``rev`` completed."""
    return service(deployment("ecs-svc/now", rev, "COMPLETED", running=2))


def test_a_first_rollback_goes_to_the_revision_before() -> None:
    assert decide("web", on(2), history(2, 1)) == RollTo(f"{TD}1", f"{TD}2")


def test_a_second_rollback_finds_the_first_in_ecs_history_and_does_nothing() -> None:
    # 1 completed, then 2; the rollback's deployment put 1 back at 10:00.
    done = decide("web", on(1), history(1, 2, 1))
    assert isinstance(done, AlreadyBack)
    assert (done.on, done.rolled_back_from, done.under_way) == (f"{TD}1", f"{TD}2", False)
    assert done.by == "ecs-svc/now", "the ECS deployment id, as every other answer gives"
    assert done.sentence("web") == ("web is already on acme-web:1, rolled back from "
                                    "acme-web:2 at 2026-12-01 10:00:00 UTC: nothing to do")


def test_after_a_rollback_and_a_new_deploy_the_target_is_never_the_revision_rolled_back_from(
        ) -> None:
    # 1, 2 (bad), rolled back to 1, then 3 deployed: back from 3 goes to 1, not to 2.
    assert decide("web", on(3), history(3, 1, 2, 1)) == RollTo(f"{TD}1", f"{TD}3")


def test_a_rollback_still_rolling_out_is_not_started_again() -> None:
    rolling_back = service(deployment("ecs-svc/back", 1, "IN_PROGRESS"),
                           deployment("ecs-svc/old", 2, "COMPLETED", "ACTIVE", running=2))
    done = decide("web", rolling_back, history(2, 1))
    assert isinstance(done, AlreadyBack) and done.under_way
    assert (done.on, done.rolled_back_from, done.by) == (f"{TD}1", f"{TD}2", "ecs-svc/back")
    assert done.sentence("web").startswith("web is already rolling back to acme-web:1 from "
                                           "acme-web:2 (deployment ecs-svc/back")


def test_the_circuit_breakers_rollback_under_way_is_left_to_finish() -> None:
    # Revision 3 failed; ECS rolls the service back to 2, the last completed one.
    breaker = service(deployment("ecs-svc/back", 2, "IN_PROGRESS"),
                      deployment("ecs-svc/bad", 3, "FAILED", "ACTIVE", failed=3))
    done = decide("web", breaker, history(2, 1))
    assert isinstance(done, AlreadyBack) and done.under_way
    assert (done.on, done.rolled_back_from) == (f"{TD}2", f"{TD}3")


def test_a_progressive_deployment_ecs_is_rolling_back_is_left_to_finish() -> None:
    failing = service(deployment("ecs-svc/bad", 3, "FAILED"),
                      deployment("ecs-svc/old", 2, "COMPLETED", "ACTIVE", running=2))
    done = decide("web", failing, history(2, 1))
    assert isinstance(done, AlreadyBack) and done.under_way
    assert (done.on, done.rolled_back_from) == (f"{TD}2", f"{TD}3")


def test_a_rollback_whose_record_ecs_does_not_list_yet_still_counts() -> None:
    # DescribeServices shows 1 completed; ListServiceDeployments still ends at 2's deployment.
    done = decide("web", on(1), history(2, 1))
    assert isinstance(done, AlreadyBack) and not done.under_way
    assert (done.on, done.rolled_back_from) == (f"{TD}1", f"{TD}2")


def _at(state: ServiceState, hour: int) -> ServiceState:
    """``state`` with its PRIMARY deployment created at ``hour``:00 UTC."""
    primary = state.primary
    assert primary is not None
    dated = replace(primary, created_at=datetime(2026, 12, 1, hour, 0, tzinfo=UTC))
    return replace(state, deployments=[dated if d is primary else d for d in state.deployments])


def test_a_describe_from_before_the_newest_deployment_is_not_taken_for_a_rollback() -> None:
    # 1 at 09:00, then 2 at 10:00; DescribeServices (eventually consistent) still shows 1.
    assert stale(_at(on(1), 9), history(2, 1))
    assert decide("web", _at(on(1), 9), history(2, 1)) == RollTo(f"{TD}1", f"{TD}2")
    # And after a rollback at 10:00, a read still showing 2 (deployed at 09:00) is no reason
    # to roll back again.
    done = decide("web", _at(on(2), 9), history(1, 2, 1))
    assert isinstance(done, AlreadyBack) and (done.on, done.rolled_back_from) == (
        f"{TD}1", f"{TD}2")
    assert not stale(_at(on(2), 10), history(2, 1)), "the same deployment, seen twice"


def test_a_forced_redeploy_of_the_same_revision_is_not_a_rollback() -> None:
    assert decide("web", on(2), history(2, 2, 1)) == RollTo(f"{TD}1", f"{TD}2")
    redeploying = service(deployment("ecs-svc/again", 2, "IN_PROGRESS"),
                          deployment("ecs-svc/now", 2, "COMPLETED", "ACTIVE", running=2))
    decision = decide("web", redeploying, history(2, 1))
    assert isinstance(decision, RollTo) and decision.target == f"{TD}1"


def test_a_deploy_under_way_is_rolled_back_to_the_live_revision() -> None:
    deploying = service(deployment("ecs-svc/new", 3, "IN_PROGRESS"),
                        deployment("ecs-svc/now", 2, "COMPLETED", "ACTIVE", running=2))
    decision = decide("web", deploying, history(2, 1))
    assert isinstance(decision, RollTo)
    assert (decision.target, decision.current) == (f"{TD}2", f"{TD}3")
    assert decision.under_way is not None and decision.under_way.deployment_id == "ecs-svc/new"


def test_nothing_completed_before_is_nothing_to_roll_back_to() -> None:
    with pytest.raises(NothingToRollBackError, match="nothing to roll back to"):
        decide("web", on(1), history(1))


def test_a_second_rollback_starts_nothing_and_exits_0_unchanged() -> None:
    notes = Notes()
    ecs = FakeEcs([on(1)], completed=[f"{TD}1", f"{TD}2", f"{TD}1"])
    deployer = AppDeployer(example_config(), ecs, RolloutWatch(ecs, FakeClock(), notes), notes)
    result = deployer.rollback(TARGET, wait=True, timeout=900)
    assert result.exit_code == ExitCode.OK
    assert result.outcome is not None and result.outcome.verdict == "unchanged"
    assert result.task_definition == f"{TD}1"
    assert [c for c in ecs.calls if c[0] in ("update", "register", "stop")] == []
    assert any(n.startswith("web is already on acme-web:1, rolled back from acme-web:2 at ")
               and n.endswith(": nothing to do") for n in notes), notes


CANARY = example_config(("strategy: rolling", "strategy: canary\n      canary_percent: 12.5"))
CANARY_TARGET = target_from_outputs(CANARY, "web", BUILDER, PROGRESSIVE)


@dataclass
class CanaryEcs(FakeEcs):
    """A canary app's service: production is on the stack's alternate target group (after an
    odd number of blue/green deployments); ``records`` is ECS's record of the deployment
    under way, read after read (the last repeats)."""

    records: list[ServiceDeployment] = field(default_factory=list)

    def live_target_group(self, cluster: str, service: str) -> str:
        return PROGRESSIVE["AlternateTargetGroupArn"]

    def service_deployment(self, arn: str) -> ServiceDeployment | None:  # type: ignore[override]
        if not self.records:
            return None
        return self.records.pop(0) if len(self.records) > 1 else self.records[0]

    def continue_deployment(self, arn: str, hook_id: str, action: str) -> None:
        self.calls.append(("continue", action))


def _deployer(ecs: CanaryEcs, notes: Notes) -> AppDeployer:
    clock = FakeClock()
    return AppDeployer(CANARY, ecs, RolloutWatch(ecs, clock, notes), notes,
                       stages=StageWatch(ecs, clock, notes))


def test_now_rolls_a_canary_app_back_as_a_rolling_deployment_into_the_live_group() -> None:
    notes = Notes()
    ecs = CanaryEcs([on(2), service(deployment("ecs-svc/new", 1, "COMPLETED", running=2))],
                    completed=[f"{TD}2", f"{TD}1"])
    result = _deployer(ecs, notes).rollback(CANARY_TARGET, wait=True, timeout=900, now=True)
    assert result.exit_code == ExitCode.OK and result.strategy == "rolling"
    (request,) = ecs.requests
    assert request["taskDefinition"] == f"{TD}1"
    assert request["deploymentConfiguration"]["strategy"] == "ROLLING"
    assert "canaryConfiguration" not in request["deploymentConfiguration"]
    assert "lifecycleHooks" not in request["deploymentConfiguration"], "no smoke-test pause"
    (balancer,) = request["loadBalancers"]
    assert balancer["targetGroupArn"] == PROGRESSIVE["AlternateTargetGroupArn"], \
        "the tasks start in the group production forwards to, not an empty one"
    assert "advancedConfiguration" not in balancer


def test_without_now_a_canary_app_rolls_back_as_a_canary() -> None:
    ecs = CanaryEcs([on(2), service(deployment("ecs-svc/new", 1, "COMPLETED", running=2))],
                    completed=[f"{TD}2", f"{TD}1"])
    _deployer(ecs, Notes()).rollback(CANARY_TARGET, wait=False, timeout=900)
    (request,) = ecs.requests
    assert request["deploymentConfiguration"]["strategy"] == "CANARY"


def test_now_stops_a_canary_under_way_and_ecs_moves_its_traffic_back() -> None:
    arn = f"{RECORD}9"
    deploying = replace(service(deployment("ecs-svc/new", 3, "IN_PROGRESS"),
                                deployment("ecs-svc/now", 2, "COMPLETED", "ACTIVE", running=2)),
                        current_deployment=arn)
    canary = ServiceDeployment(arn, "IN_PROGRESS", stage="PRODUCTION_TRAFFIC_SHIFT",
                               production_weight=12.5, strategy="CANARY")
    back = replace(canary, status="ROLLBACK_SUCCESSFUL", stage="", production_weight=0.0,
                   rollback_reason="StopServiceDeployment")
    ecs = CanaryEcs([deploying, on(2)], completed=[f"{TD}2", f"{TD}1"],
                    records=[canary, replace(canary, status="ROLLBACK_IN_PROGRESS"), back])
    notes = Notes()
    result = _deployer(ecs, notes).rollback(CANARY_TARGET, wait=True, timeout=900, now=True)
    assert ("stop", arn) in ecs.calls
    assert ecs.requests == [], "no UpdateService: ECS refuses a strategy switch mid-deployment"
    assert result.exit_code == ExitCode.OK, result
    assert result.outcome is not None and result.outcome.verdict == "completed"
    assert result.task_definition == f"{TD}2"
    assert "all traffic on acme-web:2" in result.outcome.reason



def test_a_stale_describe_is_read_again_before_anything_is_decided() -> None:
    # The first read predates revision 2's deployment (10:00); the next shows someone's
    # rollback to 1, started at 11:00 and still rolling out.
    rolling_back = _at(service(deployment("ecs-svc/back", 1, "IN_PROGRESS"),
                               deployment("ecs-svc/two", 2, "COMPLETED", "ACTIVE", running=2)),
                       11)
    ecs = FakeEcs([_at(on(1), 9), rolling_back], completed=[f"{TD}2", f"{TD}1"])
    notes = Notes()
    result = AppDeployer(example_config(), ecs, RolloutWatch(ecs, FakeClock(), notes),
                         notes).rollback(TARGET, wait=True, timeout=900)
    assert [c for c in ecs.calls if c[0] == "describe"] == [("describe", "web")] * 2
    assert ecs.requests == [], "nothing started: a rollback is under way"
    assert result.outcome is not None and result.outcome.verdict == "unchanged"
    assert "web is already rolling back to acme-web:1 from acme-web:2" in " ".join(notes)
