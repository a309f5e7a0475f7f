"""How a stack's turn ended: what the engine returns and every reporter renders (kept apart
from the engine, so that what reports progress does not depend on what makes it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from dockyard.aws.cloudformation import ResourceChange, StackEvent
from dockyard.stacks.properties import PropertyChange


class Outcome(StrEnum):
    """How one stack's turn ended."""

    CREATED = "created"
    UPDATED = "updated"
    NO_CHANGES = "no changes"
    FAILED = "failed"
    CANCELLED = "cancelled"
    DECLINED = "declined"
    DELETED = "deleted"
    ABSENT = "absent"


@dataclass(frozen=True)
class StackResult:
    """What happened to one stack."""

    key: str
    name: str
    outcome: Outcome
    status: str = ""
    reason: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    changes: list[ResourceChange] = field(default_factory=list)
    failures: list[StackEvent] = field(default_factory=list)
    # preview: each modified resource's properties, before -> after; parameters whose value
    # would change
    details: dict[str, list[PropertyChange]] = field(default_factory=dict)
    parameters: list[PropertyChange] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """The stack is as declared (or, for a delete, gone)."""
        return self.outcome in (Outcome.CREATED, Outcome.UPDATED, Outcome.NO_CHANGES,
                                Outcome.DELETED, Outcome.ABSENT)
