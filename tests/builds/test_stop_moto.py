"""A build's task is never left running, against moto in-process: a signal or an error at any
instant after RunTask (its answer in flight, the ARN not known yet, the log not followed yet)
ends with the task STOPPED in moto. The instants are injected deterministically with botocore
event hooks on the runner's own ECS client; the signals are real (``os.kill``), handled as the
CLI handles them (``dockyard.interrupts``)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from devtools.fake_kaniko import HOLD
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.ecs.models import ecs_backends

from dockyard import interrupts
from dockyard.aws.errors import AwsError
from dockyard.builds.runner import Build
from dockyard.builds.task import Status
from dockyard.config import Config
from tests.aws.test_moto_stacks import REGION
from tests.builds.test_build_moto import account, context, make_build

__all__ = ["account", "context"]


def _hold_tasks() -> None:
    """moto's tasks keep RUNNING (as a long build does) until StopTask."""
    for tasks in ecs_backends[DEFAULT_ACCOUNT_ID][REGION].tasks.values():
        for task in tasks.values():
            if task.desired_status != "STOPPED":
                task._tick = HOLD


def _tasks() -> list[dict[str, Any]]:
    ecs = boto3.client("ecs", region_name=REGION)
    arns = ecs.list_tasks(cluster="acme", desiredStatus="RUNNING")["taskArns"] + \
        ecs.list_tasks(cluster="acme", desiredStatus="STOPPED")["taskArns"]
    return ecs.describe_tasks(cluster="acme", tasks=arns)["tasks"] if arns else []


def _on(build: Build, event: str, handler: Any) -> None:
    build.runner.tasks.ecs._client.meta.events.register(event, handler)  # type: ignore[attr-defined]


@pytest.fixture()
def handled() -> Iterator[None]:
    with interrupts.handled():
        yield


def _sigterm(**_: Any) -> None:
    _hold_tasks()
    os.kill(os.getpid(), signal.SIGTERM)


def test_sigterm_right_after_runtasks_answer_stops_the_task(
        account: Config, context: str, handled: None) -> None:
    build, source, _ = make_build(account, context, exit_code=1)
    _on(build, "after-call.ecs.RunTask", _sigterm)
    result = build.run("s1", source, 0.0)
    assert interrupts.exit_code(result.exit_code) == 143
    (outcome,) = result.outcomes
    assert outcome.status == Status.CANCELLED
    (task,) = _tasks()
    assert (task["lastStatus"], task["stoppedReason"]) == (
        "STOPPED", "cancelled from dockyard (SIGTERM)")


def test_runtasks_answer_lost_to_a_signal_is_found_by_its_started_by_and_stopped(
        account: Config, context: str, handled: None) -> None:
    """The signal lands in the thread waiting for RunTask's answer (``build --detach`` and
    ``run --detach`` call it from the main thread): the ARN never reaches dockyard."""
    build, source, _ = make_build(account, context, exit_code=1)
    (_, spec), = build.specs("s2", source)
    _on(build, "after-call.ecs.RunTask", _sigterm)
    with pytest.raises(KeyboardInterrupt):
        build.runner.start(spec)
    assert interrupts.exit_code(130) == 143
    (task,) = _tasks()
    assert task["startedBy"].startswith("dockyard-") and len(task["startedBy"]) > 9, \
        "a startedBy of its own, to find it by"
    assert task["lastStatus"] == "STOPPED", task["stoppedReason"]


def test_an_interrupt_while_runtask_is_answered_in_a_task_thread_stops_it(
        account: Config, context: str, handled: None) -> None:
    build, source, _ = make_build(account, context, exit_code=1)

    def interrupted(**_: Any) -> None:
        _hold_tasks()
        raise KeyboardInterrupt

    _on(build, "after-call.ecs.RunTask", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build.run("s3", source, 0.0)
    (task,) = _tasks()
    assert task["lastStatus"] == "STOPPED"


def test_a_second_signal_gives_up_at_once_and_stops_what_was_started(
        account: Config, context: str, handled: None) -> None:
    build, source, _ = make_build(account, context, exit_code=1)
    released = threading.Event()

    def twice(**_: Any) -> None:  # the task's thread stays inside RunTask's call meanwhile
        _sigterm()
        for _wait in range(300):  # a second signal once the first was handled (not merged)
            if build.runner.stop.reason is not None:
                break
            time.sleep(0.01)
        # The first may have landed while the main thread was still starting this thread:
        # it gave up at once then, and a second would land after the test.
        if not build.runner.stop._abandoned:
            os.kill(os.getpid(), signal.SIGTERM)
        released.wait(30)

    _on(build, "after-call.ecs.RunTask", twice)
    try:
        with pytest.raises(KeyboardInterrupt):
            build.run("s4", source, 0.0)
        (task,) = _tasks()
        assert task["lastStatus"] == "STOPPED", "the main thread stopped it before giving up"
    finally:
        released.set()


def _refused(**_: Any) -> None:
    raise ClientError({"Error": {"Code": "InvalidParameterException",
                                 "Message": "the network is down"}}, "DescribeTasks")


def test_a_describe_tasks_failure_stops_the_task_and_reports_the_error(
        account: Config, context: str) -> None:
    build, source, _ = make_build(account, context, exit_code=1)
    _on(build, "after-call.ecs.RunTask", lambda **_: _hold_tasks())
    _on(build, "before-call.ecs.DescribeTasks", _refused)
    with pytest.raises(AwsError) as failed:
        build.run("s5", source, 0.0)
    assert "describe the task: the network is down" in failed.value.message
    assert failed.value.exit_code == 1
    (task,) = _tasks()
    assert task["lastStatus"] == "STOPPED"
    assert task["stoppedReason"].startswith("dockyard's build failed: describe the task")
    assert any(note.startswith("stopping task ") for note in build.runner.progress)  # type: ignore[attr-defined]
