"""A question answered on stdin: yes, no, a word that is neither, or no answer at all."""

from __future__ import annotations

import io

import pytest

from dockyard.errors import Declined, ExitCode, UsageError
from dockyard.ui.console import Console
from dockyard.ui.prompts import ask, ask_or_decline


def console() -> tuple[Console, io.StringIO]:
    err = io.StringIO()
    return Console(out=io.StringIO(), err=err), err


@pytest.mark.parametrize(("typed", "yes"), [("y\n", True), ("YES\n", True), ("n\n", False),
                                            ("\n", False), ("maybe\ny\n", True)])
def test_the_answer_decides(typed: str, yes: bool) -> None:
    shown, err = console()
    assert ask(shown, "Apply?", io.StringIO(typed)) is yes
    assert err.getvalue().count("Apply? [y/N]: ") == typed.count("\n")


def test_the_end_of_input_is_no_answer_not_a_cancel() -> None:
    shown, _ = console()
    with pytest.raises(UsageError) as raised:
        ask(shown, "Apply?", io.StringIO(""))
    assert raised.value.exit_code == ExitCode.USAGE and "no answer" in raised.value.message


def test_a_no_is_declined_with_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    shown, _ = console()
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    with pytest.raises(Declined) as raised:
        ask_or_decline(shown, "Delete?", "nothing deleted: you declined")
    assert raised.value.exit_code == ExitCode.FAILED
