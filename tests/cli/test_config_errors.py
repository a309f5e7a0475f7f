"""Config errors through the real CLI: one line naming the field, exit code 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CliRunner, example_text

CASES = {
    "invalid YAML": ("edge:\n  domain: [example.com\n", "dockyard.yml:3: invalid YAML"),
    "unknown key": (example_text(("port: 5001", "port: 5001\n    prot: 80")),
                    "apps.web.prot: unknown key"),
    "bad CIDR": (example_text(("0.0.0.0/0\n", "0.0.0.0/33\n")),
                 "edge.allowed_cidrs.0: '0.0.0.0/33' is not a CIDR block"),
    "bad CPU/memory pair": (example_text(("memory: 512", "memory: 3000")),
                            "apps.web.memory: 3000 MiB does not go with cpu 256"),
    "bad name": (example_text(("name: acme", "name: Acme!")), "name: 'Acme!' is not a valid name"),
    "knob a rolling deploy ignores": (
        example_text(("strategy: rolling", "strategy: rolling\n      canary_percent: 10")),
        "apps.web.deploy.canary_percent: a rolling deploy does not use it"),
    "blank smoke test": (
        example_text(("strategy: rolling", "strategy: canary\n      smoke_test: ' '")),
        "apps.web.deploy.smoke_test: is blank"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_config_error_is_one_line_naming_the_field(run_cli: CliRunner, tmp_path: Path,
                                                   case: str) -> None:
    text, expected = CASES[case]
    (tmp_path / "dockyard.yml").write_text(text)
    done = run_cli("plan")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, done.stderr
    assert errors[0].startswith("error: dockyard.yml:")
    assert expected in errors[0]
    assert done.stdout == ""
    assert not (tmp_path / "dockyard-plan").exists(), "nothing is written for a bad config"


@pytest.mark.parametrize("command", [["plan"], ["diff"], ["up", "--yes"], ["status"], ["down"],
                                     ["deploy", "web", "--image", "x:1"],
                                     ["build", ".", "--repo", "web"], ["run", "web", "--", "true"]])
def test_a_config_nested_too_deep_is_refused_by_every_command(
        run_cli: CliRunner, tmp_path: Path, command: list[str]) -> None:
    """A few thousand levels ended in "unexpected RecursionError ... this is a bug"."""
    (tmp_path / "dockyard.yml").write_text(
        example_text() + "deep:\n  a: " + "[" * 3000 + "]" * 3000 + "\n")
    done = run_cli(*command)
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    line = example_text().count("\n") + 2
    assert errors == [f"error: dockyard.yml:{line}: lists and mappings nested more than 64 "
                      "levels deep; a dockyard.yml needs a few"], done.stderr
    assert "RecursionError" not in done.stderr


def test_debug_shows_the_traceback(run_cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "dockyard.yml").write_text(CASES["bad name"][0])
    done = run_cli("plan", "--debug")
    assert done.returncode == 2
    assert "Traceback" in done.stderr


def test_missing_config_file_is_exit_2_with_a_hint(run_cli: CliRunner) -> None:
    done = run_cli("plan", "--config", "missing.yml")
    assert done.returncode == 2
    assert "error: missing.yml: no such file" in done.stderr
    assert "hint: run `dockyard init`" in done.stderr


def test_unknown_option_is_a_usage_error(run_cli: CliRunner) -> None:
    done = run_cli("plan", "--outt", "x")
    assert done.returncode == 2
    assert "No such option '--outt'" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_region_option_is_exit_2(run_cli: CliRunner) -> None:
    done = run_cli("plan", "--region", "moon-base-1x")
    assert done.returncode == 2
    assert "error: --region: 'moon-base-1x' is not an AWS region" in done.stderr


@pytest.mark.parametrize("command", [["status"], ["down"], ["diff"], ["up", "--yes"],
                                     ["jenkins", "url"], ["deploy", "web", "--image", "x:1"]])
def test_without_a_config_aws_commands_refuse_to_guess(run_cli: CliRunner, tmp_path: Path,
                                                       command: list[str]) -> None:
    """An empty folder used to mean the bundled example ("acme"): `down` listed acme's stacks."""
    (tmp_path / ".git").mkdir()
    done = run_cli(*command)
    assert done.returncode == 2, done.stderr
    assert f"error: no dockyard.yml in {tmp_path.resolve()} or the folders above it" \
        in done.stderr
    assert "hint: run `dockyard init` to write one, or pass --config FILE (or set " \
           "DOCKYARD_CONFIG)" in done.stderr
    assert "acme" not in done.stderr + done.stdout


