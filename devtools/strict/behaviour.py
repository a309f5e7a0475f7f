"""CloudFormation and ECS behaviours moto leaves out, each as AWS documents it.

- A stack operation that fails does not fail the API call that started it: ExecuteChangeSet
  succeeds, then the stack rolls back and settles in ROLLBACK_COMPLETE (a creation) or
  UPDATE_ROLLBACK_COMPLETE (an update), with a *_FAILED event giving the reason (CloudFormation
  User Guide, "Stack status codes"). moto raises from ExecuteChangeSet instead.
- A deletion that fails leaves the stack in DELETE_FAILED, and DeleteStack may be called again
  ("DELETE_FAILED: Unsuccessful deletion of one or more stacks ... delete the stack again").
  moto loses the stack.
- LastUpdatedTime: "The time the stack was last updated. This field will only be returned if
  the stack has been updated at least once" (API Reference, Stack). moto never sets it.
- An update of AWS::IAM::Role changes its inline Policies ("Update requires: No interruption").
  moto keeps the old ones.
- ContinueUpdateRollback takes a stack in UPDATE_ROLLBACK_FAILED back to
  UPDATE_ROLLBACK_COMPLETE (API Reference, ContinueUpdateRollback). moto has no such call.
- ListTasks with serviceName "limits the results to tasks that belong to that service" (API
  Reference, ListTasks); a service's tasks carry the group ``service:NAME``. moto ignores the
  filter and lists every task of the cluster.
- ``Fn::GetAtt LogGroup.Arn`` ends in ``:*`` ("arn:aws:logs:us-west-1:123456789012:log-group:
  /mystack-testgroup-12ABC1AB12A1:*", AWS::Logs::LogGroup, Return values). moto leaves it off,
  so a policy built on it covers other resources there than on AWS.
- Deleting a stack deletes its AWS::ECS::Service (scaled to zero, then DeleteService) and its
  AWS::ECS::Cluster (DeleteCluster), and ECS refuses to delete a cluster that still has tasks
  or active services (ClusterContainsTasksException: "You can't
  delete a cluster that has active tasks"; ClusterContainsServicesException, API Reference,
  DeleteCluster). moto's CloudFormation leaves the cluster, and its DeleteCluster deletes
  anything.
"""

from __future__ import annotations

import contextlib
from typing import Any

from devtools.strict.profile import active


def install() -> None:
    """Patch moto (once per process); the patches act only while a strict account runs."""
    from moto.cloudformation import models as cfn

    if getattr(cfn.CloudFormationBackend.execute_change_set, "_dockyard_strict", False):
        return
    _execute_change_set(cfn)
    _delete_stack(cfn)
    _continue_update_rollback()
    _role_updates()
    _delete_cluster()
    _log_group_arn()
    _list_tasks_by_service()


def _execute_change_set(cfn: Any) -> None:
    from moto.core.utils import utcnow

    original = cfn.CloudFormationBackend.execute_change_set

    def execute_change_set(self: Any, change_set_name: str,
                           stack_name: str | None = None) -> None:
        if active() is None:
            original(self, change_set_name, stack_name)
            return None
        change_set = self.change_sets.get(change_set_name) or next(
            (c for c in self.change_sets.values() if c.change_set_name == change_set_name), None)
        stack = self.stacks.get(change_set.stack_id) if change_set is not None else None
        try:
            original(self, change_set_name, stack_name)
        except Exception as err:
            if stack is None:
                raise
            _rolled_back(stack, change_set, err)
            return None
        if stack is not None and change_set is not None and \
                change_set.change_set_type != "CREATE":
            stack.last_updated_time = utcnow()
        return None

    execute_change_set._dockyard_strict = True
    cfn.CloudFormationBackend.execute_change_set = execute_change_set


def _rolled_back(stack: Any, change_set: Any, err: Exception) -> None:
    create = change_set.change_set_type == "CREATE"
    reason = f"Resource handler returned message: {err}"
    stack._add_stack_event("CREATE_FAILED" if create else "UPDATE_FAILED",
                           resource_status_reason=reason)
    stack._add_stack_event("ROLLBACK_IN_PROGRESS" if create else "UPDATE_ROLLBACK_IN_PROGRESS",
                           resource_status_reason="The following resource(s) failed to "
                                                  f"{'create' if create else 'update'}: {err}")
    if create:
        with contextlib.suppress(Exception):
            stack.resource_map.delete()
    stack.status = "ROLLBACK_COMPLETE" if create else "UPDATE_ROLLBACK_COMPLETE"
    stack.stack_status_reason = reason
    stack._add_stack_event(stack.status)
    change_set.execution_status = "EXECUTE_FAILED"


def _delete_stack(cfn: Any) -> None:
    original = cfn.CloudFormationBackend.delete_stack

    def delete_stack(self: Any, name_or_stack_id: str) -> None:
        stack = self.stacks.get(name_or_stack_id) or next(
            (s for s in self.stacks.values() if s.name == name_or_stack_id), None)
        if active() is None or stack is None:
            original(self, name_or_stack_id)
            return None
        try:
            original(self, name_or_stack_id)
        except Exception as err:
            self.deleted_stacks.pop(stack.stack_id, None)
            self.stacks[stack.stack_id] = stack
            stack.status = "DELETE_FAILED"
            stack.stack_status_reason = f"The following resource(s) failed to delete: {err}"
            stack._add_stack_event("DELETE_FAILED",
                                   resource_status_reason=stack.stack_status_reason)
        return None

    cfn.CloudFormationBackend.delete_stack = delete_stack


