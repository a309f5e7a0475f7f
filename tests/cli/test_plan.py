"""``dockyard plan`` as a user runs it: offline, on the bundled example or a file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.cli import main
from dockyard.planning import plan as planning
from dockyard.planning.lint import Finding
from tests.conftest import CliRunner, example_text


def test_plan_on_the_bundled_example_prints_the_platform(run_cli: CliRunner,
                                                         tmp_path: Path) -> None:
    done = run_cli("plan", env={"AWS_ACCESS_KEY_ID": "", "AWS_CONFIG_FILE": "/nonexistent"})
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "dockyard plan: acme in ap-southeast-2, network default-vpc" in out
    for stack in ("acme-builder", "acme-edge", "acme-jenkins", "acme-app-web"):
        assert stack in out
        assert json.loads((tmp_path / "dockyard-plan" / f"{stack}.json").read_text())["Resources"]
    assert "https://jenkins.example.com/" in out
    assert "https://web.example.com/" in out
    assert "Jenkins controller   tcp/8080   from load balancer" in out
    assert "JENKINS_HOME         tcp/2049   from Jenkins controller" in out
    assert "Total" in out and "$" in out
    assert "cfn-lint: 4 templates checked, no errors." in out
    assert "planning the bundled example" in done.stderr
    assert "Traceback" not in done.stderr


def test_plan_without_lint_says_it_did_not_lint(run_cli: CliRunner) -> None:
    done = run_cli("plan", "--no-lint")
    assert done.returncode == 0, done.stderr
    assert "cfn-lint: not run (--no-lint) on the 4 templates" in done.stdout
    assert "templates checked" not in done.stdout
    document = json.loads(run_cli("plan", "--no-lint", "--output", "json").stdout)
    assert document["linted"] is False


def test_plan_json_is_one_document_with_everything(run_cli: CliRunner, tmp_path: Path) -> None:
    done = run_cli("plan", "--output", "json", "--out", "templates")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["valid"] is True and document["linted"] is True
    assert [s["name"] for s in document["stacks"]] == \
        ["acme-builder", "acme-edge", "acme-jenkins", "acme-app-web"]
    jenkins = next(s for s in document["stacks"] if s["key"] == "jenkins")
    assert jenkins["resource_types"]["AWS::EFS::FileSystem"] == 1
    assert Path(tmp_path / jenkins["template"]).exists()
    assert jenkins["parameters"]["ClusterArn"] == "output ClusterArn of acme-builder"
    assert jenkins["parameters"]["VpcId"] == "looked up at deploy: default-vpc-id"
    assert jenkins["parameters"]["ControllerImage"] == "built at deploy: image jenkins-controller"
    assert document["endpoints"] == {"jenkins": "https://jenkins.example.com/",
                                     "web": "https://web.example.com/"}
    lines = {line["item"]: line["monthly"] for line in document["cost"]["lines"]}
    assert lines["Jenkins controller"] == pytest.approx(72.89, abs=0.01)
    assert document["cost"]["monthly_total"] == pytest.approx(sum(lines.values()), abs=0.01)
    sources = {(x["target"], x["ports"]): x["source"] for x in document["exposure"]}
    assert sources[("JENKINS_HOME", "tcp/2049")] == "Jenkins controller"
    assert sources[("load balancer", "tcp/443")] == "0.0.0.0/0 (anyone)"
    assert document["findings"] == []


def test_plan_reads_dockyard_yml_and_region_override(run_cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "dockyard.yml").write_text(example_text(
        ("name: acme", "name: shop"), ("  web:\n", "  api:\n"), ("host: web", "host: api")))
    done = run_cli("plan", "--region", "eu-west-1")
    assert done.returncode == 0, done.stderr
    assert "dockyard plan: shop in eu-west-1" in done.stdout
    assert "https://api.example.com/" in done.stdout
    assert sorted(p.name for p in (tmp_path / "dockyard-plan").iterdir()) == \
        ["shop-app-api.json", "shop-builder.json", "shop-edge.json", "shop-jenkins.casc.yaml",
         "shop-jenkins.json"]
    assert "bundled example" not in done.stderr


def test_plan_removes_templates_of_stacks_that_are_gone(run_cli: CliRunner,
                                                        tmp_path: Path) -> None:
    stale = tmp_path / "dockyard-plan" / "acme-app-old.json"
    unrelated = tmp_path / "dockyard-plan" / "notes.json"
    stale.parent.mkdir()
    stale.write_text("{}")
    unrelated.write_text("{}")
    done = run_cli("plan")
    assert done.returncode == 0, done.stderr
    assert not stale.exists()
    assert unrelated.exists()
    assert "removed dockyard-plan/acme-app-old.json" in done.stderr


def test_plan_fails_with_the_findings_when_cfn_lint_finds_an_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    from dockyard.planning.lint import lint_templates as real

    def lint_with_one_error(bodies: dict[str, dict[str, object]], region: str,
                            on_progress: Callable[[str], None]) -> list[Finding]:
        found = real(bodies, region, on_progress)
        found.append(Finding("acme-edge", "E3002", "error", 12, "Additional properties are not "
                             "allowed ('Prot' was unexpected)"))
        return found

    monkeypatch.setattr(planning, "lint_templates", lint_with_one_error)
    code = main(["plan"])
    captured = capsys.readouterr()
    assert code == 1
    assert "dockyard-plan/acme-edge.json:12: E3002 Additional properties" in captured.err
    assert "error: cfn-lint found 1 error(s) in the templates" in captured.err
    assert "cfn-lint: 4 templates checked, 1 error." in captured.out
    assert (tmp_path / "dockyard-plan" / "acme-edge.json").exists(), "written for inspection"


def test_plan_into_an_unwritable_place_is_a_clear_error(run_cli: CliRunner,
                                                       tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    done = run_cli("plan", "--out", "afile/templates")
    assert done.returncode == 1
    assert "error: cannot write afile/templates/acme-builder.json: Not a directory" in done.stderr
    assert "Traceback" not in done.stderr and "bug" not in done.stderr


def test_plan_progress_lines_are_timestamped_off_a_terminal(run_cli: CliRunner) -> None:
    done = run_cli("plan")
    progress = [line for line in done.stderr.splitlines() if "with cfn-lint" in line]
    assert len(progress) == 4
    assert all(line[:8].count(":") == 2 and line[8] == " " for line in progress), progress


def test_plan_needs_no_aws_credentials_or_network(run_cli: CliRunner) -> None:
    done = run_cli("plan", env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
                                "AWS_CONFIG_FILE": "/nonexistent",
                                "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                                "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY":
                                "http://127.0.0.1:9"})
    assert done.returncode == 0, done.stderr
