"""CloudFormation stack statuses, and what each means for dockyard."""

from __future__ import annotations

# A stack in one of these cannot be updated: it never got created (ROLLBACK_COMPLETE), or a
# CREATE change set was never executed (REVIEW_IN_PROGRESS). It is deleted and created again.
NEEDS_CLEANUP = frozenset({"ROLLBACK_COMPLETE", "REVIEW_IN_PROGRESS"})
SUCCESS = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE", "DELETE_COMPLETE"})


def is_in_progress(status: str) -> bool:
    """CloudFormation is still working on the stack (including cleanup after an update)."""
    return status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS"


def is_terminal(status: str) -> bool:
    """The stack has settled, for better or worse."""
    return not is_in_progress(status)


def is_success(status: str) -> bool:
    """The last operation on the stack completed as asked."""
    return status in SUCCESS


def needs_cleanup(status: str) -> bool:
    """The stack must be deleted before it can be created again."""
    return status in NEEDS_CLEANUP


def is_failed_resource(status: str) -> bool:
    """A resource event that explains a failure."""
    return status.endswith("_FAILED")
