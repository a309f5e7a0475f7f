"""One kaniko task to completion, against fakes at the aws/ boundary (what moto cannot show:
exit codes, stop codes, Spot, capacity)."""

from __future__ import annotations

import pytest

from dockyard.aws.ecs import RunTaskFailed, TaskSpec
from dockyard.aws.errors import AwsError
from dockyard.builds.runner import exit_code_of
from dockyard.builds.task import Runner, Status, StopSignal
from tests.fakes import FakeClock, FakeEcs, FakeLogs, Notes, TaskScript

SPEC = TaskSpec(cluster="acme", task_definition="kaniko-amd64:1", subnets=["subnet-a"],
                security_groups=["sg-1"], assign_public_ip=True,
                capacity_provider="FARGATE_SPOT", container="kaniko",
                command=["--force", "--context=s3://b/contexts/x.tar.gz"], cpu=2048, memory=8192,
                storage_gib=50, tags={"dockyard:build": "1"})


def runner(*scripts: TaskScript, stop: StopSignal | None = None,
           clock: FakeClock | None = None) -> tuple[Runner, FakeEcs, list[str], list[str]]:
    logs = FakeLogs()
    ecs = FakeEcs(logs, list(scripts))
    notes = Notes()
    return (Runner(tasks=ecs, logs=logs, clock=clock or FakeClock(), log_group="/builds",
                   container="kaniko", stop=stop or StopSignal(), progress=notes),
            ecs, notes.lines, notes)


def test_success_streams_every_line_including_those_after_stopped() -> None:
    run, _ecs, lines, notes = runner(TaskScript())
    outcome = run.run("amd64", SPEC, timeout=3600)
    assert outcome.status == Status.SUCCEEDED and outcome.exit_code == 0
    assert lines == ["INFO step 1", "INFO step 2", "INFO Pushed repo@sha256:aa"]
    assert outcome.last_lines[-1] == "INFO Pushed repo@sha256:aa"
    assert outcome.log_stream == "build/kaniko/task1"
    assert any("is RUNNING" in n for n in notes) and any("is STOPPED" in n for n in notes)
    assert exit_code_of([outcome]) == 0


def test_a_failed_build_keeps_kanikos_exit_code_and_last_lines() -> None:
    run, _, _, _ = runner(TaskScript(exit_code=1, lines=["INFO step 1",
                                                         "error building image: RUN exited 2"],
                                     late_lines=[]))
    outcome = run.run("amd64", SPEC, timeout=3600)
    assert outcome.status == Status.BUILD_FAILED
    assert outcome.exit_code == 1
    assert outcome.last_lines[-1] == "error building image: RUN exited 2"
    assert exit_code_of([outcome]) == 1


def test_out_of_memory_keeps_137_in_the_outcome_with_the_reason() -> None:
    run, _, _, _ = runner(TaskScript(exit_code=137, container_reason="OutOfMemoryError: "
                                     "Container killed due to memory usage"))
    outcome = run.run("amd64", SPEC, timeout=3600)
    assert (outcome.status, outcome.exit_code) == (Status.BUILD_FAILED, 137)
    assert "OutOfMemoryError" in outcome.reason
    assert exit_code_of([outcome]) == 1


@pytest.mark.parametrize("kaniko", [2, 3, 4])
def test_kanikos_own_code_never_reads_as_one_of_dockyards(kaniko: int) -> None:
    """kaniko exits with a failed RUN step's code: 2, 3 or 4 would read as usage, AWS
    precondition or rolled back."""
    run, _, _, _ = runner(TaskScript(exit_code=kaniko))
    outcome = run.run("amd64", SPEC, timeout=3600)
    assert (outcome.status, outcome.exit_code) == (Status.BUILD_FAILED, kaniko)
    assert exit_code_of([outcome]) == 1


