"""``logs APP``: every line once, in time order, and new ones while following."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from dockyard.aws.storage import LogEvent
from dockyard.deploy.status import AppLogs
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
    logs = AppLogs(search, ArrivingClock(search), lambda e: printed.append(log_line(e)))
    assert logs.show("/dockyard/acme/apps/web", 50) == 2
    with pytest.raises(KeyboardInterrupt):
        logs.follow("/dockyard/acme/apps/web")
    assert printed == ["[aaaaaaaa] line 1", "[bbbbbbbb] line 2", "[aaaaaaaa] line 3",
                       "[aaaaaaaa] line 4"], "a line at the same millisecond is not lost"
    assert search.asked == [50] * 5, "each poll looks back, never before --since"


def test_a_line_ingested_late_with_an_earlier_timestamp_is_not_lost() -> None:
    minute = 60_000
    now = 100 * minute
    search = Search([event(1, now)], later=[[event(2, now + 5 * minute)],
                                            [event(3, now + 2 * minute)]])
    printed: list[str] = []
    logs = AppLogs(search, ArrivingClock(search), lambda e: printed.append(log_line(e)))
    logs.show("/dockyard/acme/apps/web", now - minute)
    with pytest.raises(KeyboardInterrupt):
        logs.follow("/dockyard/acme/apps/web")
    assert printed == ["[aaaaaaaa] line 1", "[aaaaaaaa] line 2", "[aaaaaaaa] line 3"]
    assert min(search.asked[1:]) <= now + 2 * minute, "it looked back far enough"
