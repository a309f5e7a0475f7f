"""Every wait has an interval, a deadline and backs off when throttled; tests never sleep."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dockyard.errors import ExitCode
from dockyard.polling import Poll, RetryableError, WaitTimeoutError, poll_until
from tests.fakes import FakeClock


def test_polls_at_the_interval_until_done() -> None:
    clock = FakeClock()
    values = iter([1, 2, 3])
    result = poll_until(lambda: next(values), lambda v: v == 3, Poll("three", 5, 60), clock)
    assert result == 3
    assert clock.sleeps == [5, 5]


def test_done_at_once_never_sleeps() -> None:
    clock = FakeClock()
    assert poll_until(lambda: "ok", lambda v: True, Poll("ok", 5, 60), clock) == "ok"
    assert clock.sleeps == []


def test_gives_up_at_the_deadline_naming_the_reason() -> None:
    clock = FakeClock()
    with pytest.raises(WaitTimeoutError) as caught:
        poll_until(lambda: 0, lambda v: False, Poll("the stack to settle", 5, 12), clock)
    assert caught.value.exit_code == ExitCode.TIMEOUT
    assert "the stack to settle" in caught.value.message
    assert clock.time == 12
    assert clock.sleeps == [5, 5, 2]


def test_throttling_backs_off_with_jitter_then_recovers() -> None:
    clock = FakeClock()
    attempts = iter([RetryableError("slow down"), RetryableError("slow down"), "ok"])

    def fetch() -> str:
        value = next(attempts)
        if isinstance(value, Exception):
            raise value
        return str(value)

    result = poll_until(fetch, lambda v: True, Poll("x", 2, 600, max_backoff=30), clock,
                        rng=lambda: 1.0)
    assert result == "ok"
    assert clock.sleeps == [4, 8]  # doubled each time (jitter factor 1.0 here)


def test_backoff_is_capped() -> None:
    clock = FakeClock()
    calls = iter(range(10))

    def fetch() -> int:
        if next(calls) < 6:
            raise RetryableError("slow down")
        return 1

    poll_until(fetch, lambda v: True, Poll("x", 2, 600, max_backoff=10), clock, rng=lambda: 1.0)
    assert max(clock.sleeps) == 10


def test_a_first_wait_starts_short_and_doubles_up_to_the_interval() -> None:
    clock = FakeClock()
    answers = iter([False] * 5 + [True])
    poll_until(lambda: next(answers), lambda done: done, Poll("x", 5, 600, first=1), clock)
    assert clock.sleeps == [1, 2, 4, 5, 5]


def test_the_emulators_time_factor_is_honoured_only_against_a_local_emulator() -> None:
    from dockyard.errors import UsageError
    from dockyard.polling import ScaledClock, SystemClock, clock_from_env

    assert isinstance(clock_from_env({}), SystemClock)
    local = clock_from_env({"DOCKYARD_EMULATOR_TIME_FACTOR": "30",
                            "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"})
    assert isinstance(local, ScaledClock) and local.factor == 30
    proxied = clock_from_env({"DOCKYARD_EMULATOR_TIME_FACTOR": "600",
                              "HTTPS_PROXY": "http://localhost:41234"})
    assert isinstance(proxied, ScaledClock) and proxied.factor == 600
    for environment in ({"DOCKYARD_EMULATOR_TIME_FACTOR": "30"},
                        {"DOCKYARD_EMULATOR_TIME_FACTOR": "30",
                         "HTTPS_PROXY": "http://proxy.corp.example:3128"},
                        {"DOCKYARD_EMULATOR_TIME_FACTOR": "30",
                         "AWS_ENDPOINT_URL": "https://ecs.ap-southeast-2.amazonaws.com"}):
        with pytest.raises(UsageError, match="not reached through a local emulator"):
            clock_from_env(environment)
    for bad in ("0", "-2", "fast", "inf", "nan"):
        with pytest.raises(UsageError, match="DOCKYARD_EMULATOR_TIME_FACTOR must be a number"):
            clock_from_env({"DOCKYARD_EMULATOR_TIME_FACTOR": bad,
                            "AWS_ENDPOINT_URL": "http://127.0.0.1:5000"})


def test_a_scaled_clock_waits_that_much_less_of_the_wall() -> None:
    import time

    from dockyard.polling import ScaledClock

    clock = ScaledClock(100.0)
    began, wall = clock.now(), time.monotonic()
    clock.sleep(5.0)  # 5 s of the emulator's time: 0.05 s of the wall's
    assert clock.now() - began >= 5.0
    assert time.monotonic() - wall < 2.0


def test_a_slow_read_does_not_use_up_the_reads_an_eventually_consistent_answer_needs() -> None:
    """Each read takes 8 s (a loaded machine; the emulator's faster clock): a task that is
    MISSING for its first three reads is still found with ``reads=5``, and is given up on
    after two reads without it."""
    def stale_for(reads: int, clock: FakeClock) -> Callable[[], str | None]:
        answers = iter([None] * reads + ["task"])

        def fetch() -> str | None:
            clock.time += 8
            return next(answers)
        return fetch

    clock = FakeClock()
    found = poll_until(stale_for(3, clock), lambda v: v is not None,
                       Poll("the task to be visible", 2, 10, first=0.5, reads=5), clock)
    assert found == "task"

    clock = FakeClock()
    with pytest.raises(WaitTimeoutError):
        poll_until(stale_for(3, clock), lambda v: v is not None,
                   Poll("the task to be visible", 2, 10, first=0.5), clock)
    assert clock.time == 16 + 0.5  # two reads and the one wait between them
