"""Progress for people and programs: a live view on a terminal, timestamped lines in logs and
CI, NDJSON events with ``--events``. All three implement dockyard.progress.Progress, the one
interface stacks, builds, deploys and the Jenkins wait report through; each is safe to call
from several threads (a multi-architecture build's tasks)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dockyard.ui.console import Console
from dockyard.ui.text import columns, elapsed

if TYPE_CHECKING:
    from rich.live import Live

    from dockyard.aws.cloudformation import ResourceChange, StackEvent
    from dockyard.progress import DeploymentEvent
    from dockyard.stacks.results import StackResult

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
        # Re-entrant: the live view's own lines come back to it through the console.
        self._lock = threading.RLock()

    def note(self, subject: str, text: str) -> None:
        """A step, as a timestamped line."""
        with self._lock:
            self.console.progress(text)

    def line(self, subject: str, text: str) -> None:
        """A task's log line, as it wrote it (prefixed with its subject when there is one)."""
        with self._lock:
            self.console.note(f"[{subject}] {text}" if subject else text)

    def deployment(self, event: DeploymentEvent) -> None:
        """A change in a progressive deployment, as a step."""
        self.note("deploy", event.text())

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


@dataclass
class Step:
    """One subject's part of a command (a stack, the context, a build, a deploy): when it
    started, when it last said something, what it said last and how it ended."""

    subject: str
    started: float
    last: float
    text: str = ""
    failed: bool = False


