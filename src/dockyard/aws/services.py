"""ECS services in dockyard's terms: task definitions, create/update/delete, deployments, and the
tasks a deployment started."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dockyard.aws.ecs import TaskState, task_state
from dockyard.aws.errors import translated

# ListServiceDeployments answers at most this many per page; DescribeServiceRevisions takes
# at most this many ARNs.
_PAGE = 20
# How far back `rollback` looks for a deployment that completed.
_HISTORY_PAGES = 5


@dataclass(frozen=True)
class ServiceEvent:
    """One line of an ECS service's event log."""

    event_id: str
    created_at: datetime | None
    message: str


@dataclass(frozen=True)
class Deployment:
    """One deployment of a service, as DescribeServices reports it."""

    deployment_id: str
    status: str  # PRIMARY, ACTIVE or INACTIVE
    task_definition: str
    desired: int = 0
    running: int = 0
    pending: int = 0
    failed: int = 0
    rollout_state: str = ""  # IN_PROGRESS, COMPLETED or FAILED
    rollout_reason: str = ""
    created_at: datetime | None = None


@dataclass(frozen=True)
class ServiceState:
    """An ECS service as DescribeServices reports it."""

    name: str
    status: str
    desired: int
    running: int
    pending: int
    rollout_state: str = ""
    rollout_reason: str = ""
    task_definition: str = ""
    events: list[ServiceEvent] = field(default_factory=list)
    arn: str = ""
    deployments: list[Deployment] = field(default_factory=list)
    current_deployment: str = ""  # the ARN of the service deployment under way, or last
    # The target groups the service registers its tasks in (loadBalancers, and a progressive
    # strategy's alternate group).
    target_groups: list[str] = field(default_factory=list)
    execute_command: bool = False  # enableExecuteCommand: ECS Exec for the tasks it starts

    def deployment(self, deployment_id: str) -> Deployment | None:
        """The deployment with this id, while the service still lists it."""
        return next((d for d in self.deployments if d.deployment_id == deployment_id), None)

    @property
    def primary(self) -> Deployment | None:
        """The deployment the service is moving to (or has reached)."""
        return next((d for d in self.deployments if d.status == "PRIMARY"), None)


