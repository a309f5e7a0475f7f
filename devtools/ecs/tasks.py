"""A service's tasks as ECS lists and describes them, and ECS Exec into them.

The deployment players (rolling.py, progressive.py) count a deployment's tasks; this module
keeps as many RUNNING tasks of each deployment as it counts, so ListTasks (``serviceName``,
``startedBy``) and DescribeTasks answer as ECS does: a service's task is in the group
``service:NAME``, started by its deployment's id (ECS API Reference, Task.group, Task.startedBy),
with the service's tags when it propagates them (CreateService.propagateTags SERVICE). A task
the scheduler no longer wants is STOPPED with stopCode ``ServiceSchedulerInitiated`` (API
Reference, Task.stopCode); deleting a service stops its tasks (DeleteService: "tasks ... are
stopped").

ECS Exec (ECS Developer Guide, "Monitor Amazon ECS containers with ECS Exec"): a task has it
when its service had ``enableExecuteCommand`` as the task started ("You can't turn on ECS
Exec for existing tasks. It can only be turned on for new tasks."), and then its container
runs the ``ExecuteCommandAgent`` managed agent (API Reference, ManagedAgent). ExecuteCommand
is refused with InvalidParameterException for a task without it; with
TargetNotConnectedException when the agent cannot open its channels, which is what a task role
without the ``ssmmessages`` permissions gives (the Developer Guide's IAM section; the
amazon-ecs-exec-checker's first check); ``interactive`` must be true ("Amazon ECS only
supports initiating interactive sessions"). A session is written to the task's log group under
``ecs-execute-command-<session id>`` when the cluster's logging is DEFAULT (API Reference,
ExecuteCommandConfiguration: "the awslogs configuration in the task definition is used") and
the task role may write there.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from devtools.ecs.clock import CLOCK

AGENT = "ExecuteCommandAgent"
NOT_ENABLED = ("The execute command failed because execute command was not enabled when the "
               "task was run or the execute command agent isn't running. Wait and try the "
               "command again or run a new task with execute command enabled and try again.")
EXEC_CHANNELS = ("ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
                 "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel")
_RUNNING = [("RUNNING", "RUNNING")]  # moto's task state machine, held where ECS holds it
_STOPPED = [("STOPPED", "STOPPED")]


def service_tasks(backend: Any, service: Any, *, stopped: bool = False) -> list[Any]:
    """The service's tasks moto holds (the running ones, or with ``stopped`` all)."""
    return [t for t in backend.tasks.get(service.cluster_name, {}).values()
            if t.group == f"service:{service.name}"
            and (stopped or t.last_status != "STOPPED")]


def sync(backend: Any, service: Any) -> None:
    """Start or stop tasks so each deployment has as many RUNNING as it counts (none for a
    deleted service)."""
    if getattr(service, "status", "ACTIVE") != "ACTIVE":
        stop_all(backend, service, "Service deleted")
        return
    if not getattr(service, "network_configuration", None):
        # moto's CloudFormation keeps no NetworkConfiguration of the services a stack creates
        # (Jenkins' controller and agent pools), and an awsvpc task needs one: such services
        # get no task records here (their counts still play).
        return
    by_deployment: dict[str, list[Any]] = {}
    for task in service_tasks(backend, service):
        by_deployment.setdefault(task.started_by, []).append(task)
    for deployment in service.deployments:
        mine = by_deployment.pop(deployment["id"], [])
        wanted = int(deployment.get("runningCount") or 0)
        for _ in range(wanted - len(mine)):
            _start(backend, service, deployment)
        for task in mine[wanted:] if wanted < len(mine) else []:
            stop(task, f"Scaling activity initiated by (deployment {deployment['id']})")
    for gone in by_deployment.values():  # deployments ECS no longer lists
        for task in gone:
            stop(task, "Scaling activity initiated by the service scheduler")


def stop_all(backend: Any, service: Any, reason: str) -> None:
    """A deleted service's tasks stop."""
    for task in service_tasks(backend, service):
        stop(task, reason)


def patch_delete(backend_class: Any) -> None:
    """DeleteService stops the service's tasks."""
    delete = backend_class.delete_service

    def delete_service(self: Any, cluster_str: str, service_str: str, force: bool) -> Any:
        service = self._get_service(cluster_str, service_str.rsplit("/", 1)[-1])
        deleted = delete(self, cluster_str, service_str, force)
        stop_all(self, service, "Service deleted")
        return deleted

    backend_class.delete_service = delete_service


