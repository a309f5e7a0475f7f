"""The signals that stop a command, handled alike: SIGINT (Ctrl-C), SIGTERM (what CI runners
and ``timeout`` send to cancel a job) and SIGHUP (the terminal went away).

Each arrives in the main thread as :class:`Interrupted`, a ``KeyboardInterrupt``, so every place
that already stops a remote task or cancels a stack update on Ctrl-C does the same for the
others. The process then exits as shells expect of a program a signal stopped: 128 + the
signal's number (130, 143, 129).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

HANDLED = (signal.SIGTERM, signal.SIGHUP)
"""Signals turned into Interrupted; SIGINT already raises KeyboardInterrupt."""

_received: list[int] = []


class Interrupted(KeyboardInterrupt):
    """A signal asked the command to stop."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    raise Interrupted(signum)


@contextmanager
def handled() -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP raise :class:`Interrupted` in the main thread; the
    handlers before are restored after, and what arrived is forgotten (so a test that calls
    ``main`` leaves its runner as it was)."""
    _received.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[signal.Signals, Callable[[int, FrameType | None], object] | int | None] = {}
    for handled_signal in HANDLED:
        previous[handled_signal] = signal.signal(handled_signal, _raise)
    try:
        yield
    finally:
        for handled_signal, handler in previous.items():
            signal.signal(handled_signal, handler if handler is not None else signal.SIG_DFL)
        _received.clear()


def received() -> int | None:
    """The first of SIGTERM or SIGHUP that arrived during the command, if any."""
    return _received[0] if _received else None


def cause() -> str:
    """What stopped the command, as a note names it: ``Ctrl-C``, ``SIGTERM``, ``SIGHUP``."""
    signum = received()
    return "Ctrl-C" if signum is None else signal.Signals(signum).name


def exit_code(code: int, cancelled: int = 130) -> int:
    """``code``, or 128 + the signal for a command that a SIGTERM or SIGHUP cancelled."""
    signum = received()
    return 128 + signum if code == cancelled and signum is not None else code
