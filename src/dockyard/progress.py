"""The one way long operations report what they are doing: ``up``, ``down``, builds, deploys,
rollbacks and the Jenkins wait all call a :class:`Progress`, which the CLI renders live on a
terminal, as timestamped lines in logs and CI, or as NDJSON events with ``--events``
(dockyard.ui.progress).

Each call names its subject (a stack, an app, an architecture, an image) and says one thing:
a step (``note``), a line a task wrote (``line``), or, for stacks, the change set, a resource's
event and the stack's result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from dockyard.aws.cloudformation import ResourceChange, StackEvent
    from dockyard.stacks.engine import StackResult


class Progress(Protocol):
    """What a long operation tells the person (or program) watching it."""

    def note(self, subject: str, text: str) -> None:
        """A step: ``deploying web@sha256:...``, ``amd64: task 3f2a is RUNNING``."""
        ...

    def line(self, subject: str, text: str) -> None:
        """A line a task wrote (kaniko's log, the controller's); ``subject`` '' for a single
        task, else which one (``amd64``, ``jenkins-controller``)."""
        ...

    def changes(self, stack: str, changes: list[ResourceChange]) -> None:
        """A stack's change set, about to be applied."""
        ...

    def event(self, event: StackEvent) -> None:
        """One of a stack's resource events."""
        ...

    def result(self, result: StackResult) -> None:
        """How a stack's turn ended."""
        ...
