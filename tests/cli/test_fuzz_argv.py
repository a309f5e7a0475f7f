"""Generated command lines: every command with its own options (read off the click commands, so
a new option is fuzzed the day it lands) given hostile values. Whatever the line, dockyard
ends in a known exit code with short error lines: never a traceback, never "this is a bug",
never a hang. Without credentials, a line that gets as far as AWS ends in exit 3.

Seeded (derandomized): CI runs the same few hundred lines every time.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import click
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dockyard.cli import cli, main
from tests.cli.test_option_values import NO_AWS
from tests.conftest import example_text

# Commands that open a browser or write into the folder are left out; `plan` always skips
# cfn-lint (seconds each) and writes into its own folder.
COMMANDS = [("plan",), ("up",), ("diff",), ("status",), ("status", "web"), ("down",),
            ("build",), ("logs", "web"), ("logs", "build"), ("deploy", "web"),
            ("rollback", "web"), ("jenkins", "url"), ("jenkins", "logs"), ("schema",)]
LEFT_OUT = {"--debug", "--help"}
EXIT_CODES = {0, 2, 3}
LONGEST_LINE = 400

_VALUES = st.one_of(
    st.sampled_from(["", " ", ",", "0", "-1", "20", "21", "25h", "0s", "1_0m", "1e3", "99999999999",
                     "linux/amd64", "linux/amd64,", ",linux/arm64", "linux/s390x", "web", "nope",
                     "-bad", "KEY", "KEY=", "=v", "json", "text", "yaml", "/dev/zero",
                     "/nonexistent/dockyard.yml", ".", "..", "x" * 5000, "é" * 100, "us-east-1",
                     "xx-nowhere-9", "arn:aws:ecs:ap-southeast-2:123456789012:task/acme/"
                     "0123456789abcdef0123456789abcdef", "sha256:" + "0" * 64, "--", "-",
                     "\uff15m", "\uff15\uff11\uff12", "+512", " 512", "\u0665"]),
    st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
            max_size=40),
)


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for name in path:
        if isinstance(command, click.Group) and name in command.commands:
            command = command.commands[name]
    return command


def _options(path: tuple[str, ...]) -> list[click.Option]:
    return [p for p in _command(path).params if isinstance(p, click.Option)
            and not set(p.opts) & LEFT_OUT]


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    path = draw(st.sampled_from(COMMANDS))
    argv = list(path)
    options = _options(path)
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        option = draw(st.sampled_from(options))
        name = draw(st.sampled_from(option.opts + option.secondary_opts))
        if option.is_flag and not option.multiple:
            argv.append(name)
        else:
            argv += [name, draw(_VALUES)]
    if draw(st.booleans()):
        argv.append(draw(_VALUES))  # a stray or positional argument
    if path == ("plan",):
        argv += ["--no-lint", "--out", "plan-out"]
    return argv


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("project")
    (folder / "dockyard.yml").write_text(example_text(), "utf-8")
    (folder / "Dockerfile").write_text("FROM scratch\n", "utf-8")
    saved_env = {name: os.environ.get(name) for name in [*NO_AWS, "AWS_PROFILE"]}
    saved_cwd = Path.cwd()
    os.environ.update(NO_AWS)
    os.environ.pop("AWS_PROFILE")
    os.chdir(folder)
    yield folder
    os.chdir(saved_cwd)
    for name, value in saved_env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.mark.long
@settings(max_examples=400, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(argv=command_lines())
def test_any_command_line_ends_in_a_known_exit_code_with_short_errors(
        project: Any, argv: list[str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    text = err.getvalue()
    event(f"exit {code}")
    assert code in EXIT_CODES, (argv, code, text)
    assert "this is a bug" not in text and "Traceback" not in text, (argv, text)
    for line in text.splitlines():
        assert len(line) <= LONGEST_LINE, (argv, line[:200])
