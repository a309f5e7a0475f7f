"""One stack through a change set: create it, wait, show it, execute, stream events, settle.

"No changes" is an outcome like any other. A stack CloudFormation left in ROLLBACK_COMPLETE or
REVIEW_IN_PROGRESS is deleted and created again, and the reporter is told so; one left in
UPDATE_ROLLBACK_FAILED is first rolled back (ContinueUpdateRollback); a deletion that ends in
DELETE_FAILED is tried once more. Ctrl-C while an update runs asks CloudFormation to cancel it
(it rolls back); a creation cannot be cancelled.

DescribeStacks is eventually consistent: right after ExecuteChangeSet or DeleteStack it can
still show the stack as it was (REVIEW_IN_PROGRESS, or the previous UPDATE_COMPLETE with the
previous outputs). A verdict is taken only from a state that provably follows the call: a
creation has left REVIEW_IN_PROGRESS, an update carries a newer LastUpdatedTime, a deletion is
DELETE_* or gone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from dockyard.aws.cloudformation import ChangeSet, ResourceChange, Stack, StackEvent
from dockyard.errors import Cancelled, DockyardError
from dockyard.polling import Clock, Poll, poll_until
from dockyard.progress import Progress
from dockyard.stacks import status as st
from dockyard.stacks.properties import parameter_changes, resource_changes
from dockyard.stacks.results import Outcome, StackResult


class StackApi(Protocol):
    """The CloudFormation calls the engine makes (``dockyard.aws.cloudformation``, or a fake)."""

    def describe(self, name: str) -> Stack | None: ...
    def create_change_set(self, *, stack: str, name: str, template: str,
                          parameters: dict[str, str], tags: dict[str, str],
                          create: bool) -> tuple[str, str] | None: ...
    def describe_change_set(self, arn: str) -> ChangeSet: ...
    def execute_change_set(self, arn: str) -> None: ...
    def delete_change_set(self, arn: str) -> None: ...
    def delete_stack(self, name: str) -> None: ...
    def cancel_update(self, name: str) -> None: ...
    def continue_update_rollback(self, name: str) -> None: ...
    def events_since(self, stack_id: str, seen: set[str]) -> list[StackEvent]: ...
    def template(self, name: str) -> dict[str, Any]: ...


@dataclass(frozen=True)
class StackRequest:
    """A stack to deploy: its key (``edge``), name, template body, parameters and tags."""

    key: str
    name: str
    template: str
    parameters: dict[str, str]
    tags: dict[str, str]


@dataclass(frozen=True)
class Timing:
    """Intervals and deadlines of the engine's waits."""

    change_set: Poll
    operation: Poll
    rollback: Poll


# Change sets are ready in seconds; a stack with an ACM certificate waiting for DNS validation,
# or a Jenkins service waiting for a healthy task, can take many minutes. The first looks come
# quickly and double (0.25, 0.5, 1, 2, 4 s): a stack with nothing slow in it (a rule, a log
# group) is done in a second, and one that takes minutes costs only three more reads.
DEFAULT_TIMING = Timing(
    change_set=Poll("the change set to be ready", interval=2, timeout=600, first=0.25),
    operation=Poll("the stack operation to finish", interval=5, timeout=3600, first=0.25),
    rollback=Poll("the cancelled update to roll back", interval=5, timeout=1800, first=0.25),
)


Confirm = Callable[[str, list[ResourceChange]], bool]
Accept = Callable[[Stack], bool]


def created(stack: Stack) -> bool:
    """A creation has settled: the stack left REVIEW_IN_PROGRESS for a final status."""
    return stack.status != "REVIEW_IN_PROGRESS" and st.is_terminal(stack.status)


def updated_after(before: Stack) -> Accept:
    """An update has settled: the stack is final and was updated after ``before``."""
    def accept(stack: Stack) -> bool:
        newer = stack.updated is not None and (before.updated is None or
                                               stack.updated > before.updated)
        return newer and st.is_terminal(stack.status)
    return accept


def deleted(stack: Stack) -> bool:
    """A deletion has settled: gone, or failed."""
    return stack.status in ("DELETE_COMPLETE", "DELETE_FAILED")


def rolled_back(stack: Stack) -> bool:
    """A rollback has settled."""
    return stack.status in ("UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED",
                            "UPDATE_COMPLETE")


