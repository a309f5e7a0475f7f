"""Every option value is checked before the first AWS call: a bad one is exit 2 with one line
naming the option, never a default silently taken, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.cli import main
from tests.conftest import CliRunner, example_text

# No credentials anywhere: a command that reached AWS would end in exit 3 instead of 2.
NO_AWS = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_PROFILE": "",
          "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent",
          "AWS_EC2_METADATA_DISABLED": "true"}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "dockyard.yml").write_text(example_text(), "utf-8")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    for name, value in NO_AWS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE")
    return tmp_path


@pytest.mark.parametrize(("argv", "words"), [
    (["build", "--repo", "web", "--platform", ","], "--platform ','"),
    (["build", "--repo", "web", "--platform", "linux/s390x"], "--platform 'linux/s390x'"),
    (["build", "--repo", "web", "--storage", "0"], "--storage: 0 GiB is outside"),
    (["build", "--repo", "web", "--storage", "20"], "--storage: 20 GiB is outside"),
    (["build", "--repo", "web", "--cpu", "0"], "--cpu: 0 is not a Fargate CPU value"),
    (["build", "--repo", "web", "--memory", "1"], "--memory: 1 MiB does not go with cpu 2048"),
    (["build", "--repo", "web", "--timeout", ""], "--timeout '': use a number"),
    (["build", "--repo", "web", "--timeout", "0"], "--timeout '0': must be more than zero"),
    (["build", "--repo", "web", "--timeout", "25h"], "--timeout '25h': at most 24 h"),
    (["build", "--repo", "web", "--timeout", "1_0m"], "--timeout '1_0m'"),
    (["build", "--repo", "web", "--tag", "-bad"], "--tag '-bad'"),
    (["build", "--repo", "web", "--build-arg", "NOEQUALS"], "--build-arg 'NOEQUALS'"),
    (["build", "--repo", "web"], None),  # the control: valid options reach AWS (exit 3)
    (["deploy", "web", "--image", "v1", "--timeout", "soon"], "--timeout 'soon'"),
    (["rollback", "web", "--timeout", "-5m"], "--timeout '-5m'"),
    (["logs", "web", "--since", ""], "--since ''"),
    (["logs", "build", "not-an-arn"], "TASK 'not-an-arn': not an ECS task ARN"),
    (["logs", "build"], "`dockyard logs build` needs the TASK"),
    (["logs", "web", "extra"], "unexpected argument 'extra'"),
    (["down", "--yes-really-purge"], "--yes-really-purge goes with --purge only"),
    (["status", "--region", ""], "--region: '' is not an AWS region"),
    (["plan", "--region", "x" * 10_000], "--region: 'xxxxxxxx"),
    (["jenkins", "logs", "-n", "0"], "0 is not in the range"),
])
def test_a_bad_option_value_is_exit_2_before_any_aws_call(
        project: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
        words: str | None) -> None:
    code = main(argv)
    err = capsys.readouterr().err
    assert "this is a bug" not in err and "Traceback" not in err
    if words is None:
        assert code == 3, err  # no credentials: it got as far as AWS
        return
    assert code == 2, err
    assert words in err
    assert len(err) < 600


def test_down_yes_really_purge_without_purge_deletes_nothing(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Refused before the stacks are even listed: without credentials a listing would be exit 3.
    assert main(["down", "--yes-really-purge", "--yes"]) == 2
    assert "--yes-really-purge goes with --purge only" in capsys.readouterr().err


def test_clicks_own_errors_quote_an_argument_short(project: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "x" * 5000]) == 2
    err = capsys.readouterr().err
    assert "Try 'dockyard plan --help' for help." in err
    assert "Error: Got unexpected extra argument (xxxx" in err
    assert "… (5,032 characters)" in err
    assert max(len(line) for line in err.splitlines()) < 400


def test_the_emulators_time_factor_is_refused_against_aws_before_anything_runs(
        run_cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "dockyard.yml").write_text(example_text())
    done = run_cli("deploy", "web", "--image", "v1", env={
        "DOCKYARD_EMULATOR_TIME_FACTOR": "30", "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "not-a-secret", "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[0] == (
        "error: DOCKYARD_EMULATOR_TIME_FACTOR is set, but AWS is not reached through a local "
        "emulator (AWS_ENDPOINT_URL or HTTPS_PROXY on this machine)")
    assert "Traceback" not in done.stderr and done.stdout == ""
