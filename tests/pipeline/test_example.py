"""examples/web: its own tests pass, its image is built the safe way, and its config, pipeline
and workflow agree with each other and with dockyard."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import yaml

from dockyard.config import parse_config
from tests.pipeline.groovy import EXAMPLE


def test_the_apps_own_tests_pass() -> None:
    done = subprocess.run([sys.executable, "-m", "unittest", "discover", "-s", "tests", "-v"],
                          cwd=EXAMPLE, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert re.search(r"Ran [4-9] tests", done.stderr)
    assert done.stderr.rstrip().endswith("OK")


def _instructions() -> list[tuple[str, str]]:
    lines = (EXAMPLE / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines
            if line.strip() and not line.lstrip().startswith("#")]


def test_the_dockerfile_pins_its_base_runs_as_a_user_and_keeps_no_secrets_or_database() -> None:
    steps = _instructions()
    bases = [arg for op, arg in steps if op == "FROM"]
    assert len(bases) == 1
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim(-\w+)?(@sha256:[0-9a-f]{64})?", bases[0]), \
        bases[0]
    users = [arg for op, arg in steps if op == "USER"]
    assert users and users[-1] not in ("root", "0") and users[-1].split(":")[0] != "0"
    text = (EXAMPLE / "Dockerfile").read_text().lower()
    assert "migrate" not in text, "no database work at build time"
    for op, arg in steps:
        if op in ("ENV", "ARG"):
            assert not re.search(r"(password|secret|token|_key)\s*=", arg.lower()), arg
    exposed = [arg for op, arg in steps if op == "EXPOSE"]
    command = next(arg for op, arg in steps if op == "CMD")
    assert exposed == ["5001"] and "0.0.0.0:5001" in command


def test_only_the_app_goes_into_the_image() -> None:
    done = subprocess.run([sys.executable, "-m", "dockyard", "build", "--list-context", "."],
                          cwd=EXAMPLE, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    sent = {line.split()[-1] for line in done.stdout.splitlines()[:-1]}
    assert sent == {".dockerignore", "Dockerfile", "app.py", "requirements.txt"}


def test_requirements_are_pinned() -> None:
    lines = [line for line in (EXAMPLE / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines and all(re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", x) for x in lines)


def test_the_example_config_declares_the_app_and_its_job() -> None:
    cfg = parse_config((EXAMPLE / "dockyard.yml").read_text(), "dockyard.yml")
    app = cfg.apps["web"]
    assert app.port == 5001
    assert app.health_check == "/healthz", "the path the app answers 200 on"
    (job,) = cfg.jenkins.jobs
    assert (job.name, job.jenkinsfile) == ("web", "Jenkinsfile")
    assert (EXAMPLE / job.jenkinsfile).is_file()
    assert cfg.jenkins.github is not None


def test_the_github_workflow_uses_oidc_and_the_same_two_commands() -> None:
    workflow: dict[str, Any] = yaml.safe_load(
        (EXAMPLE / ".github" / "workflows" / "deploy.yml").read_text())
    assert workflow["permissions"] == {"contents": "read", "id-token": "write"}
    text = (EXAMPLE / ".github" / "workflows" / "deploy.yml").read_text()
    assert "AWS_ACCESS_KEY_ID" not in text and "aws-access-key-id" not in text
    steps = workflow["jobs"]["deploy"]["steps"]
    credentials = next(s for s in steps if str(s.get("uses", "")).startswith(
        "aws-actions/configure-aws-credentials"))
    assert "role-to-assume" in credentials["with"]
    runs = [s.get("run", "") for s in steps]
    build = next(i for i, r in enumerate(runs) if "dockyard build --repo web" in r)
    deploy = next(i for i, r in enumerate(runs) if "dockyard deploy web" in r)
    assert build < deploy
    assert steps[build]["id"] == "build"
    assert "steps.build.outputs.image" in runs[deploy]
    assert workflow["jobs"]["deploy"]["needs"] == "test"


def test_every_action_the_workflow_uses_is_pinned_by_commit() -> None:
    """A tag can be moved to other code by whoever controls the action's repository; a commit
    cannot. Each `uses:` names a full commit and says its version beside it, for people."""
    text = (EXAMPLE / ".github" / "workflows" / "deploy.yml").read_text()
    uses = re.findall(r"^\s*-?\s*uses:\s*(\S+)(.*)$", text, re.MULTILINE)
    assert len(uses) == 5
    for action, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), action
        assert re.fullmatch(r"\s+# v\d[\w.]*", comment), f"{action}: no version beside it"
