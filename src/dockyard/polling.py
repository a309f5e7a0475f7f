"""The one place that sleeps: poll with an interval, a deadline and a reason.

Every wait in dockyard goes through :func:`poll_until`, so each has a bound, backs off with jitter
when AWS throttles, and can be driven by a fake clock in tests (which then never sleep).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from dockyard.errors import DockyardError, ExitCode

T = TypeVar("T")


class Clock(Protocol):
    """Time as dockyard sees it: monotonic seconds and a way to wait."""

    def now(self) -> float:
        """Monotonic seconds."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait for ``seconds``."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        """Monotonic seconds."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Wait for ``seconds``."""
        time.sleep(seconds)


class RetryableError(DockyardError):
    """A transient AWS error (throttling): the poll backs off and tries again."""


class WaitTimeoutError(DockyardError):
    """A wait ran past its deadline."""

    exit_code = ExitCode.TIMEOUT


@dataclass(frozen=True)
class Poll:
    """How to wait for one thing: every ``interval`` seconds, for at most ``timeout``.

    With ``first``, the first wait is that short and each next one doubles up to ``interval``:
    quick operations are seen to finish quickly, long ones are not asked about more often.
    """

    reason: str
    interval: float
    timeout: float
    max_backoff: float = 30.0
    first: float | None = None


def poll_until(fetch: Callable[[], T], is_done: Callable[[T], bool], poll: Poll, clock: Clock,
               *, rng: Callable[[], float] = random.random) -> T:
    """Call ``fetch`` until ``is_done`` holds for its result, and return that result.

    ``fetch`` may report progress as it goes. A :class:`RetryableError` from ``fetch``
    doubles the wait, with jitter, up to ``max_backoff``; other errors propagate. Past the
    deadline, :class:`WaitTimeoutError` names the reason.
    """
    deadline = clock.now() + poll.timeout
    backoff = poll.interval
    wait = min(poll.first or poll.interval, poll.interval)
    while True:
        try:
            result = fetch()
        except RetryableError:
            backoff = min(backoff * 2, poll.max_backoff)
            _sleep_before(deadline, backoff * (0.5 + rng() / 2), poll, clock)
            continue
        if is_done(result):
            return result
        backoff = poll.interval
        _sleep_before(deadline, wait, poll, clock)
        wait = min(wait * 2, poll.interval)


def _sleep_before(deadline: float, seconds: float, poll: Poll, clock: Clock) -> None:
    remaining = deadline - clock.now()
    if remaining <= 0:
        raise WaitTimeoutError(f"timed out after {poll.timeout:g} s waiting for {poll.reason}")
    clock.sleep(min(seconds, remaining))
