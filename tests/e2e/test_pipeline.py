"""The example pipeline end to end against the strict emulator: its Jenkinsfile, run with
dockyard's real library and the Jenkins agents' task role, runs the app's tests, `dockyard
build` (kaniko faked at the builder boundary) and `dockyard deploy` (ECS rollouts played by
devtools/ecs), in that order."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from devtools.ecs import CRASH

from tests.e2e.conftest import Account
from tests.e2e.test_deploy import live, push
from tests.pipeline import groovy
from tests.pipeline.groovy import EXAMPLE


def checkout_of(example: Path, app: str, account: Account, tmp_path: Path,
                *others: str) -> Path:
    """A checkout of ``example`` whose platform stacks exist (those of ``app`` and of the
    ``others``), with the account's certificate (Jenkins itself is not needed)."""
    checkout = tmp_path / example.name
    shutil.copytree(example, checkout, ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3"))
    config = checkout / "dockyard.yml"
    config.write_text(config.read_text().replace("certificate: auto",
                                                 f"certificate: {account.certificate}", 1))
    up = subprocess.run([sys.executable, "-m", "dockyard", "up", "--yes", "--only", "builder",
                         "--only", "edge", "--only", f"app-{app}",
                         *(f"--only=app-{other}" for other in others)], cwd=checkout,
                        env=account.cli_env(), capture_output=True, text=True, timeout=300,
                        check=False)
    assert up.returncode == 0, up.stderr
    return checkout


@pytest.fixture()
def workspace(account: Account, tmp_path: Path) -> Path:
    """A checkout of examples/web whose platform stacks exist."""
    return checkout_of(EXAMPLE, "web", account, tmp_path)


def _env(account: Account, workspace: Path, build: str = "web/main") -> dict[str, str]:
    """What the pipeline's steps run with on a Jenkins agent: no AWS credentials, the account
    id, and the controller's dockyard-aws credential, which gives the build's own id token."""
    env = account.pipeline_env(build, (workspace / "dockyard.yml").read_text())
    env["HARNESS_CREDENTIALS"] = json.dumps({"dockyard-aws": env.pop("DOCKYARD_ID_TOKEN")})
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"  # `dockyard` on the agent
    return env


def test_main_runs_the_tests_builds_and_deploys_the_built_digest(workspace: Path,
                                                                  account: Account) -> None:
    done = groovy.pipeline(workspace / "Jenkinsfile", workspace, "main",
                           env=_env(account, workspace))
    assert done.returncode == 0, done.stdout + done.stderr
    stages = [line for line in done.stdout.splitlines() if line.startswith("[stage]")]
    assert stages == ["[stage] Test", "[stage] Build", "[stage] Deploy"]
    assert "Ran 4 tests" in done.stderr and "OK" in done.stderr
    image = next(line.split("=", 1)[1] for line in done.stdout.splitlines()
                 if line.startswith("[env] IMAGE="))
    assert "/acme/web@sha256:" in image
    assert "dockyard deploy: web acme-web:1 completed" in done.stdout
    assert done.stdout.rstrip().endswith("Finished: SUCCESS")
    service = live(account)
    assert service is not None
    definition = account.client("ecs").describe_task_definition(
        taskDefinition=str(service["taskDefinition"]))
    assert definition["taskDefinition"]["containerDefinitions"][0]["image"] == image
    assert service["desiredCount"] == 2, "the example's own dockyard.yml was used"


def test_a_branch_builds_but_does_not_deploy(workspace: Path, account: Account) -> None:
    done = groovy.pipeline(workspace / "Jenkinsfile", workspace, "feature/x",
                           env=_env(account, workspace, "web/feature%2Fx"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "[stage] Deploy skipped (when)" in done.stdout
    assert "dockyard build: " in done.stdout
    assert live(account) is None


def test_a_rolled_back_deploy_fails_the_stage_with_dockyards_message(workspace: Path,
                                                                     account: Account) -> None:
    push(account, "good")
    push(account, "crashing", mark=CRASH)
    jenkinsfile = workspace / "Jenkinsfile.deploy"
    jenkinsfile.write_text("pipeline {\n  agent any\n  stages {\n"
                           "    stage('First') { steps { dockyardDeploy('web', 'good') } }\n"
                           "    stage('Second') { steps { dockyardDeploy('web', 'crashing') } }\n"
                           "    stage('After') { steps { echo 'not reached' } }\n  }\n}\n")
    done = groovy.pipeline(jenkinsfile, workspace, "main", env=_env(account, workspace))
    assert done.returncode == 1
    error = next(line for line in done.stdout.splitlines() if line.startswith("ERROR: "))
    assert error.startswith("ERROR: deploy of web (acme-web:2) failed: ")
    assert "tasks failed to start" in error  # the circuit breaker's reason
    assert error.endswith("(dockyard deploy exit code 4)")
    assert "ECS rolls the service back to acme-web:1" in error
    assert "[stage] After skipped" in done.stdout and "not reached" not in done.stdout
