"""Following a progressive deployment: ``observe`` turns each read of ECS's record into typed
events (stage, traffic, hook, status), and StageWatch, driven by a fake clock over scripted
records, runs the smoke test where the deployment pauses, answers the hook and judges."""

from __future__ import annotations

from dataclasses import replace

from dockyard.aws.services import PausedHook, ServiceDeployment
from dockyard.deploy.stages import STAGES, Seen, StageWatch, observe
from dockyard.progress import DeploymentEvent
from tests.deploy.test_follow import ARN, REVISION, TD, FollowedEcs
from tests.deploy.test_rollout import deployment, service
from tests.fakes import FakeClock, Notes

RUNNING = ServiceDeployment(ARN, "IN_PROGRESS", stage="SCALE_UP", production_weight=0.0,
                            test_weight=0.0, strategy="CANARY", revision=REVISION)


def _play(*records: ServiceDeployment) -> list[DeploymentEvent]:
    seen, events = Seen(), []
    for record in records:
        seen, new = observe(seen, record, "web")
        events += new
    return events


def test_each_stage_is_one_typed_event_with_the_traffic_as_numbers() -> None:
    events = _play(
        RUNNING, RUNNING,  # the same read twice says nothing new
        replace(RUNNING, stage="POST_SCALE_UP"),
        replace(RUNNING, stage="TEST_TRAFFIC_SHIFT", test_weight=100.0),
        replace(RUNNING, stage="PRODUCTION_TRAFFIC_SHIFT", production_weight=12.5,
                test_weight=100.0),
        replace(RUNNING, stage="PRODUCTION_TRAFFIC_SHIFT", production_weight=100.0,
                test_weight=100.0),
        replace(RUNNING, stage="BAKE_TIME", production_weight=100.0),
        replace(RUNNING, status="SUCCESSFUL", stage="", production_weight=100.0))
    assert [(e.kind, e.stage) for e in events if e.kind == "stage"] == [
        ("stage", s) for s in ("SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT",
                               "PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME")]
    assert [e.production_percent for e in events if e.kind == "traffic"] == [12.5, 100.0], \
        "the 0% a deployment starts at is no move"
    first = events[0]
    assert (first.app, first.deployment_arn, first.revision) == ("web", ARN, REVISION)
    assert first.description == STAGES["SCALE_UP"]
    assert first.text() == f"stage SCALE_UP: {STAGES['SCALE_UP']}"
    assert events[4].text() == "production traffic: 12.5% on the new revision"
    assert events[4].fields()["test_percent"] == 100.0


def test_a_hook_is_reported_when_it_pauses_and_when_it_is_answered() -> None:
    paused = replace(RUNNING, stage="POST_TEST_TRAFFIC_SHIFT", hooks=[("h-1", "AWAITING_ACTION")])
    events = _play(paused, paused, replace(paused, hooks=[("h-1", "SUCCEEDED")]))
    hooks = [(e.hook_id, e.hook_status, e.stage) for e in events if e.kind == "hook"]
    assert hooks == [("h-1", "AWAITING_ACTION", "POST_TEST_TRAFFIC_SHIFT"),
                     ("h-1", "SUCCEEDED", "POST_TEST_TRAFFIC_SHIFT")]
    assert events[-1].text() == "hook h-1 at POST_TEST_TRAFFIC_SHIFT: SUCCEEDED"


def test_a_rollback_is_a_status_event_with_its_reason() -> None:
    events = _play(RUNNING, replace(RUNNING, status="ROLLBACK_IN_PROGRESS",
                                    triggered_alarms=["acme-web-error-rate"]),
                   replace(RUNNING, status="ROLLBACK_SUCCESSFUL",
                           triggered_alarms=["acme-web-error-rate"]))
    statuses = [(e.status, e.reason) for e in events if e.kind == "status"]
    assert statuses == [("ROLLBACK_IN_PROGRESS", "alarm(s) acme-web-error-rate in ALARM state"),
                        ("ROLLBACK_SUCCESSFUL", "alarm(s) acme-web-error-rate in ALARM state")]