class Services:
    """The ECS calls about long-running services."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def describe(self, cluster: str, name: str) -> ServiceState | None:
        """The service, or None when there is none (or it was deleted)."""
        with translated(f"describe the service {name}"):
            raw = self._client.describe_services(cluster=cluster, services=[name])
        services = [s for s in raw.get("services", []) if s.get("status") != "INACTIVE"]
        return service_state(services[0]) if services else None

    def stopped_tasks(self, cluster: str, service: str, limit: int = 3) -> list[TaskState]:
        """The service's most recently stopped tasks, with their reasons."""
        return self.service_tasks(cluster, service, "STOPPED", limit)

    def service_tasks(self, cluster: str, service: str, status: str,
                      limit: int = 10) -> list[TaskState]:
        """The service's tasks ECS has with ``status`` (RUNNING or STOPPED), newest first."""
        with translated(f"list the tasks of {service}"):
            arns = self._client.list_tasks(cluster=cluster, serviceName=service,
                                           desiredStatus=status).get("taskArns", [])[:100]
        # A service's tasks are in the group "service:NAME" (filtered here too).
        found = [t for t in self._tasks(cluster, arns) if t.group == f"service:{service}"]
        found.sort(key=_started, reverse=True)
        return found[:limit]

    def tasks_of(self, cluster: str, deployment_id: str, status: str,
                 limit: int = 10) -> list[TaskState]:
        """Tasks a deployment started (ECS sets their startedBy to the deployment's id)."""
        with translated(f"list the tasks of deployment {deployment_id}"):
            arns = self._client.list_tasks(cluster=cluster, startedBy=deployment_id,
                                           desiredStatus=status).get("taskArns", [])[:limit]
        return self._tasks(cluster, arns)

    def _tasks(self, cluster: str, arns: list[str]) -> list[TaskState]:
        if not arns:
            return []
        with translated("describe tasks"):
            raw = self._client.describe_tasks(cluster=cluster, tasks=arns)
        return [task_state(t) for t in raw.get("tasks", [])]

    def register(self, definition: dict[str, Any]) -> str:
        """Register a task definition revision; returns its ARN."""
        family = definition.get("family", "")
        with translated(f"register a task definition for {family}"):
            raw = self._client.register_task_definition(**definition)
        return str(raw["taskDefinition"]["taskDefinitionArn"])

    def definition(self, task_definition: str) -> dict[str, Any]:
        """A task definition as DescribeTaskDefinition gives it."""
        with translated(f"describe the task definition {task_definition}"):
            raw = self._client.describe_task_definition(taskDefinition=task_definition)
        return dict(raw["taskDefinition"])

    def image_of(self, task_definition: str) -> str:
        """The image of a task definition's first container."""
        with translated(f"describe the task definition {task_definition}"):
            raw = self._client.describe_task_definition(taskDefinition=task_definition)
        containers = raw["taskDefinition"].get("containerDefinitions", [])
        return str(containers[0].get("image", "")) if containers else ""

    def create(self, request: dict[str, Any]) -> ServiceState:
        """Create a service; returns it with its first deployment."""
        with translated(f"create the service {request.get('serviceName', '')}"):
            raw = self._client.create_service(**request)
        return service_state(raw["service"])

    def update(self, request: dict[str, Any]) -> ServiceState:
        """Update a service (a new task definition starts a new deployment)."""
        with translated(f"update the service {request.get('service', '')}"):
            raw = self._client.update_service(**request)
        return service_state(raw["service"])

    def service_deployment(self, arn: str) -> ServiceDeployment | None:
        """One service deployment (None while DescribeServiceDeployments does not know it:
        it is eventually consistent, like DescribeServices)."""
        with translated("describe the service deployment"):
            raw = self._client.describe_service_deployments(serviceDeploymentArns=[arn])
        found = raw.get("serviceDeployments") or []
        return service_deployment(found[0]) if found else None

    def revision_task_definition(self, revision_arn: str) -> str:
        """The task definition a service revision runs ("" when ECS does not know it yet)."""
        with translated("describe the service revision"):
            raw = self._client.describe_service_revisions(serviceRevisionArns=[revision_arn])
        found = raw.get("serviceRevisions") or []
        return str(found[0].get("taskDefinition", "")) if found else ""

    def live_target_group(self, cluster: str, service: str) -> str:
        """The target group the service's live revision serves from: that of its newest
        deployment that completed, as ECS resolved it (DescribeServiceRevisions,
        resolvedConfiguration.loadBalancers: "which target groups serve traffic"); "" when
        ECS does not say."""
        with translated(f"find the live target group of {service}"):
            raw = self._client.list_service_deployments(
                cluster=cluster, service=service, status=["SUCCESSFUL"], maxResults=_PAGE)
            briefs = [d for d in raw.get("serviceDeployments", [])
                      if d.get("targetServiceRevisionArn")]
            if not briefs:
                return ""
            newest = max(briefs, key=lambda d: d.get("createdAt") or datetime.min)
            found = self._client.describe_service_revisions(
                serviceRevisionArns=[newest["targetServiceRevisionArn"]]).get(
                "serviceRevisions") or []
        for revision in found:
            for balancer in (revision.get("resolvedConfiguration") or {}).get(
                    "loadBalancers", []):
                if balancer.get("targetGroupArn"):
                    return str(balancer["targetGroupArn"])
        return ""

    def continue_deployment(self, arn: str, hook_id: str, action: str) -> None:
        """Continue (``CONTINUE``) or roll back (``ROLLBACK``) a deployment paused at a hook."""
        with translated(f"{action.lower()} the paused deployment"):
            self._client.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook_id,
                                                     action=action)

    def stop_deployment(self, arn: str) -> None:
        """Stop an ongoing service deployment, rolling it back (StopServiceDeployment)."""
        with translated("stop the deployment"):
            self._client.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")

    def delete(self, cluster: str, name: str) -> None:
        """Delete a service, stopping its tasks (ECS drains it, then marks it INACTIVE)."""
        with translated(f"delete the service {name}", done_if=(
                "ServiceNotFoundException", "ClusterNotFoundException",
                "ServiceNotActiveException")):  # deleted already
            self._client.delete_service(cluster=cluster, service=name, force=True)

    def completed_deployments(self, cluster: str, service: str) -> list[CompletedDeployment]:
        """The service's deployments that completed (SUCCESSFUL), newest first, each with the
        task definition it deployed.

        From ECS's deployment history (ListServiceDeployments, then DescribeServiceRevisions),
        so a deployment that was rolled back never counts, whatever its revision number; and
        it is the same from any machine.
        """
        found: list[tuple[str, datetime | None, str]] = []
        token: str | None = None
        with translated(f"list the deployments of {service}"):
            for _ in range(_HISTORY_PAGES):
                kwargs: dict[str, Any] = {"cluster": cluster, "service": service,
                                          "status": ["SUCCESSFUL"], "maxResults": _PAGE}
                if token:
                    kwargs["nextToken"] = token
                raw = self._client.list_service_deployments(**kwargs)
                found.extend((d.get("serviceDeploymentArn", ""),
                              d.get("startedAt") or d.get("createdAt"),
                              d["targetServiceRevisionArn"])
                             for d in raw.get("serviceDeployments", [])
                             if d.get("targetServiceRevisionArn"))
                token = raw.get("nextToken")
                if not token:
                    break
            revisions: dict[str, str] = {}
            arns = list(dict.fromkeys(revision for _, _, revision in found))
            for start in range(0, len(arns), _PAGE):
                raw = self._client.describe_service_revisions(
                    serviceRevisionArns=arns[start:start + _PAGE])
                revisions.update({r["serviceRevisionArn"]: r.get("taskDefinition", "")
                                  for r in raw.get("serviceRevisions", [])})
        found.sort(key=lambda item: item[1].timestamp() if item[1] else 0.0, reverse=True)
        return [CompletedDeployment(arn, revisions[revision], at)
                for arn, at, revision in found if revisions.get(revision)]


