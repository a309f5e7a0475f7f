"""ECS one-off tasks, in dockyard's terms: start, describe, stop (services: services.py)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from dockyard.aws.errors import (
    AwsError,
    AwsPreconditionError,
    error_code,
    translate,
    translated,
)

# RunTask failure reasons that mean "no capacity right now", worth one retry elsewhere.
_CAPACITY_WORDS = ("capacity", "insufficient", "unavailable")


class RunTaskFailed(AwsError):
    """RunTask answered with failures and no task."""


class CapacityError(RunTaskFailed):
    """RunTask could not place the task: no capacity of that kind right now."""


def started_nothing(err: BaseException) -> bool:
    """Whether RunTask's failure is ECS's own answer, so that no task was started. Anything
    else (a signal, an answer lost on the way, the network) leaves it unknown: a task may be
    running all the same."""
    return isinstance(err, RunTaskFailed) or isinstance(err.__cause__, ClientError)


@dataclass(frozen=True)
class ContainerState:
    """A container of a task."""

    name: str
    exit_code: int | None
    reason: str
    runtime_id: str = ""  # the container runtime's id (ECS Exec's session target names it)
    exec_agent: str = ""  # the ExecuteCommandAgent's lastStatus, "" without ECS Exec


@dataclass(frozen=True)
class TaskState:
    """A task as DescribeTasks reports it."""

    arn: str
    last_status: str
    stop_code: str = ""
    stopped_reason: str = ""
    containers: list[ContainerState] = field(default_factory=list)
    capacity_provider: str = ""
    created_at: datetime | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None
    tags: dict[str, str] = field(default_factory=dict)
    command: list[str] = field(default_factory=list)
    group: str = ""  # "service:NAME" for a service's tasks, else "family:..." or a given group
    task_definition: str = ""
    execute_command: bool = False  # enableExecuteCommand: started with ECS Exec

    @property
    def standalone(self) -> bool:
        """Started by RunTask (a build, a Jenkins agent), not by a service."""
        return not self.group.startswith("service:")

    @property
    def task_id(self) -> str:
        """The last part of the ARN: the id in log stream names and the console."""
        return self.arn.rsplit("/", 1)[-1]

    @property
    def stopped(self) -> bool:
        """ECS is done with the task."""
        return self.last_status == "STOPPED"

    def container(self, name: str) -> ContainerState | None:
        """The container called ``name``."""
        return next((c for c in self.containers if c.name == name), None)


@dataclass(frozen=True)
class TaskSpec:
    """Everything one RunTask needs."""

    cluster: str
    task_definition: str
    subnets: list[str]
    security_groups: list[str]
    assign_public_ip: bool
    capacity_provider: str
    container: str
    command: list[str]
    cpu: int
    memory: int
    storage_gib: int | None  # None: the task definition's (Fargate's 20 GiB)
    tags: dict[str, str]
    started_by: str = "dockyard"
    task_role: str | None = None  # a RunTask override of the task definition's task role
    # Added to the container's environment for this task only (ContainerOverride.environment).
    environment: tuple[tuple[str, str], ...] = ()


# What RunTask refuses, checked before anything is registered or started (ECS API Reference,
# RunTask): "A total of 8192 characters are allowed for overrides. This limit includes the
# JSON formatting characters of the override structure" (counted here as botocore sends it,
# json.dumps with its spaces and \u escapes: at least what ECS counts); "startedBy ... Up to
# 128 letters (uppercase and lowercase), numbers, hyphens (-), forward slash (/), and
# underscores (_) are allowed"; and of tags (ECS API Reference, Tag): "Maximum number of tags
# per resource - 50", "Maximum key length - 128", "Maximum value length - 256" (the aws:ecs:
# managed tags do not count).
OVERRIDES_CHARACTERS = 8192
STARTED_BY = re.compile(r"[A-Za-z0-9_/-]{1,128}")
TAGS_PER_TASK = 50
TAG_KEY_CHARACTERS = 128
TAG_VALUE_CHARACTERS = 256


def task_overrides(spec: TaskSpec) -> dict[str, Any]:
    """RunTask's ``overrides`` for ``spec``."""
    overrides: dict[str, Any] = {
        "cpu": str(spec.cpu), "memory": str(spec.memory),
        "containerOverrides": [{"name": spec.container, "command": spec.command,
                                "memory": spec.memory}]}
    if spec.environment:
        overrides["containerOverrides"][0]["environment"] = [
            {"name": k, "value": v} for k, v in spec.environment]
    if spec.storage_gib is not None:
        overrides["ephemeralStorage"] = {"sizeInGiB": spec.storage_gib}
    if spec.task_role is not None:
        overrides["taskRoleArn"] = spec.task_role
    return overrides


