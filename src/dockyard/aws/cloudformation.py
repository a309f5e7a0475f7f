"""CloudFormation, in dockyard's terms: stacks, change sets, events and resources as dataclasses.

Every method makes the calls for one question or one action, translates AWS errors once, and
returns snake_case values; CamelCase stays in this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from botocore.exceptions import ClientError

from dockyard.aws.errors import (
    NOT_CLIENT_ERRORS,
    error_code,
    error_message,
    translate,
    translated,
)

NO_CHANGES_REASONS = ("didn't contain changes", "No updates are to be performed")


@dataclass(frozen=True)
class Stack:
    """A stack as DescribeStacks reports it."""

    name: str
    stack_id: str
    status: str
    reason: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    created: datetime | None = None
    updated: datetime | None = None


@dataclass(frozen=True)
class StackEvent:
    """One line of a stack's event history."""

    event_id: str
    stack_name: str
    logical_id: str
    resource_type: str
    status: str
    reason: str
    timestamp: datetime
    physical_id: str = ""

    @property
    def is_stack(self) -> bool:
        """Whether the event is about the stack itself rather than one of its resources."""
        return self.resource_type == "AWS::CloudFormation::Stack"


@dataclass(frozen=True)
class ResourceChange:
    """One resource a change set would add, modify or remove."""

    action: str
    logical_id: str
    resource_type: str
    replacement: str = ""
    scope: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChangeSet:
    """A change set and what it would do."""

    arn: str
    stack_id: str
    status: str
    execution_status: str
    reason: str
    changes: list[ResourceChange]

    @property
    def is_empty(self) -> bool:
        """CloudFormation found nothing to change (a normal outcome, not an error)."""
        return self.status == "FAILED" and any(r in self.reason for r in NO_CHANGES_REASONS)


@dataclass(frozen=True)
class StackResource:
    """A resource of a live stack."""

    logical_id: str
    physical_id: str
    resource_type: str
    status: str


class StackReader(Protocol):
    """Reading a stack's outputs: :class:`CloudFormation`, or a fake."""

    def describe(self, name: str) -> Stack | None: ...