@dataclass(frozen=True)
class CompletedDeployment:
    """A service deployment that completed: the task definition it put in service, and when
    it started."""

    arn: str
    task_definition: str
    started_at: datetime | None = None


def _started(task: TaskState) -> float:
    moment = task.started_at or task.created_at
    return moment.timestamp() if moment else 0.0


def service_state(s: dict[str, Any]) -> ServiceState:
    """A DescribeServices (or Create/UpdateService) service, in dockyard's terms."""
    deployments = [Deployment(
        deployment_id=d.get("id", ""), status=d.get("status", ""),
        task_definition=d.get("taskDefinition", ""), desired=d.get("desiredCount", 0),
        running=d.get("runningCount", 0), pending=d.get("pendingCount", 0),
        failed=d.get("failedTasks", 0), rollout_state=d.get("rolloutState", ""),
        rollout_reason=d.get("rolloutStateReason", ""), created_at=d.get("createdAt"))
        for d in s.get("deployments", [])]
    primary = next((d for d in deployments if d.status == "PRIMARY"), None)
    return ServiceState(
        name=s.get("serviceName", ""), status=s.get("status", ""),
        desired=s.get("desiredCount", 0), running=s.get("runningCount", 0),
        pending=s.get("pendingCount", 0),
        rollout_state=primary.rollout_state if primary else "",
        rollout_reason=primary.rollout_reason if primary else "",
        task_definition=s.get("taskDefinition", ""),
        events=[ServiceEvent(e.get("id", ""), e.get("createdAt"), e.get("message", ""))
                for e in s.get("events", [])],
        arn=s.get("serviceArn", ""), deployments=deployments,
        current_deployment=s.get("currentServiceDeployment", ""),
        target_groups=[group for balancer in s.get("loadBalancers", []) for group in (
            balancer.get("targetGroupArn", ""),
            (balancer.get("advancedConfiguration") or {}).get("alternateTargetGroupArn", ""))
            if group],
        execute_command=bool(s.get("enableExecuteCommand")))


