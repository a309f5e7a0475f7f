"""One kaniko task, run to completion: start it, stream its log, stop it when asked, drain the
log after it stopped, and say what happened.

A task can end five ways: kaniko succeeded; kaniko failed (its own exit code); the task never
really ran (image pull, ENI, capacity: infrastructure); Spot took it back; or dockyard stopped it
(Ctrl-C or the client timeout). Spot interruptions and Spot capacity errors are retried once on
demand.
"""

from __future__ import annotations

import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Protocol

from dockyard import interrupts
from dockyard.aws.ecs import CapacityError, TaskSpec, TaskState, started_nothing
from dockyard.aws.follow import Ending, Follower, StreamCursor, StreamReader
from dockyard.names import BUILD_STREAM_PREFIX
from dockyard.polling import Clock
from dockyard.progress import Progress

LOG_INTERVAL = 2.0
STOP_GRACE = 180.0  # after StopTask: kaniko's stop timeout, then deprovisioning
# ECS is eventually consistent: right after RunTask, DescribeTasks may answer the task as
# MISSING ("retry DescribeTasks with exponential backoff", ECS API Reference, RunTask). A task
# not seen within this long after starting, and in as many reads, never ran as far as ECS can
# tell (over a slow link a few reads may all come back stale).
VISIBLE_WITHIN = 120.0
VISIBLE_READS = 5
TAIL_LINES = 20
# RunTask's answer did not come: ListTasks by the launch's startedBy finds the task it may
# have started, this many times at most (ListTasks is eventually consistent too).
FIND_LOOKS = 4
FIND_INTERVAL = 1.5
_INFRA_REASONS = ("CannotPullContainerError", "ResourceInitializationError",
                  "CannotStartContainerError", "TaskFailedToStart", "ResourceNotFoundException")


class TaskApi(Protocol):
    """ECS as the runner uses it (``dockyard.aws.ecs.Ecs``, or a fake)."""

    def run_task(self, spec: TaskSpec) -> TaskState: ...
    def describe(self, cluster: str, arn: str) -> TaskState | None: ...
    def started_by(self, cluster: str, started_by: str) -> list[str]: ...
    def stop(self, cluster: str, arn: str, reason: str) -> None: ...


class Status(StrEnum):
    """How a task ended."""

    SUCCEEDED = "succeeded"
    BUILD_FAILED = "build failed"
    INFRA_FAILED = "failed to start"
    SPOT_INTERRUPTED = "Spot interrupted"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed out"


@dataclass
class Launch:
    """One RunTask: the startedBy that is its own, and its task's ARN once ECS answered."""

    cluster: str
    started_by: str
    arn: str | None = None


class StopSignal:
    """Set from the main thread (Ctrl-C) and read by the tasks' threads. It also holds every
    task started and not yet followed to its end, so that a command that gives up at once (a
    second Ctrl-C) still stops them: :meth:`abandon`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reason: str | None = None
        self._live: dict[str, tuple[Launch, Callable[[Launch], None]]] = {}
        self._abandoned = False

    def request(self, reason: str) -> None:
        """Ask every task to stop, for ``reason`` (``cancelled`` or ``timeout``)."""
        with self._lock:
            self.reason = self.reason or reason

    def hold(self, launch: Launch, stop: Callable[[Launch], None]) -> bool:
        """Keep ``launch`` (and how to stop it) until :meth:`release`; False, and nothing
        kept, once the command has given up: then nothing may be started."""
        with self._lock:
            if self._abandoned or self.reason == "cancelled":
                return False
            self._live[launch.started_by] = (launch, stop)
            return True

    def release(self, launch: Launch) -> None:
        """``launch``'s task was followed to its end (or stopped): no longer held."""
        with self._lock:
            self._live.pop(launch.started_by, None)

    def abandon(self) -> None:
        """The command gives up without waiting: stop every task still held, best effort,
        and let no other start."""
        with self._lock:
            self._abandoned = True
            self.reason = self.reason or "cancelled"
            live = list(self._live.values())
        for launch, stop in live:
            stop(launch)


@dataclass(frozen=True)
class TaskOutcome:
    """What one architecture's task did."""

    arch: str
    status: Status
    task_arn: str = ""
    exit_code: int | None = None
    capacity: str = ""
    stop_code: str = ""
    reason: str = ""
    last_lines: list[str] = field(default_factory=list)
    log_stream: str = ""
    seconds: float = 0.0
    attempts: list[str] = field(default_factory=list)