def test_the_watch_runs_the_smoke_test_at_the_pause_and_continues() -> None:
    paused = replace(RUNNING, stage="POST_TEST_TRAFFIC_SHIFT", paused=[PausedHook("h-1", None)],
                     hooks=[("h-1", "AWAITING_ACTION")])
    answered = replace(paused, paused=[], hooks=[("h-1", "SUCCEEDED")],
                       stage="PRODUCTION_TRAFFIC_SHIFT", production_weight=100.0)
    done = replace(answered, status="SUCCESSFUL", stage="")
    ecs = FollowedEcs([service(deployment("ecs-svc/new", 4, "COMPLETED", running=2))],
                      records=[RUNNING, paused, paused, answered, done])
    clock, notes = FakeClock(), Notes()
    smoke_runs: list[float] = []

    def smoke() -> tuple[bool, str]:
        smoke_runs.append(clock.now())
        return True, "`echo ok` exited 0"

    outcome = StageWatch(ecs, clock, notes).watch(
        "acme", "web", "ecs-svc/new", f"{TD}4", 900, deployment_arn=ARN, smoke=smoke)
    assert outcome.verdict == "completed"
    assert len(smoke_runs) == 1, "once, however often the pause is read"
    assert ("continue", "CONTINUE") in ecs.calls
    kinds = [e.kind for e in notes.deployments]
    assert kinds.count("stage") == 3 and "hook" in kinds and "traffic" in kinds
    assert clock.now() < 900


def test_the_watch_names_the_stage_it_was_in_at_its_timeout() -> None:
    baking = replace(RUNNING, stage="BAKE_TIME", production_weight=100.0)
    ecs = FollowedEcs([service(deployment("ecs-svc/new", 4, "IN_PROGRESS"))], records=[baking])
    clock = FakeClock()
    outcome = StageWatch(ecs, clock, Notes()).watch(
        "acme", "web", "ecs-svc/new", f"{TD}4", 600, deployment_arn=ARN)
    assert outcome.verdict == "timed_out"
    assert outcome.reason == f"still in BAKE_TIME ({STAGES['BAKE_TIME']}) after 10 min"
    assert 600 <= clock.now() <= 610, "gave up at its timeout, not before, not long after"


class InterruptedClock(FakeClock):
    """Ctrl-C arrives during the ``after``-th wait."""

    def __init__(self, after: int) -> None:
        super().__init__()
        self.after = after

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        if len(self.sleeps) >= self.after:
            raise KeyboardInterrupt


def test_ctrl_c_before_the_smoke_test_rolls_the_deployment_back_not_left_paused() -> None:
    import pytest

    from dockyard.errors import Cancelled

    ecs = FollowedEcs([service(deployment("ecs-svc/new", 4, "IN_PROGRESS"))], records=[RUNNING])
    with pytest.raises(Cancelled) as stopped:
        StageWatch(ecs, InterruptedClock(2), Notes()).watch(
            "acme", "web", "ecs-svc/new", f"{TD}4", 900, deployment_arn=ARN,
            smoke=lambda: (True, "never runs"))
    assert ("stop", ARN) in ecs.calls
    assert "asked ECS to roll the deployment back (StopServiceDeployment)" in \
        stopped.value.message
    # Without a smoke test nothing would pause: the cancel only stops waiting.
    plain = FollowedEcs([service(deployment("ecs-svc/new", 4, "IN_PROGRESS"))], records=[RUNNING])
    with pytest.raises(KeyboardInterrupt):
        StageWatch(plain, InterruptedClock(2), Notes()).watch(
            "acme", "web", "ecs-svc/new", f"{TD}4", 900, deployment_arn=ARN)
    assert not any(c[0] == "stop" for c in plain.calls)
