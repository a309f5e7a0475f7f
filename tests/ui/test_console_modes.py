"""When dockyard redraws and colors its output: a terminal that can redraw, outside CI; colors
unless --no-color, NO_COLOR or TERM=dumb (no-color.org)."""

from __future__ import annotations

import io

import pytest

from dockyard.ui.console import Console


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture()
def console(monkeypatch: pytest.MonkeyPatch) -> Console:
    for name in ("CI", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    return Console(io.StringIO(), Terminal())


def test_a_terminal_redraws_in_color(console: Console) -> None:
    assert console.interactive and console.color


@pytest.mark.parametrize(("name", "value"), [("NO_COLOR", "1"), ("TERM", "dumb")])
def test_no_color_and_a_dumb_terminal(console: Console, monkeypatch: pytest.MonkeyPatch,
                                      name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    assert not console.color
    assert console.interactive == (name != "TERM"), "a dumb terminal gets plain lines"


def test_the_flag_and_ci(console: Console, monkeypatch: pytest.MonkeyPatch) -> None:
    console.no_color = True
    assert console.interactive and not console.color
    monkeypatch.setenv("CI", "true")
    assert not console.interactive


def test_no_color_reaches_the_console_from_the_command_line() -> None:
    from dockyard.cli import cli
    from dockyard.cli.common import RunState

    state = RunState()
    cli.main(args=["--no-color", "schema"], standalone_mode=False, obj=state)
    assert state.console.no_color