@dataclass
class Runner:
    """Runs one architecture's kaniko task to completion."""

    tasks: TaskApi
    logs: StreamReader
    clock: Clock
    log_group: str
    container: str
    stop: StopSignal
    progress: Progress
    # Whose lines these are: a fixed subject (an image being built), else each line's
    # architecture when several run at once (tag_lines), else none.
    subject: str = ""
    tag_lines: bool = False
    # What the task is, in notes and reasons ("build", or "run" for a one-off command), and
    # the awslogs stream prefix of its task definition.
    what: str = "build"
    stream_prefix: str = BUILD_STREAM_PREFIX
    # Values never shown in the task's streamed lines (the smoke test's header value): each
    # becomes ``****``.
    redact: tuple[str, ...] = ()

    def run(self, arch: str, spec: TaskSpec, timeout: float) -> TaskOutcome:
        """Start the task, retrying once on demand after Spot lets us down. Whatever ends
        following it early (an AWS error, the network, a signal) stops it first."""
        deadline = self.clock.now() + timeout
        attempts: list[str] = []
        while True:
            try:
                started = self.start(spec)
            except CapacityError as err:
                if spec.capacity_provider == "FARGATE_SPOT":
                    self._note(f"{arch}: no Spot capacity now; running on demand instead")
                    spec = replace(spec, capacity_provider="FARGATE")
                    continue
                return TaskOutcome(arch, Status.INFRA_FAILED, reason=err.message,
                                   capacity=spec.capacity_provider, attempts=attempts)
            if started is None:
                return TaskOutcome(arch, Status.CANCELLED, attempts=attempts,
                                   reason=f"stopped on {interrupts.cause()} before it started")
            task, launch = started
            attempts.append(task.arn)
            self._note(f"{arch}: started task {task.task_id} on {spec.capacity_provider}")
            try:
                outcome = self.follow(arch, spec, task, deadline)
            except BaseException as err:
                self.give_up(spec.cluster, task.arn, err)
                raise
            finally:
                self.stop.release(launch)
            outcome = replace(outcome, attempts=list(attempts))
            if outcome.status == Status.SPOT_INTERRUPTED and \
                    spec.capacity_provider == "FARGATE_SPOT":
                self._note(f"{arch}: Spot took the task back; running it again on demand")
                spec = replace(spec, capacity_provider="FARGATE")
                continue
            return outcome

    def start(self, spec: TaskSpec) -> tuple[TaskState, Launch] | None:
        """RunTask under a startedBy of its own, held by the stop signal until released (None:
        the command gave up already, nothing was started). When RunTask's answer does not
        come (a signal, an answer lost on the way, the network), the task it may have started
        all the same is looked for by that startedBy and stopped, before the error goes on."""
        launch = Launch(spec.cluster, f"{spec.started_by}-{uuid.uuid4().hex[:12]}")
        if not self.stop.hold(launch, self._stop_held):
            return None
        try:
            task = self.tasks.run_task(replace(spec, started_by=launch.started_by))
        except BaseException as err:
            if not started_nothing(err):
                self._stop_unseen(launch)
            self.stop.release(launch)
            raise
        launch.arn = task.arn
        return task, launch

    def follow(self, arch: str, spec: TaskSpec, task: TaskState,
               deadline: float) -> TaskOutcome:
        """Stream a started task's log until it stops (stopping it when asked or past
        ``deadline``), then classify how it ended."""
        watch = _Watch(stream=f"{self.stream_prefix}/{self.container}/{task.task_id}",
                       last_status=task.last_status)
        started = self.clock.now()

        def line(text: str) -> None:
            for secret in self.redact:
                text = text.replace(secret, "****")
            watch.tail.append(text)
            self.progress.line(self.subject or (arch if self.tag_lines else ""), text)

        def settled() -> bool:
            self._maybe_stop(spec, task, deadline, watch)
            current = watch.current = self.tasks.describe(spec.cluster, task.arn)
            watch.reads += 1
            if current is not None:
                watch.described = True
                if current.last_status != watch.last_status:
                    watch.last_status = current.last_status
                    self._note(f"{arch}: task {task.task_id} is {current.last_status}")
            gave_up = watch.stop_deadline is not None and self.clock.now() >= watch.stop_deadline
            if current is None and not watch.described:
                # Not visible yet: only a task that stays invisible counts as gone.
                return gave_up or (self.clock.now() - started >= VISIBLE_WITHIN and
                                   watch.reads >= VISIBLE_READS)
            return current is None or current.stopped or gave_up

        self._maybe_stop(spec, task, deadline, watch)  # asked before the first log read
        follower = Follower(StreamCursor(self.logs, self.log_group, watch.stream), line,
                            self.clock, interval=LOG_INTERVAL)
        ending = follower.follow(timeout=max(deadline - started, 0) + STOP_GRACE,
                                 until=settled, reason=f"the {self.what} task to stop")
        if ending != Ending.DONE:
            follower.drain()  # what it wrote before dockyard gave up on it
        final = watch.current if ending == Ending.DONE else None
        outcome = classify(arch, final, watch.stopped_by, self.what)
        if final is None and not watch.described and outcome.status == Status.INFRA_FAILED:
            outcome = replace(outcome, reason=f"ECS never reported the task within "
                                              f"{VISIBLE_WITHIN:.0f} s of starting it")
        return replace(outcome, task_arn=task.arn, capacity=spec.capacity_provider,
                       last_lines=list(watch.tail), log_stream=watch.stream,
                       seconds=self.clock.now() - started)

    def _note(self, text: str) -> None:
        self.progress.note(self.what, text)

    def give_up(self, cluster: str, arn: str, err: BaseException) -> None:
        """``err`` ended dockyard's part (an AWS error while following the task, a signal):
        stop the task, best effort, so nothing is left running; ``err`` then goes on as it
        was."""
        why = f"cancelled from dockyard ({interrupts.cause()})" \
            if isinstance(err, KeyboardInterrupt) else f"dockyard's {self.what} failed: {err}"
        self._stop_quietly(cluster, arn, why)

    def _stop_held(self, launch: Launch) -> None:
        """Stop a held launch when the command gives up at once (one look, no waiting)."""
        why = f"cancelled from dockyard ({interrupts.cause()})"
        if launch.arn is not None:
            self._stop_quietly(launch.cluster, launch.arn, why)
        else:
            self._stop_unseen(launch, looks=1)

    def _stop_unseen(self, launch: Launch, looks: int = FIND_LOOKS) -> None:
        """Stop the task RunTask may have started without its answer reaching dockyard, found
        by its startedBy (ListTasks can lag RunTask: a few looks)."""
        why = f"its start was interrupted ({interrupts.cause()}), or its answer lost"
        for look in range(looks):
            try:
                found = self.tasks.started_by(launch.cluster, launch.started_by)
            except Exception as err:  # best effort: say what to look for
                self._note(f"could not look for the task started as {launch.started_by} "
                           f"({err}); if it runs, stop it in the ECS console")
                return
            for arn in found:
                self._stop_quietly(launch.cluster, arn, why)
            if found:
                return
            if look + 1 < looks:
                self.clock.sleep(FIND_INTERVAL)

    def _stop_quietly(self, cluster: str, arn: str, why: str) -> None:
        task_id = arn.rsplit("/", 1)[-1]
        try:
            self.tasks.stop(cluster, arn, why)
        except Exception as err:  # best effort: the original error is what is reported
            self._note(f"could not stop task {task_id} ({err}); it may still be running: "
                       f"aws ecs stop-task --cluster {cluster} --task {arn}")
            return
        self._note(f"stopping task {task_id}: {why}")

    def _maybe_stop(self, spec: TaskSpec, task: TaskState, deadline: float,
                    watch: _Watch) -> None:
        if watch.stopped_by:
            return
        reason = self.stop.reason or ("timeout" if self.clock.now() >= deadline else None)
        if reason is None:
            return
        why = f"cancelled from dockyard ({interrupts.cause()})" if reason == "cancelled" \
            else f"dockyard's {self.what} timeout passed"
        self.tasks.stop(spec.cluster, task.arn, why)
        self._note(f"stopping task {task.task_id}: {why}")
        watch.stopped_by = reason
        watch.stop_deadline = self.clock.now() + STOP_GRACE


