"""``down``: delete the platform's stacks in reverse order; keep its data unless told to purge.

EFS (with its backups) and the ECR repositories carry DeletionPolicy Retain, so deleting the
stacks leaves them behind. They are found again by their ``dockyard:name`` tag, listed with how
to delete them, and deleted only by ``--purge`` after an explicit confirmation.

ECS refuses to delete a cluster that still has tasks (ClusterContainsTasksException), so before
the builder stack goes, the tasks no service owns (idle Jenkins agents, detached builds) are
stopped, and ``down`` says which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from dockyard.aws.cloudformation import Stack
from dockyard.aws.ecs import TaskState
from dockyard.aws.retained import FileSystem, RecoveryPoint, Repository
from dockyard.aws.services import ServiceState
from dockyard.errors import DockyardError
from dockyard.names import TAG_KEY, Out
from dockyard.polling import Clock, Poll, WaitTimeoutError, poll_until
from dockyard.stacks.platform import Platform
from dockyard.stacks.results import StackResult

# Deletion order: apps first, the network last (the reverse of deployment).
_ORDER = {"jenkins": 1, "edge": 2, "builder": 3, "network": 4}


class RetainedApi(Protocol):
    """Finding and deleting retained data (``dockyard.aws.retained``, or a fake)."""

    def file_systems(self, project: str) -> list[FileSystem]: ...
    def repositories(self, project: str) -> list[Repository]: ...
    def recovery_points(self, fs: FileSystem) -> list[RecoveryPoint]: ...
    def delete_recovery_point(self, point: RecoveryPoint) -> None: ...
    def delete_file_system(self, fs: FileSystem) -> None: ...
    def delete_repository(self, repo: Repository) -> None: ...
    def empty_bucket(self, bucket: str) -> int: ...
    def delete_bucket(self, bucket: str) -> None: ...
    def bucket_exists(self, bucket: str) -> bool: ...


class AppServices(Protocol):
    """Deleting the ECS services ``dockyard deploy`` created (``dockyard.aws.services``)."""

    def describe(self, cluster: str, name: str) -> ServiceState | None: ...
    def delete(self, cluster: str, name: str) -> None: ...


class ClusterTasks(Protocol):
    """The tasks of the cluster (``dockyard.aws.ecs.Ecs``, or a fake)."""

    def running(self, cluster: str) -> list[TaskState]: ...
    def stop(self, cluster: str, arn: str, reason: str) -> None: ...


# Deleting a service stops its tasks; their network interfaces must be gone before the app
# stack can delete its security group.
SERVICES_GONE = Poll("app services to stop", interval=5, timeout=600, first=1)
TASKS_GONE = Poll("standalone tasks to stop", interval=5, timeout=600, first=1)
STOP_REASON = "dockyard down: the platform's cluster is being deleted"


class TaggedStacks(Protocol):
    """Listing stacks by tag (``dockyard.aws.cloudformation``)."""

    def list_tagged(self, key: str, value: str) -> list[Stack]: ...


@dataclass(frozen=True)
class DownPlan:
    """What ``down`` would delete, in order, and the data it would leave or purge."""

    stacks: list[Stack]
    file_systems: list[FileSystem]
    repositories: list[Repository]
    log_bucket: str | None = None  # the access logs, kept by CloudFormation when it deletes


@dataclass
class DownResult:
    """What ``down`` did."""

    results: list[StackResult] = field(default_factory=list)
    kept_file_systems: list[FileSystem] = field(default_factory=list)
    kept_repositories: list[Repository] = field(default_factory=list)
    kept_log_bucket: str | None = None
    deleted_services: list[str] = field(default_factory=list)
    stopped_tasks: list[str] = field(default_factory=list)
    purged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every stack is gone."""
        return all(r.ok for r in self.results)


def plan_down(platform: Platform, tagged: TaggedStacks, retained: RetainedApi) -> DownPlan:
    """Find the project's live stacks (including apps no longer in the config) and its data."""
    platform.account.identity()
    project = platform.cfg.name
    stacks = {s.name: s for s in tagged.list_tagged(TAG_KEY, project)}
    for template in platform.stacks:  # stacks created before tagging, or by hand
        if template.name not in stacks and (live := platform.live(template)) is not None:
            stacks[template.name] = live
    ordered = sorted(stacks.values(), key=lambda s: (_rank(project, s.name), s.name))
    bucket = platform.log_bucket
    return DownPlan(ordered, retained.file_systems(project), retained.repositories(project),
                    bucket if retained.bucket_exists(bucket) else None)


