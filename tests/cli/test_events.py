"""``--events`` keeps its contract on every failure: stdout is NDJSON and its last line is the
one ``summary`` event, whatever went wrong (a bad command line, a bad dockyard.yml, a name
that is not in it, AWS out of reach) — a CI step that reads the last line always gets it."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from dockyard.cli import cli
from tests.conftest import CliRunner, example_text

# Each command that takes --events: arguments that get it past its command line, and
# arguments naming something dockyard.yml does not have (its own usage error, exit 2).
COMMANDS: dict[str, tuple[list[str], list[str]]] = {
    "up": (["--yes"], ["--yes", "--only", "nosuch"]),
    "down": (["--yes"], ["--yes-really-purge"]),
    "status": ([], ["nosuch"]),
    "build": (["--repo", "web", "ctx"], ["--repo", "web", "nosuch-folder"]),
    "deploy": (["web", "--image", "web:1"], ["nosuch", "--image", "web:1"]),
    "rollback": (["web"], ["nosuch"]),
    "run": (["web", "--", "true"], ["nosuch", "--", "true"]),
    "jenkins agents": ([], ["--trusted", "-1"]),
    "scale": (["web", "2"], ["nosuch", "2"]),
}

NO_AWS = {"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
          "AWS_EC2_METADATA_DISABLED": "true"}


def commands_with_events(group: click.Group = cli, prefix: str = "") -> set[str]:
    found = set()
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found |= commands_with_events(command, f"{prefix}{name} ")
        elif any("--events" in p.opts for p in command.params):
            found.add(prefix + name)
    return found


def test_every_command_with_events_is_in_the_table() -> None:
    assert commands_with_events() == set(COMMANDS)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "dockyard.yml").write_text(example_text())
    (tmp_path / "broken.yml").write_text(example_text().replace("name: acme", "name: Acme!", 1))
    return tmp_path


def kinds(command: str) -> list[tuple[str, list[str], int]]:
    """The failure kinds of one command: (kind, argv, exit code)."""
    words = command.split()
    runs, unknown = COMMANDS[command]
    return [
        ("bad command line", [*words, "--events", "--no-such-option", *runs], 2),
        ("bad dockyard.yml", ["--config", "broken.yml", *words, "--events", *runs], 2),
        ("not in dockyard.yml", [*words, "--events", *unknown], 2),
        ("no AWS credentials", [*words, "--events", *runs], 3),
    ]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_failure_ends_with_one_summary(run_cli: CliRunner, project: Path,
                                             command: str) -> None:
    for kind, argv, code in kinds(command):
        done = run_cli(*argv, cwd=project, env=NO_AWS)
        assert done.returncode == code, (kind, argv, done.stderr)
        events = [json.loads(line) for line in done.stdout.splitlines()]
        summaries = [e for e in events if e["event"] == "summary"]
        assert len(summaries) == 1 and events[-1] is summaries[0], (kind, done.stdout)
        assert summaries[0]["ok"] is False, (kind, summaries[0])
        assert summaries[0]["error"]["exit_code"] == code, (kind, summaries[0])
        assert summaries[0]["error"]["message"], kind


def test_after_the_separator_events_is_the_commands_word(run_cli: CliRunner,
                                                         project: Path) -> None:
    """``run web -- echo --events`` asks nothing of dockyard's output."""
    done = run_cli("run", "--no-such-option", "web", "--", "echo", "--events", cwd=project)
    assert done.returncode == 2
    assert done.stdout == ""