@dataclass(frozen=True)
class PausedHook:
    """A PAUSE lifecycle hook waiting for ContinueServiceDeployment."""

    hook_id: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class ServiceDeployment:
    """A service deployment as DescribeServiceDeployments reports it: where a blue-green,
    canary or linear deployment stands, and why it ended."""

    arn: str
    status: str  # PENDING, IN_PROGRESS, SUCCESSFUL, STOPPED, ROLLBACK_IN_PROGRESS, ...
    stage: str = ""  # the lifecycle stage: SCALE_UP, TEST_TRAFFIC_SHIFT, BAKE_TIME, ...
    reason: str = ""
    rollback_reason: str = ""
    triggered_alarms: list[str] = field(default_factory=list)
    production_weight: float | None = None  # % of production traffic on the new revision
    test_weight: float | None = None
    paused: list[PausedHook] = field(default_factory=list)
    running: int = 0
    requested: int = 0
    strategy: str = ""  # ROLLING, BLUE_GREEN, CANARY, LINEAR (deploymentConfiguration)
    revision: str = ""  # the target service revision's ARN
    # Every PAUSE hook so far: (hook id, status: AWAITING_ACTION, SUCCEEDED, FAILED, TIMED_OUT)
    hooks: list[tuple[str, str]] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        """Whether ECS is done with it, either way."""
        return self.status in ("SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED")


def service_deployment(raw: dict[str, Any]) -> ServiceDeployment:
    """A DescribeServiceDeployments entry, in dockyard's terms."""
    target = raw.get("targetServiceRevision") or {}
    return ServiceDeployment(
        arn=raw.get("serviceDeploymentArn", ""), status=raw.get("status", ""),
        stage=raw.get("lifecycleStage", ""), reason=raw.get("statusReason", ""),
        rollback_reason=(raw.get("rollback") or {}).get("reason", ""),
        triggered_alarms=list((raw.get("alarms") or {}).get("triggeredAlarmNames") or []),
        production_weight=target.get("requestedProductionTrafficWeight"),
        test_weight=target.get("requestedTestTrafficWeight"),
        paused=[PausedHook(h.get("hookId", ""), h.get("expiresAt"))
                for h in raw.get("lifecycleHookDetails") or []
                if h.get("targetType") == "PAUSE" and h.get("status") == "AWAITING_ACTION"],
        running=target.get("runningTaskCount", 0), requested=target.get("requestedTaskCount", 0),
        strategy=(raw.get("deploymentConfiguration") or {}).get("strategy") or "",
        revision=target.get("arn", ""),
        hooks=[(h.get("hookId", ""), h.get("status", ""))
               for h in raw.get("lifecycleHookDetails") or [] if h.get("targetType") == "PAUSE"])



@dataclass(frozen=True)
class TargetState:
    """One target of a target group as the load balancer judges it (DescribeTargetHealth)."""

    target: str  # ip:port
    state: str  # initial, healthy, unhealthy, unused, draining, unavailable
    reason: str = ""  # Target.ResponseCodeMismatch, Elb.InitialHealthChecking, ...
    description: str = ""


class TargetHealth:
    """The load balancer's view of a target group's targets."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def targets(self, target_group_arn: str) -> list[TargetState]:
        """Every registered target with its health, state and reason."""
        with translated("describe the target health"):
            raw = self._client.describe_target_health(TargetGroupArn=target_group_arn)
        found = []
        for entry in raw.get("TargetHealthDescriptions", []):
            target, health = entry.get("Target", {}), entry.get("TargetHealth", {})
            found.append(TargetState(f"{target.get('Id', '?')}:{target.get('Port', '?')}",
                                     str(health.get("State", "")), str(health.get("Reason", "")),
                                     str(health.get("Description", ""))))
        return found