@dataclass
class _Watch:
    """What following one task keeps track of."""

    stream: str
    last_status: str
    stopped_by: str | None = None
    stop_deadline: float | None = None
    described: bool = False
    reads: int = 0  # DescribeTasks calls so far
    current: TaskState | None = None
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))


def classify(arch: str, task: TaskState | None, stopped_by: str | None,
             what: str = "build") -> TaskOutcome:
    """What a stopped task means (pure): see the module docstring for the five endings."""
    if stopped_by == "cancelled":
        return TaskOutcome(arch, Status.CANCELLED, reason=f"stopped on {interrupts.cause()}")
    if stopped_by == "timeout":
        return TaskOutcome(arch, Status.TIMED_OUT,
                           reason=f"stopped when the {what} timeout passed")
    if task is None:
        return TaskOutcome(arch, Status.INFRA_FAILED, reason="ECS no longer knows the task")
    container = task.containers[0] if task.containers else None
    reasons = "; ".join(r for r in (task.stopped_reason, container.reason if container else "")
                        if r)
    base = TaskOutcome(arch, Status.INFRA_FAILED, stop_code=task.stop_code, reason=reasons)
    if task.stop_code == "SpotInterruption":
        return replace(base, status=Status.SPOT_INTERRUPTED)
    if task.stop_code == "TaskFailedToStart" or container is None or container.exit_code is None \
            or any(word in reasons for word in _INFRA_REASONS):
        return base
    if container.exit_code == 0:
        return replace(base, status=Status.SUCCEEDED, exit_code=0)
    return replace(base, status=Status.BUILD_FAILED, exit_code=container.exit_code)