def _start(backend: Any, service: Any, deployment: dict[str, Any]) -> Any:
    from moto.ecs.models import Task

    definition = backend.describe_task_definition(deployment["taskDefinition"])
    cluster = backend.clusters[service.cluster_name]
    propagated = service.tags if getattr(service, "propagate_tags", "") == "SERVICE" else []
    task = Task(cluster, definition, None, None, backend, group=f"service:{service.name}",
                launch_type="FARGATE", started_by=deployment["id"], tags=list(propagated or []),
                networking_configuration=service.network_configuration,
                platform_version="1.4.0")
    task._transitions = _RUNNING
    task.last_status = "RUNNING"
    task.started_at = CLOCK.stamp()
    task.enable_execute_command = bool(getattr(service, "enable_execute_command", False))
    for container in task.containers:
        container.last_status = "RUNNING"
        container.runtime_id = f"{task.id}-{uuid.uuid4().hex[:10]}"
        if task.enable_execute_command:
            container.managed_agents = [{"name": AGENT, "lastStatus": "RUNNING",
                                         "lastStartedAt": task.started_at}]
    backend.tasks.setdefault(cluster.name, {})[task.task_arn] = task
    return task


def stop(task: Any, reason: str) -> None:
    """The scheduler stops a task."""
    task._transitions = _STOPPED
    task.last_status = "STOPPED"
    task.desired_status = "STOPPED"
    task.stopped_reason = reason
    task.stop_code = "ServiceSchedulerInitiated"
    task.stopped_at = CLOCK.stamp()
    for container in task.containers:
        container.last_status = "STOPPED"
        for agent in getattr(container, "managed_agents", None) or []:
            agent["lastStatus"] = "STOPPED"


def find(backend: Any, cluster: str, ref: str) -> Any:
    """The task ``ref`` (an ARN or id) of ``cluster``, or None."""
    task_id = ref.rsplit("/", 1)[-1]
    return next((t for t in backend.tasks.get(cluster.rsplit("/", 1)[-1], {}).values()
                 if t.id == task_id), None)


def execute_command(self: Any) -> Any:
    """ExecuteCommand (ECS API Reference): a session into a container of a running task."""
    from moto.core.responses import ActionResult
    from moto.ecs.exceptions import ECSException, InvalidParameterException

    backend = self.ecs_backend
    cluster = str(self._get_param("cluster") or "default")
    if not self._get_param("command"):
        raise InvalidParameterException("command is required.")  # API Reference: required
    if self._get_param("interactive") is not True:
        raise InvalidParameterException(
            "Interactive is the only mode supported currently.")
    task = find(backend, cluster, str(self._get_param("task") or ""))
    if task is None:
        raise InvalidParameterException("The specified task was not found.")
    names = [c.name for c in task.containers]
    container = self._get_param("container") or (names[0] if len(names) == 1 else None)
    if container not in names:
        raise InvalidParameterException(
            "The specified container was not found." if container
            else "A container name must be specified when the task has more than one.")
    if task.last_status != "RUNNING" or not getattr(task, "enable_execute_command", False):
        raise InvalidParameterException(NOT_ENABLED)
    definition = backend.describe_task_definition(task.task_definition_arn)
    role = getattr(definition, "task_role_arn", None) or ""
    if not role or not all(_role_may(role, action, "*") for action in EXEC_CHANNELS):
        raise ECSException("TargetNotConnectedException",
                           "The execute command failed due to an internal error. Try again "
                           "later.")
    session = f"ecs-execute-command-{uuid.uuid4().hex[:17]}"
    _audit(definition, role, session, str(self._get_param("command") or ""), backend)
    chosen = next(c for c in task.containers if c.name == container)
    return ActionResult({
        "clusterArn": task.cluster_arn, "containerArn": chosen.container_arn,
        "containerName": container, "interactive": True, "taskArn": task.task_arn,
        "session": {"sessionId": session,
                    "streamUrl": f"wss://ssmmessages.{backend.region_name}.amazonaws.com/v1/"
                                 f"data-channel/{session}?role=publish_subscribe",
                    "tokenValue": uuid.uuid4().hex * 4}})


def _role_may(role_arn: str, action: str, resource: str) -> bool:
    from devtools.strict.authz import role_policies
    from devtools.strict.policy import evaluate

    return evaluate(role_policies(role_arn), action, resource, {}).allowed


def _audit(definition: Any, role: str, session: str, command: str, backend: Any) -> None:
    """The session's record, where the agent writes it: the task's awslogs group, with the
    task role's permissions (a role that may not write there leaves no record)."""
    from moto.logs.models import logs_backends

    options = next(((c.get("logConfiguration") or {}).get("options") or {}
                    for c in definition.container_definitions), {})
    group = options.get("awslogs-group")
    if not group:
        return
    arn = (f"arn:aws:logs:{backend.region_name}:{backend.account_id}:log-group:{group}:"
           f"log-stream:{session}")
    if not (_role_may(role, "logs:DescribeLogGroups", "*")
            and _role_may(role, "logs:CreateLogStream", arn)
            and _role_may(role, "logs:PutLogEvents", arn)):
        return
    logs = logs_backends[backend.account_id][backend.region_name]
    if group not in logs.groups:
        return
    logs.create_log_stream(group, session)
    stamp = int(time.time() * 1000)  # CloudWatch Logs takes wall-clock events only
    logs.put_log_events(group, session, [{"timestamp": stamp, "message": f"$ {command}"}])
