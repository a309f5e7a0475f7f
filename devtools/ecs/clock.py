"""The emulator's time: ECS's, on a virtual clock that may run faster than the wall's.

A canary deployment bakes for minutes, a PAUSE hook waits up to its timeout, a Fargate task takes
about a minute to start: the emulated ECS plays each for as long as AWS would, in virtual
seconds. The clock runs ``factor`` virtual seconds per wall second (1 unless told otherwise):
with 600, a 25-minute canary takes 2.5 s of wall time.

The factor is ``moto_server --time-factor`` (or ``DOCKYARD_EMULATOR_TIME_FACTOR`` in its
environment); the end-to-end tests set theirs (tests/e2e/conftest.py). A dockyard process
talking to the emulator is given the same variable, so its waits, timeouts and poll intervals
shrink by the same factor (``dockyard.polling.clock_from_env``, which honours it only against
a local emulator): both sides then agree on how long a deployment takes. Tests may instead
drive the clock by hand (:meth:`VirtualClock.drive`), as an in-process test with a fake client
clock does.

Timestamps the emulator reports (createdAt, expiresAt, ...) are on the virtual calendar: the
wall's time when the emulator started, plus the virtual seconds since.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

FACTOR_ENV = "DOCKYARD_EMULATOR_TIME_FACTOR"


class VirtualClock:
    """Virtual seconds since the emulator started, ``factor`` of them per wall second."""

    def __init__(self, factor: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._epoch = datetime.now(UTC)
        self._factor = factor
        self._wall = time.monotonic()
        self._base = 0.0
        self._source: Callable[[], float] | None = None

    @property
    def factor(self) -> float:
        """Virtual seconds per wall second."""
        return self._factor

    def now(self) -> float:
        """Virtual seconds since the emulator started."""
        with self._lock:
            if self._source is not None:
                return self._base + self._source()
            return self._base + (time.monotonic() - self._wall) * self._factor

    def stamp(self, seconds: float | None = None) -> datetime:
        """The virtual calendar's date at ``seconds`` (now when None)."""
        return self._epoch + timedelta(seconds=self.now() if seconds is None else seconds)

    def set_factor(self, factor: float) -> None:
        """Run at ``factor`` from now on (time already passed stays passed)."""
        if not factor > 0:
            raise ValueError(f"the time factor must be above 0, not {factor!r}")
        now = self.now()
        with self._lock:
            self._base, self._wall, self._factor, self._source = now, time.monotonic(), \
                factor, None

    def drive(self, source: Callable[[], float] | None) -> None:
        """Follow ``source`` (seconds, such as a test's fake clock) instead of the wall; None
        goes back to the wall."""
        now = self.now()
        with self._lock:
            self._source = None
            if source is None:
                self._base, self._wall = now, time.monotonic()
            else:
                self._base, self._source = now - source(), source

    def advance(self, seconds: float) -> None:
        """Jump ahead ``seconds`` of virtual time."""
        with self._lock:
            self._base += seconds


def factor_from_env(environ: dict[str, str] | None = None) -> float:
    """The factor ``DOCKYARD_EMULATOR_TIME_FACTOR`` asks for (1 when unset)."""
    raw = (os.environ if environ is None else environ).get(FACTOR_ENV, "").strip()
    if not raw:
        return 1.0
    try:
        factor = float(raw)
    except ValueError:
        raise ValueError(f"{FACTOR_ENV} must be a number above 0, not {raw!r}") from None
    if not factor > 0 or factor == float("inf"):
        raise ValueError(f"{FACTOR_ENV} must be a number above 0, not {raw!r}")
    return factor


CLOCK = VirtualClock()  # moto_server sets the factor it is asked for