def down(platform: Platform, plan: DownPlan, retained: RetainedApi, *, purge: bool,
         services: AppServices | None = None, tasks: ClusterTasks | None = None,
         clock: Clock | None = None) -> DownResult:
    """Delete the apps' services, then the planned stacks (stopping the cluster's standalone
    tasks before the builder stack); then purge the retained data, or report what is kept."""
    result = DownResult()
    project = platform.cfg.name
    if services is not None and clock is not None:
        result.deleted_services = _delete_app_services(platform, plan, services, clock)
    for stack in plan.stacks:
        key = stack.name.removeprefix(f"{project}-")
        if key == "builder" and (bucket := stack.outputs.get(Out.CONTEXT_BUCKET)):
            # CloudFormation cannot delete a bucket with objects in it.
            emptied = retained.empty_bucket(bucket)
            if emptied:
                platform.engine.reporter.note(stack.name, f"emptied {bucket} ({emptied} build "
                                                          "inputs) so the stack can delete it")
        if key == "builder" and tasks is not None and clock is not None and \
                (cluster := stack.outputs.get(Out.CLUSTER_ARN)):
            result.stopped_tasks = _stop_standalone_tasks(platform, stack.name, cluster, tasks,
                                                          clock)
        outcome = platform.engine.delete(key, stack.name)
        result.results.append(outcome)
        if not outcome.ok:
            return result
    file_systems = retained.file_systems(project)
    repositories = retained.repositories(project)
    if not purge:
        result.kept_file_systems = file_systems
        result.kept_repositories = repositories
        result.kept_log_bucket = plan.log_bucket
        return result
    if plan.log_bucket is not None:
        files = retained.empty_bucket(plan.log_bucket)
        retained.delete_bucket(plan.log_bucket)
        result.purged.append(f"S3 bucket {plan.log_bucket} ({files} access log files)")
    for fs in file_systems:
        result.warnings += _purge_backups(retained, fs, result.purged)
        retained.delete_file_system(fs)
        result.purged.append(f"EFS file system {fs.file_system_id}")
    for repo in repositories:
        retained.delete_repository(repo)
        result.purged.append(f"ECR repository {repo.name} ({repo.image_count} images)")
    return result


def _delete_app_services(platform: Platform, plan: DownPlan, services: AppServices,
                         clock: Clock) -> list[str]:
    """Delete the service of every app stack about to go, and wait until they are gone."""
    project = platform.cfg.name
    builder = next((s for s in plan.stacks if s.name == f"{project}-builder"), None)
    cluster = builder.outputs.get(Out.CLUSTER_ARN, "") if builder else ""
    apps = [s.name.removeprefix(f"{project}-app-") for s in plan.stacks
            if s.name.startswith(f"{project}-app-")]
    if not cluster or not apps:
        return []
    deleted = []
    for app in apps:
        if services.describe(cluster, app) is not None:
            platform.engine.reporter.note(f"{project}-app-{app}",
                                          f"deleting the service {app} (stops its tasks)")
            services.delete(cluster, app)
            deleted.append(app)
    if deleted:
        try:
            poll_until(lambda: [a for a in deleted if services.describe(cluster, a)],
                       lambda left: not left, SERVICES_GONE, clock)
        except WaitTimeoutError:
            platform.engine.reporter.note(f"{project}-builder", "the app services are still "
                                          "stopping; deleting the stacks anyway")
    return deleted


def _stop_standalone_tasks(platform: Platform, stack: str, cluster: str, tasks: ClusterTasks,
                           clock: Clock) -> list[str]:
    """Stop what no service owns (idle agents, detached builds) and wait until it stopped."""
    running = [t for t in tasks.running(cluster) if t.standalone]
    for task in running:
        what = "build" if "dockyard:build" in task.tags else "task"
        group = task.group or "no group"
        platform.engine.reporter.note(stack, f"stopping {what} {task.task_id} ({group}) so ECS "
                                             "can delete the cluster")
        tasks.stop(cluster, task.arn, STOP_REASON)
    if running:
        ours = {t.arn for t in running}
        try:
            poll_until(lambda: [t for t in tasks.running(cluster) if t.arn in ours],
                       lambda left: not left, TASKS_GONE, clock)
        except WaitTimeoutError:
            platform.engine.reporter.note(stack, "some tasks are still stopping; deleting the "
                                                 "stack anyway")
    return [t.task_id for t in running]


def _purge_backups(retained: RetainedApi, fs: FileSystem, purged: list[str]) -> list[str]:
    try:
        points = retained.recovery_points(fs)
        for point in points:
            retained.delete_recovery_point(point)
            purged.append(f"backup {point.arn}")
    except DockyardError as err:
        return [f"backups of {fs.file_system_id} were not deleted ({err.message}); delete them "
                "in the AWS Backup console, vault aws/efs/automatic-backup-vault"]
    return []


def _rank(project: str, name: str) -> int:
    key = name.removeprefix(f"{project}-")
    return _ORDER.get(key, 0)
