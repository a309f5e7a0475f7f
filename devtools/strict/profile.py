"""The strict profile's settings, and the one switch the emulator's patches read.

A patch of moto's models (quotas, CloudFormation failures, clusters with tasks) applies only
while a strict account is running in this process, so in-process moto tests elsewhere keep
moto's own behaviour.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field


@dataclass
class Profile:
    """How strict the emulated account is.

    ``stale_reads``: how many reads after a mutating call still show the state before it
    (ExecuteChangeSet, DeleteStack, RunTask, CreateService, UpdateService).
    ``fault_rate``: the share of API requests answered with throttling, a 5xx or (through the
    network) a reset connection, chosen by a generator seeded with ``seed``.
    ``session_seconds``: the lifetime of role credentials the account hands out (AWS: 15 min to
    12 h; tests shorten it to show what happens when they run out).
    ``answer_fault``, ``answer_fault_rate``: a fault played on answers after the account has
    acted on the request, for the fault-injection tests (off by default): ``lost`` (the
    connection drops before the answer), ``cut`` (the connection drops halfway through the
    body), ``short`` (half the body, with a length that matches it) or ``empty`` (no body).
    """

    stale_reads: int = 2
    fault_rate: float = 0.02
    seed: int = 20261201
    session_seconds: int = 3600
    iam: bool = True
    quotas: bool = True
    answer_fault: str = ""
    answer_fault_rate: float = 0.0
    answer_fault_once: dict[str, str] = field(default_factory=dict)
    """An answer fault played once on the next answer of an operation named here (by its
    X-Amz-Target action, ``ContinueServiceDeployment``: ``cut``), for tests of one call."""
    throttled: frozenset[str] = frozenset()
    """Operations (``logs:GetLogEvents``) throttled every time, for tests of what waits on
    them."""
    played: list[str] = field(default_factory=list)
    """The faults played so far (``throttle``, ``5xx``), in order."""
    _rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def draw(self) -> float:
        """The next number of the seeded generator, in [0, 1)."""
        with self._lock:
            return self._rng.random()

    def reseed(self) -> None:
        """Start the fault sequence again (after an account reset)."""
        with self._lock:
            self._rng = random.Random(self.seed)
            self.played.clear()


ACTIVE: Profile | None = None
"""The profile of the strict account running in this process, if any."""


def active() -> Profile | None:
    """The running strict profile (None: moto behaves as moto does)."""
    return ACTIVE