def overrides_characters(spec: TaskSpec) -> int:
    """How long RunTask's ``overrides`` of ``spec`` are, as ECS limits them."""
    return len(json.dumps(task_overrides(spec)))


def run_task_problem(spec: TaskSpec) -> str | None:
    """Why RunTask would refuse ``spec`` (a limit above), else None."""
    size = overrides_characters(spec)
    if size > OVERRIDES_CHARACTERS:
        return (f"RunTask takes at most {OVERRIDES_CHARACTERS:,} characters of overrides "
                f"(the command, as JSON), and these are {size:,}")
    if not STARTED_BY.fullmatch(spec.started_by):
        return f"startedBy {spec.started_by!r} is not 1 to 128 letters, digits, - / _"
    if len(spec.tags) > TAGS_PER_TASK:
        return f"a task takes at most {TAGS_PER_TASK} tags, and these are {len(spec.tags)}"
    for key, value in spec.tags.items():
        if not 1 <= len(key) <= TAG_KEY_CHARACTERS or len(value) > TAG_VALUE_CHARACTERS:
            return (f"the tag {key[:40]!r} is longer than ECS takes ({TAG_KEY_CHARACTERS} "
                    f"characters of key, {TAG_VALUE_CHARACTERS} of value)")
    return None


class Ecs:
    """The ECS calls of a build."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def run_task(self, spec: TaskSpec) -> TaskState:
        """Start one task; raises CapacityError when ECS has no room for it."""
        overrides = task_overrides(spec)
        with translated("start the task"):
            response = self._client.run_task(
                cluster=spec.cluster, taskDefinition=spec.task_definition, count=1,
                capacityProviderStrategy=[{"capacityProvider": spec.capacity_provider,
                                           "weight": 1}],
                networkConfiguration={"awsvpcConfiguration": {
                    "subnets": spec.subnets, "securityGroups": spec.security_groups,
                    "assignPublicIp": "ENABLED" if spec.assign_public_ip else "DISABLED"}},
                overrides=overrides,
                tags=[{"key": k, "value": v} for k, v in spec.tags.items()],
                startedBy=spec.started_by, enableECSManagedTags=True)
        failures = response.get("failures", [])
        if failures or not response.get("tasks"):
            reason = "; ".join(f"{f.get('reason', '')} {f.get('detail', '')}".strip()
                               for f in failures) or "no task was started"
            if any(word in reason.lower() for word in _CAPACITY_WORDS):
                raise CapacityError(f"{spec.capacity_provider} has no capacity: {reason}")
            raise RunTaskFailed(f"RunTask failed: {reason}")
        return task_state(response["tasks"][0])

    def describe(self, cluster: str, arn: str) -> TaskState | None:
        """The task, or None when ECS no longer knows it (about an hour after it stopped)."""
        with translated("describe the task"):
            response = self._client.describe_tasks(cluster=cluster, tasks=[arn], include=["TAGS"])
        tasks = response.get("tasks", [])
        return task_state(tasks[0]) if tasks else None

    def find(self, cluster: str, arn: str) -> TaskState | None:
        """The task, or None when ECS does not know it or this identity may not see it: a
        pipeline's role describes only tasks tagged with its own app, and IAM refuses any
        other task just as it refuses one that does not exist (the policy's
        aws:ResourceTag condition cannot hold for either)."""
        try:
            return self.describe(cluster, arn)
        except AwsPreconditionError as err:
            if err.denied:
                return None
            raise

    def execute_command(self, cluster: str, task: str, container: str,
                        command: str) -> dict[str, Any]:
        """Open an ECS Exec session running ``command`` in a container of a running task;
        returns the session (``sessionId``, ``streamUrl``, ``tokenValue``: a secret for the
        Session Manager plugin alone)."""
        with translated(f"open an ECS Exec session in task {task.rsplit('/', 1)[-1]}"):
            response = self._client.execute_command(
                cluster=cluster, task=task, container=container, command=command,
                interactive=True)
        return dict(response["session"])

    @property
    def endpoint(self) -> str:
        """The ECS endpoint this client calls (the Session Manager plugin is given it)."""
        return str(self._client.meta.endpoint_url)

    def started_by(self, cluster: str, started_by: str) -> list[str]:
        """The ARNs of the tasks not stopped yet that RunTask started with ``started_by``
        (ListTasks' own filter: "limits the results to tasks that were started with that
        value", ECS API Reference, ListTasks)."""
        with translated("list the tasks started as " + started_by):
            pages = self._client.get_paginator("list_tasks").paginate(
                cluster=cluster, startedBy=started_by)
            return [arn for page in pages for arn in page.get("taskArns", [])]

    def stop(self, cluster: str, arn: str, reason: str) -> None:
        """Ask ECS to stop the task (SIGTERM, then SIGKILL after the stop timeout)."""
        with translated("stop the task"):
            self._client.stop_task(cluster=cluster, task=arn, reason=reason[:255])

    def running(self, cluster: str) -> list[TaskState]:
        """Every task of the cluster ECS has not stopped yet (none when there is no cluster)."""
        arns: list[str] = []
        try:
            for page in self._client.get_paginator("list_tasks").paginate(cluster=cluster):
                arns += page.get("taskArns", [])
        except ClientError as err:
            if error_code(err) == "ClusterNotFoundException":
                return []
            raise translate(err, f"list the tasks of {cluster}") from err
        found: list[TaskState] = []
        with translated(f"describe the tasks of {cluster}"):
            for start in range(0, len(arns), 100):  # DescribeTasks takes 100 at most
                raw = self._client.describe_tasks(cluster=cluster, tasks=arns[start:start + 100],
                                                  include=["TAGS"])
                found += [task_state(t) for t in raw.get("tasks", [])]
                # Listed but not described yet (eventual consistency): still there.
                found += [TaskState(arn=f["arn"], last_status="UNKNOWN")
                          for f in raw.get("failures", []) if f.get("reason") == "MISSING"]
        return [t for t in found if not t.stopped]


def task_state(raw: dict[str, Any]) -> TaskState:
    overrides = raw.get("overrides", {}).get("containerOverrides", [])
    return TaskState(
        arn=raw["taskArn"], last_status=raw.get("lastStatus", ""),
        stop_code=raw.get("stopCode", ""), stopped_reason=raw.get("stoppedReason", ""),
        containers=[ContainerState(
            name=c.get("name", ""), exit_code=c.get("exitCode"), reason=c.get("reason", ""),
            runtime_id=c.get("runtimeId", ""),
            exec_agent=next((a.get("lastStatus", "") for a in c.get("managedAgents", [])
                             if a.get("name") == "ExecuteCommandAgent"), ""))
            for c in raw.get("containers", [])],
        capacity_provider=raw.get("capacityProviderName", ""),
        created_at=raw.get("createdAt"), started_at=raw.get("startedAt"),
        stopped_at=raw.get("stoppedAt"),
        tags={t["key"]: t["value"] for t in raw.get("tags", [])},
        command=list(overrides[0].get("command", [])) if overrides else [],
        group=raw.get("group", ""), task_definition=raw.get("taskDefinitionArn", ""),
        execute_command=bool(raw.get("enableExecuteCommand")))
