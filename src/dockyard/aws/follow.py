"""Following CloudWatch Logs: the one loop that prints lines as they arrive, for builds, apps and
the Jenkins controller.

What is read is a cursor: one stream forward by token (a build's kaniko log, the controller's
log), or every stream of a group (an app's tasks) with a look-back window, because CloudWatch
shows an event when it is ingested, which can be well after its timestamp. What ends it is the
caller's condition (the build task stopped), a deadline, a stop request from another thread, or
Ctrl-C. Every wait goes through :func:`dockyard.polling.poll_until`, so it is bounded and a fake
clock drives it in tests. A throttled read skips one round instead of holding the loop: the
caller's condition is still checked, so a build whose task stopped is never kept waiting on its
log.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

from dockyard.aws.storage import LogEvent, LogPage
from dockyard.polling import Clock, Poll, RetryableError, WaitTimeoutError, poll_until

INTERVAL = 2.0
# CloudWatch shows a task's last lines a few seconds after it stopped: after the condition
# holds, read on until two quiet rounds in a row, within this bound.
DRAIN = Poll("the last log lines", interval=1.0, timeout=15.0, reads=3)
# CloudWatch Logs shows an event when it is ingested, which can be well after its timestamp
# (the awslogs driver sends in batches; agents retry): a group read looks back this far, and
# events already printed are recognised by their id.
LOOKBACK_MS = 5 * 60 * 1000
# `logs --follow` is meant to run until Ctrl-C, but no wait is unbounded.
FOLLOW_LIMIT = 24 * 3600.0

T = TypeVar("T")


class Cursor(Protocol[T]):
    """Where following has got to in some logs: each read returns what is new."""

    def read(self) -> list[T]: ...


class StreamReader(Protocol):
    """GetLogEvents forward (``dockyard.aws.storage.Logs``, or a fake)."""

    def read(self, group: str, stream: str, token: str | None) -> LogPage: ...


class GroupReader(Protocol):
    """FilterLogEvents over a group (``dockyard.aws.storage.Logs``, or a fake)."""

    def events_since(self, group: str, start_ms: int) -> list[LogEvent]: ...


@dataclass
class StreamCursor:
    """One log stream, read forward from ``token`` (from its start without one)."""

    logs: StreamReader
    group: str
    stream: str
    token: str | None = None

    def read(self) -> list[str]:
        """The lines written since the last read."""
        page = self.logs.read(self.group, self.stream, self.token)
        self.token = page.token
        return page.lines


@dataclass
class GroupCursor:
    """Every stream of a group since ``start_ms``: each event once, in time order, including
    events ingested late with an earlier timestamp (within :data:`LOOKBACK_MS`)."""

    logs: GroupReader
    group: str
    start_ms: int
    _seen: dict[str, int] = field(default_factory=dict)  # event id -> its timestamp
    _latest: int = 0

    def read(self) -> list[LogEvent]:
        """The events not returned before."""
        since = max(self.start_ms, self._latest - LOOKBACK_MS) if self._latest else self.start_ms
        fresh = sorted((e for e in self.logs.events_since(self.group, since)
                        if e.event_id not in self._seen),
                       key=lambda e: (e.timestamp_ms, e.event_id))
        for event in fresh:
            self._seen[event.event_id] = event.timestamp_ms
            self._latest = max(self._latest, event.timestamp_ms)
        # Ids older than the look-back window can never be read again: forget them.
        cutoff = self._latest - 2 * LOOKBACK_MS
        self._seen = {k: v for k, v in self._seen.items() if v >= cutoff}
        return fresh


class Ending(StrEnum):
    """Why following stopped."""

    DONE = "done"  # the caller's condition held (and the last lines were read)
    STOPPED = "stopped"  # another thread asked it to stop
    TIMED_OUT = "timed out"


@dataclass
class Follower(Generic[T]):
    """Prints what a cursor reads, every ``interval`` seconds, until told to end."""

    cursor: Cursor[T]
    emit: Callable[[T], None]
    clock: Clock
    interval: float = INTERVAL

    def read(self) -> int:
        """Emit what is new now; returns how much (0 when the read was throttled)."""
        try:
            items = self.cursor.read()
        except RetryableError:
            return 0
        for item in items:
            self.emit(item)
        return len(items)

    def follow(self, *, timeout: float, until: Callable[[], bool] | None = None,
               stop: threading.Event | None = None, reason: str = "new log lines") -> Ending:
        """Read every ``interval`` until ``until()`` holds (then drain the last lines), ``stop``
        is set, or ``timeout`` seconds pass. Ctrl-C propagates to the caller."""
        def tick() -> Ending | None:
            self.read()
            if stop is not None and stop.is_set():
                return Ending.STOPPED
            if until is not None and until():
                return Ending.DONE
            return None

        try:
            ending = poll_until(tick, lambda e: e is not None,
                                Poll(reason, self.interval, timeout), self.clock)
        except WaitTimeoutError:
            return Ending.TIMED_OUT
        if ending == Ending.DONE:
            self.drain()
        return ending or Ending.TIMED_OUT

    def drain(self) -> None:
        """Read until two quiet rounds in a row (within :data:`DRAIN`)."""
        quiet = [0]

        def fetch() -> int:
            quiet[0] = 0 if self.read() else quiet[0] + 1
            return quiet[0]

        with contextlib.suppress(WaitTimeoutError):
            poll_until(fetch, lambda polls: polls >= 2, DRAIN, self.clock)