def test_a_task_that_failed_to_start_is_infrastructure_exit_70() -> None:
    run, _, _, _ = runner(TaskScript(
        statuses=["PENDING", "STOPPED"], lines=[], late_lines=[], exit_code=None,
        stop_code="TaskFailedToStart",
        stopped_reason="CannotPullContainerError: pull image manifest has been retried 5 "
                       "time(s): failed to resolve ref ghcr.io/osscontainertools/kaniko"))
    outcome = run.run("amd64", SPEC, timeout=3600)
    assert outcome.status == Status.INFRA_FAILED
    assert "CannotPullContainerError" in outcome.reason
    assert exit_code_of([outcome]) == 70


def test_spot_interruption_is_retried_once_on_demand() -> None:
    run, ecs, _, notes = runner(TaskScript(exit_code=143, stop_code="SpotInterruption",
                                           stopped_reason="Your Spot Task was interrupted."),
                                TaskScript())
    outcome = run.run("amd64", SPEC, timeout=3600)
    assert ecs.calls == ["run_task FARGATE_SPOT", "run_task FARGATE"]
    assert outcome.status == Status.SUCCEEDED and outcome.capacity == "FARGATE"
    assert len(outcome.attempts) == 2
    assert any("Spot took the task back; running it again on demand" in n for n in notes)


def test_a_second_interruption_is_not_retried_again() -> None:
    interrupted = TaskScript(exit_code=143, stop_code="SpotInterruption")
    run, ecs, _, _ = runner(interrupted, TaskScript(exit_code=143, stop_code="SpotInterruption"))
    outcome = run.run("amd64", SPEC, timeout=3600)
    assert outcome.status == Status.SPOT_INTERRUPTED
    assert exit_code_of([outcome]) == 71
    assert len(ecs.calls) == 2


def test_no_spot_capacity_falls_back_to_on_demand_and_none_at_all_is_70() -> None:
    run, ecs, _, _notes = runner(TaskScript(capacity_error=True), TaskScript())
    assert run.run("amd64", SPEC, timeout=3600).status == Status.SUCCEEDED
    assert ecs.calls == ["run_task FARGATE_SPOT", "run_task FARGATE"]
    run, ecs, _, _ = runner(TaskScript(capacity_error=True), TaskScript(capacity_error=True))
    outcome = run.run("amd64", SPEC, timeout=3600)
    assert outcome.status == Status.INFRA_FAILED and exit_code_of([outcome]) == 70


def test_the_client_timeout_stops_the_task_exit_124() -> None:
    clock = FakeClock()
    run, ecs, lines, _notes = runner(TaskScript(statuses=["RUNNING"], lines=["a", "b", "c"]),
                                    clock=clock)
    outcome = run.run("amd64", SPEC, timeout=5)
    stops = [c for c in ecs.calls if c.startswith("stop ")]
    assert stops == ["stop arn:aws:ecs:ap-southeast-2:123456789012:task/acme/task1 "
                     "dockyard's build timeout passed"]
    assert outcome.status == Status.TIMED_OUT
    assert exit_code_of([outcome]) == 124
    assert lines[:2] == ["a", "b"], "the log was streamed until the stop"
    assert clock.time < 5 + 60, "the wait after the stop is bounded"


def test_a_stop_request_stops_the_task_exit_130() -> None:
    stop = StopSignal()
    clock = FakeClock()
    run, ecs, _, _ = runner(TaskScript(statuses=["RUNNING"]), stop=stop, clock=clock)
    original = clock.sleep

    def sleep(seconds: float) -> None:  # Ctrl-C arrives while the task runs
        original(seconds)
        if clock.time > 10:
            stop.request("cancelled")

    clock.sleep = sleep  # type: ignore[method-assign]
    outcome = run.run("amd64", SPEC, timeout=3600)
    assert outcome.status == Status.CANCELLED
    assert any("cancelled from dockyard (Ctrl-C)" in c for c in ecs.calls)
    assert exit_code_of([outcome]) == 130


def test_the_most_telling_failure_decides_the_exit_code() -> None:
    from dockyard.builds.task import TaskOutcome

    failed = TaskOutcome("amd64", Status.BUILD_FAILED, exit_code=2)
    cancelled = TaskOutcome("arm64", Status.CANCELLED)
    ok = TaskOutcome("arm64", Status.SUCCEEDED, exit_code=0)
    assert exit_code_of([failed, ok]) == 1
    assert exit_code_of([failed, cancelled]) == 130
    assert exit_code_of([ok, ok]) == 0