class CloudFormation:
    """The CloudFormation calls dockyard makes, on one client."""

    def __init__(self, client: Any, role_arn: str | None = None) -> None:
        self._client = client
        # A service role (stacks.role_arn): CloudFormation acts with its permissions on every
        # change it makes, deletions and rollbacks included.
        self._role = {"RoleARN": role_arn} if role_arn else {}

    def describe(self, name: str) -> Stack | None:
        """The stack called ``name``, or None when there is none."""
        try:
            response = self._client.describe_stacks(StackName=name)
        except ClientError as err:
            if error_code(err) == "ValidationError" and "does not exist" in error_message(err):
                return None
            raise translate(err, f"describe stack {name}") from err
        except NOT_CLIENT_ERRORS as err:
            raise translate(err, f"describe stack {name}") from err
        return _stack(response["Stacks"][0])

    def template(self, name: str) -> dict[str, Any]:
        """The template the stack was last deployed with (parsed)."""
        with translated(f"read the template of {name}"):
            body = self._client.get_template(StackName=name,
                                             TemplateStage="Original")["TemplateBody"]
        return body if isinstance(body, dict) else dict(json.loads(body))

    def list_tagged(self, key: str, value: str) -> list[Stack]:
        """Live stacks that carry the tag ``key=value`` (deleted stacks are not listed)."""
        found: list[Stack] = []
        with translated("list stacks"):
            for page in self._client.get_paginator("describe_stacks").paginate():
                for raw in page.get("Stacks", []):
                    tags = {t["Key"]: t["Value"] for t in raw.get("Tags", [])}
                    if tags.get(key) == value:
                        found.append(_stack(raw))
        return found

    def create_change_set(self, *, stack: str, name: str, template: str,
                          parameters: dict[str, str], tags: dict[str, str],
                          create: bool) -> tuple[str, str] | None:
        """Start a change set; returns its ARN and the stack id, or None when CloudFormation
        answers at once that nothing would change (some emulators do; AWS creates a change set
        that fails with that reason instead)."""
        try:
            response = self._client.create_change_set(
                StackName=stack, ChangeSetName=name, TemplateBody=template,
                Parameters=[{"ParameterKey": k, "ParameterValue": v}
                            for k, v in parameters.items()],
                Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
                Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
                ChangeSetType="CREATE" if create else "UPDATE",
                Description="dockyard",
                **self._role,
            )
        except ClientError as err:
            if any(reason in error_message(err) for reason in NO_CHANGES_REASONS):
                return None
            raise translate(err, f"create a change set for {stack}") from err
        except NOT_CLIENT_ERRORS as err:
            raise translate(err, f"create a change set for {stack}") from err
        return str(response["Id"]), str(response["StackId"])

    def describe_change_set(self, arn: str) -> ChangeSet:
        """A change set with all its changes (paged through)."""
        changes: list[ResourceChange] = []
        token: str | None = None
        with translated("describe a change set"):
            while True:
                kwargs = {"ChangeSetName": arn, **({"NextToken": token} if token else {})}
                raw = self._client.describe_change_set(**kwargs)
                changes += [_change(c) for c in raw.get("Changes", [])]
                token = raw.get("NextToken")
                if not token:
                    break
        return ChangeSet(arn=arn, stack_id=raw.get("StackId", ""), status=raw["Status"],
                         execution_status=raw.get("ExecutionStatus", ""),
                         reason=raw.get("StatusReason", ""), changes=changes)

    def execute_change_set(self, arn: str) -> None:
        """Start applying a change set."""
        with translated("execute the change set"):
            self._client.execute_change_set(ChangeSetName=arn)

    def delete_change_set(self, arn: str) -> None:
        """Delete a change set that will not be executed."""
        with translated("delete the change set", done_if=("ChangeSetNotFound",
                                                          "ChangeSetNotFoundException")):
            self._client.delete_change_set(ChangeSetName=arn)

    def delete_stack(self, name: str) -> None:
        """Start deleting a stack."""
        with translated(f"delete stack {name}"):
            self._client.delete_stack(StackName=name, **self._role)

    def cancel_update(self, name: str) -> None:
        """Ask CloudFormation to cancel a stack update (it then rolls back)."""
        with translated(f"cancel the update of {name}"):
            self._client.cancel_update_stack(StackName=name)

    def continue_update_rollback(self, name: str) -> None:
        """Ask CloudFormation to finish a rollback that failed (UPDATE_ROLLBACK_FAILED)."""
        with translated(f"continue the rollback of {name}"):
            self._client.continue_update_rollback(StackName=name, **self._role)

    def events_since(self, stack_id: str, seen: set[str]) -> list[StackEvent]:
        """Events not in ``seen``, oldest first. Pages back until a seen event appears."""
        fresh: list[StackEvent] = []
        token: str | None = None
        with translated("read stack events"):
            while True:
                kwargs = {"StackName": stack_id, **({"NextToken": token} if token else {})}
                raw = self._client.describe_stack_events(**kwargs)
                page = [_event(e) for e in raw.get("StackEvents", [])]
                new = [e for e in page if e.event_id not in seen]
                fresh += new
                token = raw.get("NextToken")
                if not token or len(new) < len(page) or not seen:
                    break
        return sorted(fresh, key=lambda e: e.timestamp)

    def resources(self, name: str) -> list[StackResource]:
        """The resources of a stack. Entries may lack ids in emulators: they get ''."""
        found: list[StackResource] = []
        token: str | None = None
        with translated(f"list the resources of {name}"):
            while True:
                kwargs = {"StackName": name, **({"NextToken": token} if token else {})}
                raw = self._client.list_stack_resources(**kwargs)
                found += [StackResource(logical_id=r.get("LogicalResourceId", ""),
                                        physical_id=r.get("PhysicalResourceId", ""),
                                        resource_type=r.get("ResourceType", ""),
                                        status=r.get("ResourceStatus", ""))
                          for r in raw.get("StackResourceSummaries", [])]
                token = raw.get("NextToken")
                if not token:
                    break
        return found


def _stack(raw: dict[str, Any]) -> Stack:
    return Stack(
        name=raw["StackName"], stack_id=raw["StackId"], status=raw["StackStatus"],
        reason=raw.get("StackStatusReason", ""),
        outputs={o["OutputKey"]: o.get("OutputValue", "") for o in raw.get("Outputs", [])},
        parameters={p["ParameterKey"]: p.get("ParameterValue", "")
                    for p in raw.get("Parameters", [])},
        created=raw.get("CreationTime"), updated=raw.get("LastUpdatedTime"))


def _change(raw: dict[str, Any]) -> ResourceChange:
    change = raw.get("ResourceChange", raw)
    return ResourceChange(action=change.get("Action", ""),
                          logical_id=change.get("LogicalResourceId", ""),
                          resource_type=change.get("ResourceType", ""),
                          replacement=str(change.get("Replacement", "")),
                          scope=tuple(change.get("Scope", [])))


def _event(raw: dict[str, Any]) -> StackEvent:
    return StackEvent(event_id=raw["EventId"], stack_name=raw.get("StackName", ""),
                      logical_id=raw.get("LogicalResourceId", ""),
                      resource_type=raw.get("ResourceType", ""),
                      status=raw.get("ResourceStatus", ""),
                      reason=raw.get("ResourceStatusReason", ""),
                      timestamp=raw["Timestamp"], physical_id=raw.get("PhysicalResourceId", ""))
