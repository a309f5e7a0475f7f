"""Fakes at the aws/ boundary, for what moto cannot show: per-resource events, failures,
stuck stacks, throttling. They implement the same methods as the wrappers in dockyard.aws."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from dockyard.aws.account import HostedZone, Identity
from dockyard.aws.cloudformation import ChangeSet, ResourceChange, Stack, StackEvent
from dockyard.aws.ecs import CapacityError, ContainerState, TaskSpec, TaskState
from dockyard.aws.retained import FileSystem, Repository
from dockyard.aws.storage import LogPage
from dockyard.polling import RetryableError
from dockyard.progress import DeploymentEvent
from dockyard.ui.console import Console

START = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


class FakeClock:
    """Time that moves only when something sleeps; records the sleeps."""

    def __init__(self) -> None:
        self.time = 0.0
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.time += seconds


# One step of a stack operation: the resource events it adds, then the stack's status.
Step = tuple[list[tuple[str, str, str, str]], str]


class Notes(list[str]):
    """A dockyard.progress.Progress that keeps what it is told: each note's text in the list
    itself (a deployment event's as people read it), each task line in ``lines``, each
    deployment event in ``deployments``."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.deployments: list[DeploymentEvent] = []

    def deployment(self, event: DeploymentEvent) -> None:
        self.deployments.append(event)
        self.append(event.text())

    def note(self, subject: str, text: str) -> None:
        self.append(text)

    def line(self, subject: str, text: str) -> None:
        self.lines.append(text)

    def changes(self, stack: str, changes: list[ResourceChange]) -> None:
        self.append(f"{stack}: {len(changes)} changes")

    def event(self, event: StackEvent) -> None:
        self.append(f"{event.stack_name} {event.logical_id} {event.status}")

    def result(self, result: object) -> None:
        self.append(f"result {result}")


@dataclass
class FakeCloudFormation:
    """Stacks in memory. Executing a change set plays ``scripts[name]``, one step per
    DescribeStacks; without a script the operation completes at once."""

    stacks: dict[str, Stack] = field(default_factory=dict)
    scripts: dict[str, list[Step]] = field(default_factory=dict)
    changes: list[ResourceChange] = field(default_factory=lambda: [
        ResourceChange("Add", "Queue", "AWS::SQS::Queue")])
    empty: set[str] = field(default_factory=set)
    throttle_events: int = 0
    stale_reads: int = 0
    interrupt_after: int | None = None
    calls: list[str] = field(default_factory=list)
    events: dict[str, list[StackEvent]] = field(default_factory=dict)
    _pending: dict[str, tuple[str, bool, dict[str, str]]] = field(default_factory=dict)
    _running: dict[str, list[Step]] = field(default_factory=dict)
    _stale_reads: dict[str, tuple[Stack, int]] = field(default_factory=dict)
    _count: int = 0
    _event_reads: int = 0
    _outputs: dict[str, dict[str, str]] = field(default_factory=dict)

    def _tick(self) -> datetime:
        self._count += 1
        return START + timedelta(seconds=self._count)

    def _event(self, stack: str, logical: str, kind: str, status: str, reason: str) -> None:
        event = StackEvent(event_id=f"e{self._count}-{logical}-{status}", stack_name=stack,
                           logical_id=logical, resource_type=kind, status=status,
                           reason=reason, timestamp=self._tick())
        self.events.setdefault(self._id(stack), []).append(event)

    @staticmethod
    def _id(name: str) -> str:
        return name if name.startswith("arn:") else f"arn:aws:cloudformation:stack/{name}"

    def _by_id(self, name_or_id: str) -> Stack | None:
        return next((s for s in self.stacks.values()
                     if name_or_id in (s.name, s.stack_id)), None)

    def _set(self, name: str, status: str, **changes: object) -> None:
        old = self.stacks[name]
        self.stacks[name] = Stack(**{**old.__dict__, "status": status, **changes})

    def describe(self, name: str) -> Stack | None:
        self.calls.append(f"describe {name}")
        stack = self._by_id(name)
        if stack is None:
            return None
        old, left = self._stale_reads.get(stack.name, (stack, 0))
        if left > 0:
            self._stale_reads[stack.name] = (old, left - 1)
            return old
        if self.interrupt_after is not None and stack.name in self._running:
            self.interrupt_after -= 1
            if self.interrupt_after < 0:
                self.interrupt_after = None
                raise KeyboardInterrupt
        steps = self._running.get(stack.name)
        if steps:
            resource_events, status = steps.pop(0)
            for logical, kind, event_status, reason in resource_events:
                self._event(stack.name, logical, kind, event_status, reason)
            self._event(stack.name, stack.name, "AWS::CloudFormation::Stack", status, "")
            self._set(stack.name, status)
            if not steps:
                del self._running[stack.name]
        return self._by_id(name)

    def create_change_set(self, *, stack: str, name: str, template: str,
                          parameters: dict[str, str], tags: dict[str, str],
                          create: bool) -> tuple[str, str] | None:
        self.calls.append(f"create_change_set {stack} {'CREATE' if create else 'UPDATE'}")
        if create:
            self.stacks[stack] = Stack(name=stack, stack_id=self._id(stack),
                                       status="REVIEW_IN_PROGRESS")
        arn = f"arn:changeSet/{stack}/{name}"
        self._pending[arn] = (stack, create, parameters)
        # Each output the template declares, with a placeholder value (the next stack's input).
        self._outputs[stack] = {key: f"{key}-of-{stack}"
                                for key in json.loads(template).get("Outputs", {})}
        return arn, self._id(stack)

    def template(self, name: str) -> dict[str, object]:
        """The deployed template: the fake keeps none, so every property reads as new."""
        return {}

    def describe_change_set(self, arn: str) -> ChangeSet:
        stack, _, _ = self._pending[arn]
        if stack in self.empty:
            return ChangeSet(arn, self._id(stack), "FAILED", "UNAVAILABLE",
                             "The submitted information didn't contain changes.", [])
        return ChangeSet(arn, self._id(stack), "CREATE_COMPLETE", "AVAILABLE", "",
                         list(self.changes))

    def execute_change_set(self, arn: str) -> None:
        stack, create, parameters = self._pending.pop(arn)
        self.calls.append(f"execute {stack}")
        verb = "CREATE" if create else "UPDATE"
        self._stale(stack)
        self._set(stack, f"{verb}_IN_PROGRESS", parameters=parameters,
                  outputs={**self._outputs.get(stack, {}),
                           "Url": f"https://{stack}.example.com/"},
                  **({} if create else {"updated": self._tick()}))
        self._running[stack] = list(self.scripts.get(stack, [([], f"{verb}_COMPLETE")]))

    def delete_change_set(self, arn: str) -> None:
        self.calls.append("delete_change_set")
        self._pending.pop(arn, None)

    def delete_stack(self, name: str) -> None:
        self.calls.append(f"delete_stack {name}")
        self._stale(name)
        self._set(name, "DELETE_IN_PROGRESS")
        self._running[name] = list(self.scripts.get(f"delete {name}", [([], "DELETE_COMPLETE")]))

    def continue_update_rollback(self, name: str) -> None:
        self.calls.append(f"continue_update_rollback {name}")
        stack = self._by_id(name)
        assert stack is not None and stack.status == "UPDATE_ROLLBACK_FAILED"
        self._set(stack.name, "UPDATE_ROLLBACK_IN_PROGRESS")
        self._running[stack.name] = list(self.scripts.get(
            f"continue {stack.name}", [([], "UPDATE_ROLLBACK_COMPLETE")]))

    def _stale(self, name: str) -> None:
        """DescribeStacks shows the state before this call for ``stale_reads`` more reads."""
        if self.stale_reads:
            self._stale_reads[name] = (self.stacks[name], self.stale_reads)

    def cancel_update(self, name: str) -> None:
        self.calls.append(f"cancel_update {name}")
        self._running[name] = [([], "UPDATE_ROLLBACK_IN_PROGRESS"),
                               ([], "UPDATE_ROLLBACK_COMPLETE")]

    def events_since(self, stack_id: str, seen: set[str]) -> list[StackEvent]:
        self._event_reads += 1
        if self.throttle_events and self._event_reads > 1:
            self.throttle_events -= 1
            self.calls.append("throttled")
            raise RetryableError("read stack events: AWS is throttling requests (Throttling)")
        return [e for e in self.events.get(self._id(stack_id), []) if e.event_id not in seen]

    def list_tagged(self, key: str, value: str) -> list[Stack]:
        return [s for s in self.stacks.values() if not s.status.startswith("DELETE_COMPLETE")]


class FakeAccount:
    """An account with a default VPC and the example's hosted zone."""

    def __init__(self, *, zone: bool = True,
                 secret_keys: list[str] | None = None, pem_label: str = "PRIVATE KEY") -> None:
        self.zone = zone
        self.pem_label = pem_label  # what the secret's private_key holds
        self.keys = ["private_key", "webhook_secret"] if secret_keys is None \
            else secret_keys
        self.weights: dict[tuple[str, str], dict[str, int]] = {}
        self.ongoing: dict[str, str] = {}  # service -> "IN_PROGRESS at BAKE_TIME"
        self.test_headers: dict[str, str] = {}
        self.serving: dict[str, int] = {}  # service -> the port its tasks listen on
        self.created: dict[str, int] = {}  # stack -> its target group's port
        self.existing: set[str] = set()  # services with no port (workers)
        self.resources: dict[str, dict[str, str]] = {}  # stack -> logical -> physical id

    def serving_port(self, cluster: str, service: str) -> int | None:
        return self.serving.get(service)

    def stack_resources(self, stack: str) -> dict[str, str]:
        return self.resources.get(stack, {})

    def service_exists(self, cluster: str, service: str) -> bool:
        return service in self.serving or service in self.existing

    def target_group_port(self, stack: str, logical_id: str) -> int | None:
        return self.created.get(stack)

    def identity(self) -> Identity:
        return Identity(account="123456789012", arn="arn:aws:iam::123456789012:user/dev")

    def default_vpc(self) -> tuple[str, list[str]]:
        return "vpc-1", ["subnet-a", "subnet-b"]

    def secret_arn(self, name: str, field: str = "") -> str:
        return f"arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:{name}-AbCdEf"

    def secret_exists(self, ref: str) -> bool | None:
        return bool(self.keys)

    def secret_fields(self, name: str) -> dict[str, str] | None:
        return {k: self.pem_label if k == "private_key" else "" for k in self.keys} \
            if self.keys else None

    def forward_weights(self, stack: str, rule: str) -> dict[str, int]:
        return self.weights.get((stack, rule), {})

    def forget_rules(self, stack: str) -> None:
        pass  # nothing cached

    def ongoing_deployment(self, cluster: str, service: str) -> str:
        return self.ongoing.get(service, "")

    def test_header(self, stack: str, rule: str) -> str:
        return self.test_headers.get(stack, "")

    def hosted_zone(self, domain: str, zone_id: str | None) -> HostedZone:
        if not self.zone:
            from dockyard.aws.errors import AwsPreconditionError

            raise AwsPreconditionError(f"no public Route 53 hosted zone for {domain}")
        return HostedZone(zone_id="Z123", name=domain + ".")


@dataclass
class FakeRetained:
    """Kept data: nothing unless a test puts some there."""

    kept_file_systems: list[FileSystem] = field(default_factory=list)
    kept_repositories: list[Repository] = field(default_factory=list)
    kept_buckets: list[str] = field(default_factory=list)

    def file_systems(self, project: str) -> list[FileSystem]:
        return list(self.kept_file_systems)

    def repositories(self, project: str) -> list[Repository]:
        return list(self.kept_repositories)

    def bucket_exists(self, bucket: str) -> bool:
        return bucket in self.kept_buckets


def text_console() -> tuple[Console, io.StringIO, io.StringIO]:
    """A console writing to strings (not a terminal: plain timestamped lines)."""
    out, err = io.StringIO(), io.StringIO()
    return Console(out=out, err=err), out, err


# -- builds -----------------------------------------------------------------------------------

@dataclass
class FakeLogs:
    """Log streams in memory; a token is the count of lines already read."""

    streams: dict[str, list[str]] = field(default_factory=dict)

    def read(self, group: str, stream: str, token: str | None) -> LogPage:
        lines = self.streams.get(stream, [])
        start = int(token or 0)
        return LogPage(lines[start:], str(len(lines)))


@dataclass
class TaskScript:
    """How one started task behaves: the statuses it goes through (one per DescribeTasks; the
    last one stays, so ["RUNNING"] runs until stopped), the log lines it writes on the way,
    the lines CloudWatch shows only after it stopped, and how it ends."""

    statuses: list[str] = field(default_factory=lambda: ["PENDING", "RUNNING", "RUNNING",
                                                         "STOPPED"])
    lines: list[str] = field(default_factory=lambda: ["INFO step 1", "INFO step 2"])
    late_lines: list[str] = field(default_factory=lambda: ["INFO Pushed repo@sha256:aa"])
    exit_code: int | None = 0
    stop_code: str = "EssentialContainerExited"
    stopped_reason: str = "Essential container in task exited"
    container_reason: str = ""
    capacity_error: bool = False
    missing_reads: int = 0  # DescribeTasks answers MISSING this often first (eventual consistency)
    describe_error: Exception | None = None  # DescribeTasks raises it from the first read
    stop_error: Exception | None = None  # StopTask raises it
    answer_lost: BaseException | None = None  # RunTask starts the task, then raises it


@dataclass
class FakeEcs:
    """ECS for one-off tasks: each RunTask takes the next script."""

    logs: FakeLogs
    scripts: list[TaskScript]
    calls: list[str] = field(default_factory=list)
    started: list[TaskSpec] = field(default_factory=list)
    _tasks: dict[str, tuple[TaskScript, list[str]]] = field(default_factory=dict)
    _started_by: dict[str, str] = field(default_factory=dict)

    def run_task(self, spec: TaskSpec) -> TaskState:
        script = self.scripts.pop(0)
        self.calls.append(f"run_task {spec.capacity_provider}")
        if script.capacity_error:
            raise CapacityError(f"{spec.capacity_provider} has no capacity: Capacity is "
                                "unavailable at this time")
        arn = f"arn:aws:ecs:ap-southeast-2:123456789012:task/acme/task{len(self._tasks) + 1}"
        self.started.append(spec)
        self._tasks[arn] = (script, list(script.statuses))
        self._started_by[arn] = spec.started_by
        if script.answer_lost is not None:
            raise script.answer_lost
        return TaskState(arn=arn, last_status="PROVISIONING",
                         capacity_provider=spec.capacity_provider, tags=spec.tags,
                         command=spec.command)

    def started_by(self, cluster: str, started_by: str) -> list[str]:
        self.calls.append(f"list_tasks {started_by}")
        return [arn for arn, by in self._started_by.items()
                if by == started_by and not self.stopped(arn)]

    def stopped(self, arn: str) -> bool:
        """Whether StopTask reached the task (or its script ended it)."""
        return any(c.startswith(f"stop {arn} ") for c in self.calls) or \
            self._tasks[arn][1] == ["STOPPED"]

    def describe(self, cluster: str, arn: str) -> TaskState | None:
        script, remaining = self._tasks[arn]
        if script.describe_error is not None:
            raise script.describe_error
        if script.missing_reads:
            script.missing_reads -= 1
            return None
        stream = self.logs.streams.setdefault(f"build/kaniko/{arn.rsplit('/', 1)[-1]}", [])
        status = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        if status == "RUNNING" and len(stream) < len(script.lines):
            stream.append(script.lines[len(stream)])
        if status != "STOPPED":
            return TaskState(arn=arn, last_status=status)
        stream.extend(line for line in script.lines if line not in stream)
        stream.extend(line for line in script.late_lines if line not in stream)
        stopped_by_us = any(c.startswith(f"stop {arn}") for c in self.calls)
        return TaskState(
            arn=arn, last_status="STOPPED",
            stop_code="UserInitiated" if stopped_by_us else script.stop_code,
            stopped_reason=script.stopped_reason,
            containers=[ContainerState("kaniko", 143 if stopped_by_us else script.exit_code,
                                       script.container_reason)])

    def find(self, cluster: str, arn: str) -> TaskState | None:
        return self.describe(cluster, arn) if arn in self._tasks else None

    def stop(self, cluster: str, arn: str, reason: str) -> None:
        script, _ = self._tasks[arn]
        if script.stop_error is not None:
            self.calls.append(f"refused stop {arn}")
            raise script.stop_error
        self.calls.append(f"stop {arn} {reason}")
        self._tasks[arn] = (script, ["STOPPING", "STOPPED"])