def _continue_update_rollback() -> None:
    from moto.cloudformation.exceptions import ValidationError
    from moto.cloudformation.responses import CloudFormationResponse
    from moto.core.responses import EmptyResult

    def continue_update_rollback(self: Any) -> Any:
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        if stack.status != "UPDATE_ROLLBACK_FAILED":
            raise ValidationError(message="ContinueUpdateRollback cannot be called from "
                                          f"current stack status ({stack.status})")
        stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS",
                               resource_status_reason="Continue rollback requested by user")
        stack.status = "UPDATE_ROLLBACK_COMPLETE"
        stack._add_stack_event(stack.status)
        return EmptyResult()

    CloudFormationResponse.continue_update_rollback = continue_update_rollback


def _role_updates() -> None:
    from moto.iam import models as iam

    original = iam.Role.update_from_cloudformation_json.__func__

    def update_from_cloudformation_json(  # noqa: PLR0917 (moto's own signature)
            cls: Any, original_resource: Any, new_resource_name: str,
            cloudformation_json: dict[str, Any], account_id: str, region_name: str) -> Any:
        role = original(cls, original_resource, new_resource_name, cloudformation_json,
                        account_id, region_name)
        if active() is not None:
            wanted = {p["PolicyName"]: p["PolicyDocument"]
                      for p in cloudformation_json["Properties"].get("Policies", [])}
            for name in [n for n in role.policies if n not in wanted]:
                role.delete_policy(name)
            for name, document in wanted.items():
                role.put_policy(name, document)
        return role

    iam.Role.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)


def _delete_cluster() -> None:
    from moto.ecs import models as ecs
    from moto.ecs.exceptions import ECSException

    original = ecs.EC2ContainerServiceBackend.delete_cluster

    def delete_cluster(self: Any, cluster_str: str) -> Any:
        if active() is not None:
            cluster = self._get_cluster(cluster_str)
            running = [t for t in self.tasks.get(cluster.name, {}).values()
                       if t.last_status != "STOPPED"]
            if running:
                raise ECSException("ClusterContainsTasksException",
                                   "The Cluster cannot be deleted while Tasks are active.")
            services = [s for s in self.services.values()
                        if s.cluster_name == cluster.name and s.status == "ACTIVE"]
            if services:
                raise ECSException("ClusterContainsServicesException",
                                   "The Cluster cannot be deleted while Services are active.")
        return original(self, cluster_str)

    ecs.EC2ContainerServiceBackend.delete_cluster = delete_cluster

    def delete_from_cloudformation_json(cls: Any, resource_name: str, cloudformation_json: Any,
                                        account_id: str, region_name: str) -> None:
        if active() is not None:
            ecs.ecs_backends[account_id][region_name].delete_cluster(resource_name)

    ecs.Cluster.delete_from_cloudformation_json = classmethod(delete_from_cloudformation_json)

    def delete_service(self: Any, account_id: str, region_name: str) -> None:
        if active() is not None:
            ecs.ecs_backends[account_id][region_name].delete_service(
                self.cluster_name, self.name, force=True)

    ecs.Service.delete = delete_service


def _list_tasks_by_service() -> None:
    from moto.ecs import models as ecs

    original = ecs.EC2ContainerServiceBackend.list_tasks

    def list_tasks(self: Any, *args: Any, **kwargs: Any) -> Any:
        tasks = original(self, *args, **kwargs)
        service = kwargs.get("service_name") or (args[4] if len(args) > 4 else None)
        if active() is not None and service:
            name = str(service).rsplit("/", 1)[-1]
            tasks = [t for t in tasks if getattr(t, "group", "") == f"service:{name}"]
        return tasks

    ecs.EC2ContainerServiceBackend.list_tasks = list_tasks


def _log_group_arn() -> None:
    from moto.logs import models as logs

    original = logs.LogGroup.get_cfn_attribute

    def get_cfn_attribute(self: Any, attribute_name: str) -> Any:
        value = original(self, attribute_name)
        return f"{value}:*" if attribute_name == "Arn" and active() is not None else value

    logs.LogGroup.get_cfn_attribute = get_cfn_attribute


def break_update_rollback(stack_name: str, region: str = "ap-southeast-2") -> None:
    """Leave a stack in UPDATE_ROLLBACK_FAILED, as a rollback that could not undo a change
    does (test setup: CloudFormation gets there when, say, a resource was changed by hand)."""
    from moto.cloudformation.models import cloudformation_backends
    from moto.core.models import DEFAULT_ACCOUNT_ID

    backend = cloudformation_backends[DEFAULT_ACCOUNT_ID][region]
    stack = next(s for s in backend.stacks.values() if s.name == stack_name)
    stack._add_stack_event("UPDATE_ROLLBACK_FAILED", resource_status_reason=(
        "The following resource(s) failed to update: [Service]."))
    stack.status = "UPDATE_ROLLBACK_FAILED"