def test_a_task_describe_tasks_does_not_show_yet_is_waited_for() -> None:
    run, _, lines, _ = runner(TaskScript(missing_reads=3))
    outcome = run.run("amd64", SPEC, timeout=3600)
    assert outcome.status == Status.SUCCEEDED, outcome
    assert lines[-1] == "INFO Pushed repo@sha256:aa"


def test_a_task_ecs_never_shows_failed_to_start() -> None:
    clock = FakeClock()
    run, _, _, _ = runner(TaskScript(missing_reads=10_000), clock=clock)
    outcome = run.run("amd64", SPEC, timeout=3600)
    assert outcome.status == Status.INFRA_FAILED
    assert "ECS never reported the task" in outcome.reason
    assert 120 <= clock.time < 200, "it waited for ECS to catch up, within a bound"


def test_a_describe_tasks_failure_stops_the_task_and_the_error_goes_on() -> None:
    failure = AwsError("describe the task: Rate exceeded after 4 attempts")
    run, ecs, _, notes = runner(TaskScript(statuses=["RUNNING"], describe_error=failure))
    with pytest.raises(AwsError) as raised:
        run.run("amd64", SPEC, timeout=3600)
    assert raised.value is failure, "the original error, with its exit code"
    (arn,) = [c.split()[1] for c in ecs.calls if c.startswith("stop ")]
    assert ecs.stopped(arn)
    assert any("dockyard's build failed: describe the task" in c for c in ecs.calls)
    assert any(n.startswith("stopping task task1: dockyard's build failed") for n in notes)


def test_when_stopping_fails_too_it_says_so_and_the_first_error_goes_on() -> None:
    failure = AwsError("describe the task: the network is down")
    run, ecs, _, notes = runner(TaskScript(statuses=["RUNNING"], describe_error=failure,
                                           stop_error=AwsError("stop the task: refused")))
    with pytest.raises(AwsError) as raised:
        run.run("amd64", SPEC, timeout=3600)
    assert raised.value is failure
    assert any(c.startswith("refused stop ") for c in ecs.calls)
    assert any("could not stop task task1 (stop the task: refused); it may still be running: "
               "aws ecs stop-task --cluster acme --task arn:aws:ecs:" in n for n in notes)


@pytest.mark.parametrize("lost", [KeyboardInterrupt(), AwsError("RunTask: answer cut off")],
                         ids=["signal", "answer lost"])
def test_a_task_whose_runtask_answer_never_came_is_found_by_its_started_by_and_stopped(
        lost: BaseException) -> None:
    run, ecs, _, _ = runner(TaskScript(statuses=["RUNNING"], answer_lost=lost))
    with pytest.raises(type(lost)):
        run.run("amd64", SPEC, timeout=3600)
    (spec,) = ecs.started
    assert spec.started_by.startswith("dockyard-") and spec.started_by != "dockyard"
    assert ecs.calls[1:] == [f"list_tasks {spec.started_by}",
                             "stop arn:aws:ecs:ap-southeast-2:123456789012:task/acme/task1 "
                             "its start was interrupted (Ctrl-C), or its answer lost"]


def test_runtasks_own_refusal_started_nothing_to_look_for() -> None:
    refused = RunTaskFailed("RunTask failed: MISSING")
    run, ecs, _, _ = runner(TaskScript(answer_lost=refused))
    with pytest.raises(RunTaskFailed):
        run.run("amd64", SPEC, timeout=3600)
    assert not [c for c in ecs.calls if c.startswith(("list_tasks", "stop"))]


def test_a_stop_requested_before_the_task_starts_starts_nothing() -> None:
    stop = StopSignal()
    stop.request("cancelled")
    run, ecs, _, _ = runner(TaskScript(), stop=stop)
    outcome = run.run("amd64", SPEC, timeout=3600)
    assert outcome.status == Status.CANCELLED and exit_code_of([outcome]) == 130
    assert ecs.calls == [] and ecs.started == []
