"""Progress for people and programs: a live view on a terminal, timestamped lines in logs and
CI, NDJSON events with ``--events``. All three implement dockyard.progress.Progress, the one
interface stacks, builds, deploys and the Jenkins wait report through; each is safe to call
from several threads (a multi-architecture build's tasks)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dockyard.ui.console import Console
from dockyard.ui.text import columns

if TYPE_CHECKING:
    from rich.live import Live

    from dockyard.aws.cloudformation import ResourceChange, StackEvent
    from dockyard.stacks.engine import StackResult

_ACTION = {"Add": "+", "Modify": "~", "Remove": "-", "Import": ">", "Dynamic": "?"}


def change_lines(changes: list[ResourceChange]) -> list[str]:
    """A change set as aligned lines: action, logical id, type, replacement."""
    rows = [(f"{_ACTION.get(c.action, '?')} {c.action.lower()}", c.logical_id, c.resource_type,
             _replacement(c)) for c in changes]
    return columns(rows)


def _replacement(change: ResourceChange) -> str:
    if change.action != "Modify":
        return ""
    return {"True": "replacement: yes", "False": "replacement: no",
            "Conditional": "replacement: conditional"}.get(change.replacement, "")


def failure_lines(result: StackResult) -> list[str]:
    """The resources that failed, each with CloudFormation's reason."""
    lines = [f"  {e.logical_id} ({e.resource_type}) {e.status}: {e.reason or 'no reason given'}"
             for e in result.failures if not e.is_stack]
    if not lines and result.reason:
        lines.append(f"  {result.reason}")
    return lines


class PlainReporter:
    """One timestamped line per happening, on stderr (logs and CI)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._lock = threading.Lock()

    def note(self, subject: str, text: str) -> None:
        """A step, as a timestamped line."""
        with self._lock:
            self.console.progress(text)

    def line(self, subject: str, text: str) -> None:
        """A task's log line, as it wrote it (prefixed with its subject when there is one)."""
        with self._lock:
            self.console.note(f"[{subject}] {text}" if subject else text)

    def summary(self, document: dict[str, Any]) -> None:
        """Nothing: without --events the command prints its own result."""

    def changes(self, stack: str, changes: list[ResourceChange]) -> None:
        """The change set about to be applied."""
        self.console.progress(f"{stack}: {len(changes)} change{'s' * (len(changes) != 1)}")
        for line in change_lines(changes):
            self.console.note(line)

    def event(self, event: StackEvent) -> None:
        """One stack event."""
        reason = f"  {event.reason}" if event.reason and not event.is_stack else ""
        self.console.progress(f"{event.stack_name}  {event.logical_id}  {event.status}{reason}")

    def result(self, result: StackResult) -> None:
        """How the stack's turn ended."""
        self.console.progress(f"{result.name}: {result.outcome}")
        for line in failure_lines(result):
            self.console.note(line)


class LiveReporter(PlainReporter):
    """A table of the current stack's resources, redrawn in place on the terminal."""

    def __init__(self, console: Console) -> None:
        super().__init__(console)
        self._live: Live | None = None
        self._rows: dict[str, tuple[str, str, str]] = {}
        self._planned: dict[str, list[ResourceChange]] = {}
        self._stack = ""

    def changes(self, stack: str, changes: list[ResourceChange]) -> None:
        """Print the change set, and remember it to show every resource as it goes."""
        super().changes(stack, changes)
        self._planned[stack] = changes

    def event(self, event: StackEvent) -> None:
        """Update the resource's row (the stack's own events update the title)."""
        if self._live is None or event.stack_name != self._stack:
            self._start(event.stack_name)
        self._rows[event.logical_id] = (event.resource_type, event.status, event.reason)
        assert self._live is not None
        self._live.update(self._table())

    def result(self, result: StackResult) -> None:
        """Stop the live view and leave one summary line behind."""
        if self._live is not None:
            self._live.stop()
            self._live = None
        super().result(result)

    def _start(self, stack: str) -> None:
        from rich.console import Console as RichConsole
        from rich.live import Live

        if self._live is not None:
            self._live.stop()
        self._stack = stack
        self._rows = {c.logical_id: (c.resource_type, "waiting", c.action.lower())
                      for c in self._planned.get(stack, [])}
        self._live = Live(self._table(), console=RichConsole(
            file=self.console.err, no_color=not self.console.color),
                          refresh_per_second=4, transient=True)
        self._live.start()

    def _table(self) -> Any:
        from rich.table import Table

        table = Table(title=self._stack, box=None, show_header=True, header_style="bold")
        for column in ("resource", "type", "status", "reason"):
            table.add_column(column, overflow="fold")
        for logical_id, (kind, status, reason) in self._rows.items():
            style = ("red" if "FAILED" in status or "ROLLBACK" in status
                     else "green" if status.endswith("_COMPLETE") else "yellow")
            table.add_row(logical_id, kind, f"[{style}]{status}[/]", reason)
        return table


class NdjsonReporter:
    """One JSON object per line on stdout, for programs (``--events``)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._lock = threading.Lock()

    def _emit(self, kind: str, **fields: Any) -> None:
        document = {"time": datetime.now(UTC).isoformat(timespec="seconds"), "event": kind,
                    **fields}
        with self._lock:
            self.console.data(json.dumps(document, default=str, separators=(",", ":")))

    def note(self, subject: str, text: str) -> None:
        """A step."""
        self._emit("note", subject=subject, message=text)

    def line(self, subject: str, text: str) -> None:
        """A task's log line."""
        self._emit("line", subject=subject, line=text)

    def summary(self, document: dict[str, Any]) -> None:
        """The command's result, as the last event."""
        self._emit("summary", **document)

    def changes(self, stack: str, changes: list[ResourceChange]) -> None:
        """The change set about to be applied."""
        self._emit("changes", stack=stack, changes=[
            {"action": c.action, "resource": c.logical_id, "type": c.resource_type,
             "replacement": c.replacement} for c in changes])

    def event(self, event: StackEvent) -> None:
        """One stack event."""
        self._emit("resource", stack=event.stack_name, resource=event.logical_id,
                   type=event.resource_type, status=event.status, reason=event.reason,
                   at=event.timestamp.isoformat())

    def result(self, result: StackResult) -> None:
        """How the stack's turn ended."""
        self._emit("stack", stack=result.name, outcome=str(result.outcome), status=result.status,
                   reason=result.reason, failures=[
                       {"resource": e.logical_id, "type": e.resource_type, "status": e.status,
                        "reason": e.reason} for e in result.failures])


Reporter = PlainReporter | NdjsonReporter
"""A renderer of dockyard.progress.Progress (LiveReporter is a PlainReporter)."""