class LiveReporter(PlainReporter):
    """The live view on a terminal: each step with its elapsed time (and the current stack's
    resources) redrawn in place at the bottom of stderr, every line printed above it as it
    comes, and at the end a summary of the steps and their times that stays on the screen.

    A step's time runs from its subject's first report to its last one; the step that
    reported last is the one running, and its time runs on until the next step starts or the
    command ends."""

    def __init__(self, console: Console, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(console)
        self._clock = clock
        self._began = clock()
        self._live: Live | None = None
        self._steps: dict[str, Step] = {}
        self._current = ""
        self._rows: dict[str, tuple[str, str, str]] = {}
        self._planned: dict[str, list[ResourceChange]] = {}
        self._stack = ""
        self._width = 120
        self._closed = False  # the summary is out: what follows is plain lines

    def note(self, subject: str, text: str) -> None:
        """A step: printed above the view, and the step's row updated."""
        with self._lock:
            self._touch(subject or "dockyard", text)
            super().note(subject, text)

    def line(self, subject: str, text: str) -> None:
        """A task's log line, printed above the view; it keeps its step's time running."""
        with self._lock:
            self._touch(subject or self._current or "dockyard", None)
            super().line(subject, text)

    def changes(self, stack: str, changes: list[ResourceChange]) -> None:
        """Print the change set, and remember it to show every resource as it goes."""
        with self._lock:
            self._touch(stack, f"{len(changes)} change{'s' * (len(changes) != 1)}")
            self._planned[stack] = changes
            super().changes(stack, changes)

    def event(self, event: StackEvent) -> None:
        """Update the resource's row (the stack's own events update the title)."""
        with self._lock:
            if event.stack_name != self._stack:
                self._stack = event.stack_name
                self._rows = {c.logical_id: (c.resource_type, "waiting", c.action.lower())
                              for c in self._planned.get(event.stack_name, [])}
            self._rows[event.logical_id] = (event.resource_type, event.status, event.reason)
            self._touch(event.stack_name, f"{event.logical_id} {event.status}")

    def result(self, result: StackResult) -> None:
        """The stack's row ends with its outcome; the summary line and failures go above."""
        with self._lock:
            step = self._touch(result.name, str(result.outcome))
            step.failed = str(result.outcome) in ("failed", "cancelled")
            self._current = ""  # the stack's time stops here
            if result.name == self._stack:
                self._stack, self._rows = "", {}
            super().result(result)

    # The console hands its lines here while the view shows (dockyard.ui.console.Overlay).

    def above(self, text: str) -> None:
        """Print a line above the view."""
        from rich.text import Text

        with self._lock:
            if self._live is None:
                self.console.err.write(text + "\n")
            else:
                self._live.console.print(Text(text), highlight=False, soft_wrap=True)

    def pause(self) -> None:
        """Take the view off the screen; the next report brings it back."""
        with self._lock:
            self._stop()

    def close(self, ok: bool = True) -> None:
        """Take the view off the screen and print each step with its time, and the total;
        when the command failed, the step that was running is the one marked failed. Lines
        that come after it are plain."""
        with self._lock:
            self._stop()
            self._closed = True
            if not self._steps:
                return
            now = self._clock()
            if not ok and self._current:
                self._steps[self._current].failed = True
            rows = [("x" if step.failed else "✓", step.subject, elapsed(self._took(step, now)),
                     step.text) for step in self._steps.values()]
            rows.append(("", "total", elapsed(now - self._began), ""))
            width = self._width
            for line in columns(rows, right=(2,), indent=0, gap=2):
                self.console.err.write((line if len(line) < width else line[:width - 2] + "…")
                                       + "\n")
            self.console.err.flush()
            self._steps, self._current = {}, ""

    def _touch(self, subject: str, text: str | None) -> Step:
        now = self._clock()
        step = self._steps.get(subject)
        if step is None:
            step = self._steps[subject] = Step(subject, started=now, last=now)
        step.last = now
        if text is not None:
            step.text = text
        self._current = subject
        if self._live is None:
            if not self._closed:
                self._start()
        elif text is not None:
            self._live.refresh()  # the lines printed above it come with the view as it is now
        return step

    def _took(self, step: Step, now: float) -> float:
        """The running step runs until now; the others until they last reported."""
        return (now if step.subject == self._current else step.last) - step.started

    def _start(self) -> None:
        from rich.console import Console as RichConsole
        from rich.live import Live

        rich = RichConsole(file=self.console.err, no_color=not self.console.color,
                           highlight=False)
        self._width = rich.width  # stderr's terminal, which the summary is cut to
        self._live = Live(console=rich, get_renderable=self._view, refresh_per_second=4,
                          transient=True, redirect_stdout=False, redirect_stderr=False)
        self._live.start()
        self.console.overlay = self

    def _stop(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
            self.console.overlay = None

    def _view(self) -> Any:
        from rich.console import Group
        from rich.spinner import Spinner
        from rich.table import Table
        from rich.text import Text

        # No lock here: Live's refresh thread calls this holding Live's own lock, which a
        # reporting thread, holding ours, may be waiting for. Copies of the dicts suffice.
        now, current = self._clock(), self._current
        rows = list(self._steps.values())
        width = max((len(step.subject) for step in rows), default=0)
        steps = Table.grid(padding=(0, 2))
        steps.add_column(no_wrap=True)
        steps.add_column(no_wrap=True, overflow="ellipsis", ratio=1)  # one line per step
        for step in rows:
            mark: Any = (Spinner("dots", style="yellow") if step.subject == current
                         else "[red]x[/]" if step.failed else "[green]✓[/]")
            line = f"{step.subject:<{width}}  {elapsed(self._took(step, now)):>5}  {step.text}"
            steps.add_row(mark, Text(line, no_wrap=True, overflow="ellipsis"))
        return Group(self._table(), steps) if self._stack else steps

    def _table(self) -> Any:
        from rich.table import Table

        table = Table(title=self._stack, box=None, show_header=True, header_style="bold")
        for column in ("resource", "type", "status", "reason"):
            table.add_column(column, overflow="fold")
        for logical_id, (kind, status, reason) in list(self._rows.items()):
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
        """The command's result, as the last event (only one: a failure after it adds none)."""
        if not self.console.summarized:
            self._emit("summary", **document)
            self.console.summarized = True

    def deployment(self, event: DeploymentEvent) -> None:
        """A change in a progressive deployment, with its fields (docs/output.md)."""
        self._emit(event.kind, **event.fields())

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
