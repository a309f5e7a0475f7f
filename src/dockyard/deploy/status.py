"""``status APP``: what an app's service runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from dockyard.aws.ecs import TaskState
from dockyard.aws.services import ServiceDeployment, ServiceState
from dockyard.deploy.definition import AppTarget


class StatusApi(Protocol):
    """What ``status APP`` reads (``dockyard.aws.services.Services``, or a fake)."""

    def describe(self, cluster: str, name: str) -> ServiceState | None: ...
    def tasks_of(self, cluster: str, deployment_id: str, status: str,
                 limit: int = 10) -> list[TaskState]: ...
    def image_of(self, task_definition: str) -> str: ...
    def service_deployment(self, arn: str) -> ServiceDeployment | None: ...


@dataclass(frozen=True)
class AppStatus:
    """An app's service, the image its newest deployment runs, and its running tasks."""

    target: AppTarget
    service: ServiceState | None
    image: str = ""
    tasks: list[tuple[str, TaskState]] = field(default_factory=list)  # (deployment id, task)
    ongoing: ServiceDeployment | None = None  # a deployment under way: its stage and traffic
    # With apps.<name>.scale: dockyard.yml's range, and the registered one (None: not yet).
    scale_declared: tuple[int, int] | None = None
    scale_registered: tuple[int, int] | None = None

    @property
    def foreign_target_groups(self) -> list[str]:
        """Target groups the service registers its tasks in that are not its app stack's.

        No IAM condition key limits the target groups an UpdateService names, and a rolling
        deployment registers targets with ECS's service-linked role: the role that may deploy
        an app could point its service at another host's target group (Jenkins', say) and
        take part of its traffic. dockyard's own deploys always send the app's own group (and
        so put it back); this is where anything else shows (README, "Security model")."""
        if self.service is None:
            return []
        own = {self.target.target_group, self.target.alternate_target_group} - {""}
        return [group for group in self.service.target_groups if group not in own]


def app_status(api: StatusApi, target: AppTarget) -> AppStatus:
    """Read the app's service, its deployments and their running tasks."""
    service = api.describe(target.cluster, target.app)
    if service is None:
        return AppStatus(target, None)
    primary = service.primary
    image = api.image_of(primary.task_definition) if primary else ""
    tasks = [(d.deployment_id, t) for d in service.deployments
             for t in api.tasks_of(target.cluster, d.deployment_id, "RUNNING")]
    ongoing = None
    if service.current_deployment and any(d.rollout_state == "IN_PROGRESS"
                                          for d in service.deployments):
        current = api.service_deployment(service.current_deployment)
        ongoing = current if current is not None and not current.finished else None
    return AppStatus(target, service, image, tasks, ongoing)