class Engine:
    """Deploys and deletes single stacks, reporting as it goes."""

    def __init__(self, api: StackApi, clock: Clock, reporter: Progress,
                 timing: Timing | None = None) -> None:
        self.api = api
        self.clock = clock
        self.reporter = reporter
        self.timing = timing or DEFAULT_TIMING

    def preview(self, request: StackRequest) -> StackResult:
        """The changes a deploy would make, through a change set that is deleted afterwards."""
        existing = self.api.describe(request.name)
        if existing is None or st.needs_cleanup(existing.status):
            raise DockyardError(f"{request.name} does not exist; nothing to compare with")
        change_set = self._change_set(request, create=False)
        if change_set is None or change_set.is_empty:
            if change_set is not None:
                self.api.delete_change_set(change_set.arn)
            return StackResult(request.key, request.name, Outcome.NO_CHANGES, existing.status,
                               outputs=existing.outputs)
        self.api.delete_change_set(change_set.arn)
        deployed = self.api.template(request.name)
        wanted = json.loads(request.template)
        details = {c.logical_id: resource_changes(deployed, wanted, c.logical_id)
                   for c in change_set.changes if c.action == "Modify"}
        return StackResult(request.key, request.name, Outcome.UPDATED, existing.status,
                           outputs=existing.outputs, changes=change_set.changes,
                           details={k: v for k, v in details.items() if v},
                           parameters=parameter_changes(existing.parameters,
                                                        request.parameters))

    def deploy(self, request: StackRequest, confirm: Confirm) -> StackResult:
        """Create or update one stack through a change set, and report the outcome."""
        existing = self.api.describe(request.name)
        if existing is not None and st.is_in_progress(existing.status):
            raise DockyardError(f"{request.name} is busy ({existing.status})",
                                hint="wait for it to settle (`dockyard status`), then retry")
        if existing is not None and existing.status == "DELETE_FAILED":
            raise DockyardError(f"{request.name} could not be deleted earlier (DELETE_FAILED) "
                                "and cannot be updated",
                                hint="run `dockyard down` again (it retries the deletion), "
                                     "then `dockyard up`")
        if existing is not None and existing.status == "UPDATE_ROLLBACK_FAILED":
            existing = self._continue_rollback(existing)
        if existing is not None and st.needs_cleanup(existing.status):
            self.reporter.note(request.name, f"{request.name} is left in {existing.status} from "
                                             "an earlier attempt: deleting it to create it again")
            self._delete_and_wait(existing)
            existing = None
        change_set = self._change_set(request, create=existing is None)
        if change_set is None or change_set.is_empty:
            if change_set is not None:
                self.api.delete_change_set(change_set.arn)
            result = StackResult(request.key, request.name, Outcome.NO_CHANGES,
                                 existing.status if existing else "", outputs=_outputs(existing))
            self.reporter.result(result)
            return result
        self.reporter.changes(request.name, change_set.changes)
        try:
            approved = confirm(request.name, change_set.changes)
        except BaseException:
            self._discard(change_set, created_stack=existing is None, name=request.name)
            raise
        if not approved:
            self._discard(change_set, created_stack=existing is None, name=request.name)
            result = StackResult(request.key, request.name, Outcome.DECLINED,
                                 changes=change_set.changes)
            self.reporter.result(result)
            return result
        seen = {e.event_id for e in self.api.events_since(change_set.stack_id, set())}
        self.api.execute_change_set(change_set.arn)
        final, events = self._follow(request.name, change_set.stack_id, seen,
                                     accept=updated_after(existing) if existing else created,
                                     updating=existing is not None)
        outcome = (Outcome.FAILED if not st.is_success(final.status)
                   else Outcome.UPDATED if existing else Outcome.CREATED)
        result = StackResult(request.key, request.name, outcome, final.status, final.reason,
                             outputs=final.outputs, changes=change_set.changes,
                             failures=[e for e in events if st.is_failed_resource(e.status)])
        self.reporter.result(result)
        return result

    def delete(self, key: str, name: str) -> StackResult:
        """Delete one stack and wait until it is gone."""
        existing = self.api.describe(name)
        if existing is None:
            result = StackResult(key, name, Outcome.ABSENT)
        else:
            final, events = self._delete_and_wait(existing)
            if final.status == "DELETE_FAILED":
                # Often a dependency that clears by itself (network interfaces of tasks that
                # just stopped): CloudFormation retries the resources that are left.
                self.reporter.note(name, f"{name} is DELETE_FAILED: deleting it once more")
                final, more = self._delete_and_wait(final, retry=True)
                events += more
            outcome = Outcome.DELETED if final.status == "DELETE_COMPLETE" else Outcome.FAILED
            result = StackResult(key, name, outcome, final.status, final.reason,
                                 failures=[e for e in events if st.is_failed_resource(e.status)])
        self.reporter.result(result)
        return result

    def _change_set(self, request: StackRequest, *, create: bool) -> ChangeSet | None:
        """A ready change set, or None when CloudFormation said at once there is nothing to do."""
        started = self.api.create_change_set(
            stack=request.name, name=_change_set_name(), template=request.template,
            parameters=request.parameters, tags=request.tags, create=create)
        if started is None:
            return None
        arn, _ = started
        change_set = poll_until(lambda: self.api.describe_change_set(arn),
                                lambda c: c.status in ("CREATE_COMPLETE", "FAILED"),
                                self.timing.change_set, self.clock)
        if change_set.status == "FAILED" and not change_set.is_empty:
            self._discard(change_set, created_stack=create, name=request.name)
            raise DockyardError(f"CloudFormation rejected the change to {request.name}: "
                                f"{change_set.reason}")
        return change_set

    def _discard(self, change_set: ChangeSet, *, created_stack: bool, name: str) -> None:
        self.api.delete_change_set(change_set.arn)
        if created_stack:  # a CREATE change set leaves an empty stack in REVIEW_IN_PROGRESS
            self.api.delete_stack(name)

    def _delete_and_wait(self, stack: Stack, *, retry: bool = False
                         ) -> tuple[Stack, list[StackEvent]]:
        """Delete and wait for the deletion to settle. A ``retry`` of a DELETE_FAILED stack
        settles only on a status that follows it: DescribeStacks may still show the failure
        before it (eventual consistency), so DELETE_FAILED counts once the stack's own event
        for this attempt is recorded."""
        seen = {e.event_id for e in self.api.events_since(stack.stack_id, set())}
        self.api.delete_stack(stack.name)
        events: list[StackEvent] = []

        def settled(found: Stack) -> bool:
            if not retry or found.status != "DELETE_FAILED":
                return deleted(found)
            return any(e.logical_id == stack.name and e.status == "DELETE_FAILED"
                       for e in events)
        try:
            return self._wait(stack.stack_id, seen, self.timing.operation, settled,
                              gone_ok=True, events=events)
        except KeyboardInterrupt:
            raise Cancelled(f"stopped watching; CloudFormation goes on deleting {stack.name}",
                                 hint="a deletion cannot be cancelled; `dockyard status` shows "
                                      "where it is") from None

    def _continue_rollback(self, stack: Stack) -> Stack:
        """Finish a rollback that failed, so the stack can be updated again."""
        self.reporter.note(stack.name, f"{stack.name} is UPDATE_ROLLBACK_FAILED from an earlier "
                                       "update: continuing the rollback first")
        seen = {e.event_id for e in self.api.events_since(stack.stack_id, set())}
        self.api.continue_update_rollback(stack.name)
        final, events = self._wait(stack.stack_id, seen, self.timing.rollback,
                                   lambda s: s.status in ("UPDATE_ROLLBACK_COMPLETE",
                                                          "UPDATE_ROLLBACK_FAILED"))
        if final.status != "UPDATE_ROLLBACK_COMPLETE":
            failed = [e.logical_id for e in events if st.is_failed_resource(e.status)]
            skip = " ".join(dict.fromkeys(failed)) or "LOGICAL_ID"
            raise DockyardError(
                f"{stack.name} cannot be rolled back ({final.status}): {final.reason}".rstrip(": "),
                hint=f"fix or remove the resources it names, or skip them: aws cloudformation "
                     f"continue-update-rollback --stack-name {stack.name} --resources-to-skip "
                     f"{skip}, then retry")
        return final

    def _follow(self, name: str, stack_id: str, seen: set[str], *, accept: Accept,
                updating: bool) -> tuple[Stack, list[StackEvent]]:
        try:
            return self._wait(stack_id, seen, self.timing.operation, accept)
        except KeyboardInterrupt:
            if not updating:
                raise Cancelled(
                    f"stopped watching; CloudFormation goes on creating {name}",
                    hint="a creation cannot be cancelled: it finishes or rolls back on its own; "
                         "`dockyard status` shows where it is") from None
            self.api.cancel_update(name)
            self.reporter.note(name, f"cancelling the update of {name}: CloudFormation rolls "
                                     "it back (Ctrl-C again to stop watching)")
            try:
                final, _ = self._wait(stack_id, seen, self.timing.rollback, rolled_back)
            except KeyboardInterrupt:
                final = None
            state = f", now {final.status}" if final else ""
            raise Cancelled(f"cancelled the update of {name}{state}") from None

    def _wait(self, stack_id: str, seen: set[str], poll: Poll, accept: Accept, *,
              gone_ok: bool = False, events: list[StackEvent] | None = None
              ) -> tuple[Stack, list[StackEvent]]:
        """Poll until ``accept`` holds, reporting new events (collected in ``events``, which
        ``accept`` may read)."""
        events = [] if events is None else events

        def fetch() -> Stack:
            # Status first, then events: every event that led to this status is already
            # recorded, so the last poll drains them all.
            stack = self.api.describe(stack_id)
            for event in self.api.events_since(stack_id, seen):
                seen.add(event.event_id)
                events.append(event)
                self.reporter.event(event)
            if stack is None and gone_ok:
                return Stack(name=stack_id, stack_id=stack_id, status="DELETE_COMPLETE")
            if stack is None:
                raise DockyardError(f"stack {stack_id} disappeared while deploying")
            return stack

        final = poll_until(fetch, accept, poll, self.clock)
        return final, events


def _change_set_name() -> str:
    return "dockyard-" + datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")


def _outputs(stack: Stack | None) -> dict[str, str]:
    return dict(stack.outputs) if stack else {}
