"""Following logs: every line once, in time order, new ones while following, and an end that
always comes (the caller's condition, a deadline, a stop request), throttled or not."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest

from dockyard.aws.follow import Ending, Follower, GroupCursor, StreamCursor
from dockyard.aws.storage import LogEvent, LogPage
from dockyard.polling import RetryableError
from dockyard.ui.deploy import log_line
from tests.fakes import FakeClock


@dataclass
class Search:
    """A log group whose lines arrive over time: ``later`` is added at each sleep."""

    events: list[LogEvent]
    later: list[list[LogEvent]] = field(default_factory=list)
    asked: list[int] = field(default_factory=list)

    def events_since(self, group: str, start_ms: int) -> list[LogEvent]:
        self.asked.append(start_ms)
        return [e for e in self.events if e.timestamp_ms >= start_ms]


class ArrivingClock(FakeClock):
    def __init__(self, search: Search) -> None:
        super().__init__()
        self.search = search

    def sleep(self, seconds: float) -> None:
        super().sleep(seconds)
        if not self.search.later:
            raise KeyboardInterrupt
        self.search.events += self.search.later.pop(0)


def event(n: int, ms: int, task: str = "aaaaaaaa1111") -> LogEvent:
    return LogEvent(f"e{n}", ms, f"app/web/{task}", f"line {n}")


def test_lines_come_once_in_time_order_and_following_adds_only_new_ones() -> None:
    search = Search([event(2, 200, "bbbbbbbb2222"), event(1, 100)],
                    later=[[event(3, 200)], [], [event(4, 300)]])
    printed: list[str] = []
    cursor = GroupCursor(search, "/dockyard/acme/apps/web", 50)
    logs = Follower(cursor, lambda e: printed.append(log_line(e)), ArrivingClock(search))
    assert logs.read() == 2
    with pytest.raises(KeyboardInterrupt):
        logs.follow(timeout=3600)
    assert printed == ["[aaaaaaaa] line 1", "[bbbbbbbb] line 2", "[aaaaaaaa] line 3",
                       "[aaaaaaaa] line 4"], "a line at the same millisecond is not lost"
    assert search.asked == [50] * 5, "each poll looks back, never before --since"


def test_a_line_ingested_late_with_an_earlier_timestamp_is_not_lost() -> None:
    minute = 60_000
    now = 100 * minute
    search = Search([event(1, now)], later=[[event(2, now + 5 * minute)],
                                            [event(3, now + 2 * minute)]])
    printed: list[str] = []
    cursor = GroupCursor(search, "/dockyard/acme/apps/web", now - minute)
    logs = Follower(cursor, lambda e: printed.append(log_line(e)), ArrivingClock(search))
    logs.read()
    with pytest.raises(KeyboardInterrupt):
        logs.follow(timeout=3600)
    assert printed == ["[aaaaaaaa] line 1", "[aaaaaaaa] line 2", "[aaaaaaaa] line 3"]
    assert min(search.asked[1:]) <= now + 2 * minute, "it looked back far enough"


class Stream:
    """One stream; reads can be throttled."""

    def __init__(self, lines: list[str], throttled: int = 0) -> None:
        self.lines, self.throttled, self.reads = lines, throttled, 0

    def read(self, group: str, stream: str, token: str | None) -> LogPage:
        self.reads += 1
        if self.throttled:
            self.throttled -= 1
            raise RetryableError("read the log stream: AWS is throttling requests")
        start = int(token or 0)
        return LogPage(self.lines[start:], str(len(self.lines)))


def test_a_condition_that_holds_ends_it_after_the_last_lines() -> None:
    stream, printed, checks = Stream(["one"]), list[str](), [0]

    def stopped() -> bool:
        checks[0] += 1
        if checks[0] == 2:
            stream.lines.append("two")  # written as the task stopped
            return True
        return False

    follower = Follower(StreamCursor(stream, "g", "s"), printed.append, FakeClock())
    assert follower.follow(timeout=600, until=stopped) == Ending.DONE
    assert printed == ["one", "two"], "the lines written at the end are read before it ends"


def test_throttled_reads_never_hold_the_end_back() -> None:
    """With every read throttled, the condition is still checked each round: a stopped build
    is reported without waiting on its log."""
    stream = Stream([], throttled=10_000)
    clock = FakeClock()
    follower = Follower(StreamCursor(stream, "g", "s"), print, clock, interval=2)
    assert follower.follow(timeout=600, until=lambda: clock.now() >= 10) == Ending.DONE
    assert clock.now() < 40, "it ended within a few rounds of the condition, not at the deadline"


def test_a_deadline_and_a_stop_request_end_it() -> None:
    clock = FakeClock()
    follower = Follower(StreamCursor(Stream([]), "g", "s"), print, clock, interval=2)
    assert follower.follow(timeout=60) == Ending.TIMED_OUT
    assert sum(clock.sleeps) == pytest.approx(60)
    stop = threading.Event()
    stop.set()
    assert follower.follow(timeout=60, stop=stop) == Ending.STOPPED
