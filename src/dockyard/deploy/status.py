"""``status APP`` and ``logs APP``: what an app's service runs, and what it writes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from dockyard.aws.ecs import TaskState
from dockyard.aws.services import ServiceState
from dockyard.aws.storage import LogEvent
from dockyard.deploy.definition import AppTarget
from dockyard.polling import Clock, Poll, poll_until

FOLLOW_SECONDS = 2.0
# CloudWatch Logs shows an event when it is ingested, which can be well after its timestamp
# (the awslogs driver sends in batches; agents retry): each read looks back this far, and
# events already printed are recognised by their id.
LOOKBACK_MS = 5 * 60 * 1000


class StatusApi(Protocol):
    """What ``status APP`` reads (``dockyard.aws.services.Services``, or a fake)."""

    def describe(self, cluster: str, name: str) -> ServiceState | None: ...
    def tasks_of(self, cluster: str, deployment_id: str, status: str,
                 limit: int = 10) -> list[TaskState]: ...
    def image_of(self, task_definition: str) -> str: ...


@dataclass(frozen=True)
class AppStatus:
    """An app's service, the image its newest deployment runs, and its running tasks."""

    target: AppTarget
    service: ServiceState | None
    image: str = ""
    tasks: list[tuple[str, TaskState]] = field(default_factory=list)  # (deployment id, task)


def app_status(api: StatusApi, target: AppTarget) -> AppStatus:
    """Read the app's service, its deployments and their running tasks."""
    service = api.describe(target.cluster, target.app)
    if service is None:
        return AppStatus(target, None)
    primary = service.primary
    image = api.image_of(primary.task_definition) if primary else ""
    tasks = [(d.deployment_id, t) for d in service.deployments
             for t in api.tasks_of(target.cluster, d.deployment_id, "RUNNING")]
    return AppStatus(target, service, image, tasks)


class LogSearch(Protocol):
    """FilterLogEvents over a log group (``dockyard.aws.storage.Logs``, or a fake)."""

    def events_since(self, group: str, start_ms: int) -> list[LogEvent]: ...


@dataclass
class AppLogs:
    """Prints an app's log lines since a moment, and keeps printing new ones when following,
    including lines that arrive late with an earlier timestamp."""

    search: LogSearch
    clock: Clock
    on_line: Callable[[LogEvent], None]
    _seen: dict[str, int] = field(default_factory=dict)  # event id -> its timestamp
    _start: int = 0
    _latest: int = 0

    def show(self, group: str, start_ms: int) -> int:
        """Print the lines written since ``start_ms`` not printed yet; returns how many."""
        self._start = self._start or start_ms
        since = max(self._start, min(start_ms, self._latest - LOOKBACK_MS)
                    if self._latest else start_ms)
        fresh = [e for e in self.search.events_since(group, since)
                 if e.event_id not in self._seen]
        for event in sorted(fresh, key=lambda e: (e.timestamp_ms, e.event_id)):
            self._seen[event.event_id] = event.timestamp_ms
            self._latest = max(self._latest, event.timestamp_ms)
            self.on_line(event)
        # Ids older than the look-back window can never be read again: forget them.
        cutoff = self._latest - 2 * LOOKBACK_MS
        self._seen = {k: v for k, v in self._seen.items() if v >= cutoff}
        return len(fresh)

    def follow(self, group: str, *, timeout: float = 7 * 86400) -> None:
        """Print new lines as they come, until Ctrl-C (or ``timeout``)."""
        poll_until(lambda: self.show(group, self._latest), lambda _: False,
                   Poll("new log lines", FOLLOW_SECONDS, timeout), self.clock)