def test_plan_still_shows_the_example_and_says_so(run_cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    done = run_cli("plan", "--no-lint")
    assert done.returncode == 0, done.stderr
    assert "planning the bundled example" in done.stderr
    assert "acme-jenkins" in done.stdout


def test_the_config_comes_from_a_parent_folder_or_dockyard_config(run_cli: CliRunner,
                                                                 tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "dockyard.yml").write_text(example_text(("name: acme", "name: shop")))
    deep = tmp_path / "services" / "web"
    deep.mkdir(parents=True)
    shown = run_cli("jenkins", "url", cwd=deep)
    assert shown.returncode == 0 and shown.stdout == "https://jenkins.example.com/\n"
    elsewhere = tmp_path / "other.yml"
    elsewhere.write_text(example_text(("domain: example.com", "domain: other.example")))
    chosen = run_cli("jenkins", "url", cwd=deep, env={"DOCKYARD_CONFIG": str(elsewhere)})
    assert chosen.stdout == "https://jenkins.other.example/\n"
    flag = run_cli("jenkins", "url", "--config", str(tmp_path / "dockyard.yml"), cwd=deep,
                   env={"DOCKYARD_CONFIG": str(elsewhere)})
    assert flag.stdout == "https://jenkins.example.com/\n", "--config wins over the variable"


def _planned_region(done: object) -> str:
    import json

    assert done.returncode == 0, done.stderr  # type: ignore[attr-defined]
    return str(json.loads(done.stdout)["region"])  # type: ignore[attr-defined]


def test_global_options_work_before_the_command_with_a_documented_precedence(
        run_cli: CliRunner, tmp_path: Path) -> None:
    """Flag after the command, then flag before it, then DOCKYARD_*, then dockyard.yml."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "dockyard.yml").write_text(example_text())
    plan = ("plan", "--no-lint")
    assert _planned_region(run_cli(*plan, "-o", "json")) == "ap-southeast-2"
    assert _planned_region(run_cli("--region", "eu-west-1", "-o", "json", *plan)) == "eu-west-1"
    env = {"DOCKYARD_REGION": "us-west-2", "DOCKYARD_OUTPUT": "json"}
    assert _planned_region(run_cli(*plan, env=env)) == "us-west-2"
    assert _planned_region(run_cli("--region", "eu-west-1", *plan, env=env)) == "eu-west-1"
    assert _planned_region(run_cli("--region", "eu-west-1", *plan, "--region", "eu-north-1",
                                   env=env)) == "eu-north-1"
    bad = run_cli("--region", "mars-1", "jenkins", "url")
    assert bad.returncode == 2 and "--region" in bad.stderr
    other = tmp_path / "other.yml"
    other.write_text(example_text(("domain: example.com", "domain: other.example")))
    assert run_cli("--config", str(other), "jenkins", "url").stdout == \
        "https://jenkins.other.example/\n"


def test_an_sdk_region_that_is_not_used_is_said(run_cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "dockyard.yml").write_text(example_text())
    done = run_cli("jenkins", "url", env={"AWS_REGION": "us-east-1"})
    assert done.returncode == 0
    assert "note: AWS_REGION=us-east-1 is not used: dockyard.yml's region is ap-southeast-2 " \
           "(--region or DOCKYARD_REGION overrides it)" in done.stderr
    quiet = run_cli("jenkins", "url", env={"AWS_REGION": "ap-southeast-2"})
    assert "not used" not in quiet.stderr
    chosen = run_cli("--region", "eu-west-1", "jenkins", "url", env={"AWS_REGION": "us-east-1"})
    assert "not used" not in chosen.stderr, "a region asked for explicitly needs no note"
