"""`--output json` is honoured by every command, or refused (exit 2) where it cannot mean
anything; with it, a failure is a JSON document on stdout as well."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import CliRunner, example_text


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    (tmp_path / "dockyard.yml").write_text(example_text())
    return tmp_path


def test_jenkins_url_and_open(run_cli: CliRunner, project: Path) -> None:
    assert json.loads(run_cli("jenkins", "url", "-o", "json").stdout) == {
        "url": "https://jenkins.example.com/"}
    opened = json.loads(run_cli("-o", "json", "jenkins", "open").stdout)
    assert opened == {"url": "https://jenkins.example.com/", "opened": False}


def test_init_says_what_it_wrote(run_cli: CliRunner, tmp_path: Path) -> None:
    done = run_cli("init", "shop.yml", "--name", "shop", "-o", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"path": "shop.yml", "name": "shop",
                                       "region": "ap-southeast-2", "domain": "example.com"}
    assert (tmp_path / "shop.yml").exists()


def test_the_build_context_as_json(run_cli: CliRunner, tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "Dockerfile").write_text("FROM scratch\n")
    (app / "main.py").write_text("print(1)\n")
    (app / ".dockerignore").write_text("*.log\n")
    (app / "debug.log").write_text("x\n")
    done = run_cli("build", "app", "--list-context", "-o", "json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert {e["path"] for e in document["entries"] if e["kind"] == "file"} == {
        ".dockerignore", "Dockerfile", "main.py"}
    assert document["excluded"] == 1 and document["total_bytes"] > 0


@pytest.mark.parametrize("command", [["jenkins", "logs"], ["logs", "web"]])
def test_logs_refuse_json(run_cli: CliRunner, project: Path, command: list[str]) -> None:
    done = run_cli(*command, "-o", "json")
    assert done.returncode == 2
    assert "--output json" in done.stderr
    assert json.loads(done.stdout)["error"]["exit_code"] == 2


def test_a_failure_is_one_json_document_on_stdout(run_cli: CliRunner, project: Path) -> None:
    done = run_cli("-o", "json", "status", env={"AWS_CONFIG_FILE": str(project / "none"),
                                                "AWS_SHARED_CREDENTIALS_FILE":
                                                    str(project / "none"),
                                                "AWS_EC2_METADATA_DISABLED": "true"})
    assert done.returncode == 3
    document = json.loads(done.stdout)
    assert document["ok"] is False
    assert document["error"]["exit_code"] == 3
    assert "credentials" in document["error"]["message"]
    assert "error:" in done.stderr, "and the same on stderr for people"
    bad = run_cli("plan", "-o", "json", "--config", str(project / "missing.yml"))
    assert bad.returncode == 2
    assert json.loads(bad.stdout)["error"]["message"].endswith("missing.yml: no such file")


DOC = Path(__file__).resolve().parents[2] / "docs" / "output.md"


def documented() -> dict[str, list[str]]:
    """docs/output.md's table: command -> its document's top-level keys, in order."""
    import re

    table: dict[str, list[str]] = {}
    for row in re.findall(r"^\| (.+?) \| (.+?) \|$", DOC.read_text(), re.MULTILINE):
        command, keys = row
        if command in ("Command", "---"):
            continue
        names = re.findall(r"`([a-z_0-9]+)`", keys.split(" {")[0])  # not the nested ones
        for name in re.findall(r"`([^`]+)`", command) or [command]:
            table[name] = names
    return table


def test_the_documented_keys_are_what_the_commands_print(run_cli: CliRunner,
                                                         project: Path) -> None:
    docs = documented()
    printed = {
        "plan": run_cli("plan", "--no-lint", "-o", "json"),
        "jenkins url": run_cli("jenkins", "url", "-o", "json"),
        "jenkins open": run_cli("jenkins", "open", "-o", "json"),
        "init": run_cli("init", "new.yml", "-o", "json"),
        "any failure": run_cli("logs", "web", "-o", "json"),
    }
    for command, done in printed.items():
        assert list(json.loads(done.stdout)) == docs[command], command
    (project / "ctx").mkdir()
    (project / "ctx" / "Dockerfile").write_text("FROM scratch\n")
    listed = run_cli("build", "ctx", "--list-context", "-o", "json")
    assert list(json.loads(listed.stdout)) == docs["build --list-context"]
    saved = run_cli("build", "ctx", "--save-context", "ctx.tgz", "-o", "json")
    assert list(json.loads(saved.stdout)) == docs["build --save-context FILE"]


def test_the_documents_built_from_results_match_the_table() -> None:
    """The AWS commands' documents, from their builders (the e2e tests run the commands)."""
    from dockyard.jenkins.agents import Pool
    from dockyard.stacks.teardown import DownResult
    from dockyard.ui.stacks import diff_document, down_document, up_document

    docs = documented()
    assert list(up_document([])) == docs["up"]
    assert list(diff_document([])) == docs["diff"]
    assert list(down_document(DownResult())) == docs["down"]
    assert list(Pool(1, 1, 0, 1).document()) == docs["jenkins agents COUNT"] == \
        docs["jenkins agents --trusted"]
    assert docs["jenkins agents"] == ["pools"]
