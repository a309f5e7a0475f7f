"""The one place that sleeps: poll with an interval, a deadline and a reason.

Every wait in dockyard goes through :func:`poll_until`, so each has a bound, backs off with jitter
when AWS throttles, and can be driven by a fake clock in tests (which then never sleep).
"""

from __future__ import annotations

import ipaddress
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar
from urllib.parse import urlsplit

from dockyard.errors import DockyardError, ExitCode, UsageError

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


class ScaledClock:
    """The local emulator's time: ``factor`` seconds pass per second of the wall, so every wait,
    timeout and poll interval is that much shorter, as the emulator's ECS plays its bakes and
    timeouts that much faster (devtools/ecs/clock.py)."""

    def __init__(self, factor: float) -> None:
        self.factor = factor

    def now(self) -> float:
        """Monotonic seconds, on the emulator's clock."""
        return time.monotonic() * self.factor

    def sleep(self, seconds: float) -> None:
        """Wait for ``seconds`` of the emulator's time."""
        time.sleep(seconds / self.factor)


EMULATOR_TIME_ENV = "DOCKYARD_EMULATOR_TIME_FACTOR"
_LOCAL_HOSTS = {"localhost"}


def clock_from_env(environ: Mapping[str, str]) -> Clock:
    """The wall's clock; or, with DOCKYARD_EMULATOR_TIME_FACTOR set, the local emulator's
    faster one. The variable is honoured only when AWS is reached through a local emulator
    (AWS_ENDPOINT_URL or HTTPS_PROXY on this machine): against AWS it would make every wait
    give up early, so it is refused there."""
    raw = environ.get(EMULATOR_TIME_ENV, "").strip()
    if not raw:
        return SystemClock()
    try:
        factor = float(raw)
    except ValueError:
        factor = 0.0
    if not 0 < factor < float("inf"):
        raise UsageError(f"{EMULATOR_TIME_ENV} must be a number above 0, not {raw!r}")
    through = [environ.get(k, "") for k in ("AWS_ENDPOINT_URL", "HTTPS_PROXY", "https_proxy")]
    if not any(_local(url) for url in through if url):
        raise UsageError(f"{EMULATOR_TIME_ENV} is set, but AWS is not reached through a local "
                         "emulator (AWS_ENDPOINT_URL or HTTPS_PROXY on this machine)",
                         hint=f"unset {EMULATOR_TIME_ENV}: it is for the emulator only")
    return ScaledClock(factor)


def _local(url: str) -> bool:
    host = urlsplit(url if "://" in url else f"http://{url}").hostname or ""
    if host in _LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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

    ``reads``: the fewest times ``fetch`` is asked before the wait may time out. An eventually
    consistent read is stale for some reads, not for some seconds; a slow call (a loaded machine,
    the emulator's faster clock) must not use up the timeout in one or two stale answers.
    """

    reason: str
    interval: float
    timeout: float
    max_backoff: float = 30.0
    first: float | None = None
    reads: int = 1


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
    reads = 0
    while True:
        reads += 1
        try:
            result = fetch()
        except RetryableError:
            backoff = min(backoff * 2, poll.max_backoff)
            _sleep_before(deadline, backoff * (0.5 + rng() / 2), poll, clock, reads)
            continue
        if is_done(result):
            return result
        backoff = poll.interval
        _sleep_before(deadline, wait, poll, clock, reads)
        wait = min(wait * 2, poll.interval)


def _sleep_before(deadline: float, seconds: float, poll: Poll, clock: Clock, reads: int) -> None:
    remaining = deadline - clock.now()
    if remaining <= 0:
        if reads >= poll.reads:
            raise WaitTimeoutError(
                f"timed out after {poll.timeout:g} s waiting for {poll.reason}")
        clock.sleep(seconds)
        return
    clock.sleep(min(seconds, remaining))
