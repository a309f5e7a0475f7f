"""examples/django's pipeline end to end against the strict emulator, with dockyard's real
library and the build's own id token (conduit/main, trusted for conduit and its worker): its
tests (Django's own test runner, the pinned requirements installed into a virtualenv), the
image built, the migration run as a one-off task of that very image, then the deploys of the
API and of its worker (the same image, its own command); and a failing migration that stops
the pipeline before the service changes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from devtools.ecs import RUN_FAILS
from devtools.fake_kaniko import image_manifest

from tests.e2e.conftest import Account
from tests.e2e.test_deploy import REGISTRY, image_of, live
from tests.e2e.test_pipeline import _env, checkout_of
from tests.pipeline import groovy
from tests.pipeline.groovy import DJANGO


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's pinned requirements as wheels, fetched once with this machine's own pip
    settings: inside the emulated account the agents reach AWS only, so the pipeline installs
    from here (PIP_NO_INDEX, PIP_FIND_LINKS), as agents behind a mirror do."""
    folder = tmp_path_factory.mktemp("wheels")
    done = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet",
                           "--disable-pip-version-check", "-r", str(DJANGO / "requirements.txt"),
                           "-d", str(folder)], capture_output=True, text=True, timeout=600,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return folder


def _pipeline_env(account: Account, checkout: Path, wheelhouse: Path) -> dict[str, str]:
    return {**_env(account, checkout, "conduit/main"), "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(wheelhouse)}


@pytest.fixture()
def checkout(account: Account, tmp_path: Path) -> Path:
    """A checkout of examples/django whose secrets and stacks exist."""
    for name, value in (("acme/conduit/database-url", "postgres://conduit:pw@db:5432/conduit"),
                        ("acme/conduit/secret-key", "not-a-real-key")):
        account.client("secretsmanager").create_secret(Name=name, SecretString=value)
    return checkout_of(DJANGO, "conduit", account, tmp_path, "worker")


def _one_offs(account: Account) -> list[dict[str, object]]:
    assert account.kaniko is not None
    return [h for h in account.kaniko.handled if h.get("one_off")]


@pytest.mark.long
def test_main_tests_builds_migrates_with_that_image_and_deploys_it(
        checkout: Path, account: Account, wheelhouse: Path) -> None:
    done = groovy.pipeline(checkout / "Jenkinsfile", checkout, "main",
                           env=_pipeline_env(account, checkout, wheelhouse))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    stages = [line for line in done.stdout.splitlines() if line.startswith("[stage]")]
    assert stages == ["[stage] Test", "[stage] Build", "[stage] Migrate", "[stage] Deploy"]
    assert "Ran 8 tests" in done.stderr, "Django's own tests ran"
    image = next(line.split("=", 1)[1] for line in done.stdout.splitlines()
                 if line.startswith("[env] IMAGE="))
    assert image.startswith(f"{REGISTRY}/acme/conduit@sha256:")
    # The migration, then the smoke test the new service's first (canary) deployment paused for.
    migration, smoke = _one_offs(account)
    assert migration["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert migration["exit_code"] == 0
    command = smoke["command"]
    assert isinstance(command, list) and command[:2] == ["sh", "-c"] and "healthz" in command[2]
    assert smoke["exit_code"] == 0
    runs = account.client("ecs").list_task_definitions(familyPrefix="acme-conduit-run")
    assert image_of(account, runs["taskDefinitionArns"][-1]) == image, "the migration ran it"
    service = live(account, "conduit")
    assert service is not None
    assert image_of(account, str(service["taskDefinition"])) == image, "and then it was deployed"
    worker = live(account, "worker")
    assert worker is not None and worker["loadBalancers"] == []
    definition = account.client("ecs").describe_task_definition(
        taskDefinition=str(worker["taskDefinition"]))["taskDefinition"]
    assert definition["containerDefinitions"][0]["image"] == image, "the same build, no other"
    assert definition["containerDefinitions"][0]["command"] == ["python", "manage.py", "work"]
    assert re.search(r"^\[echo\] dockyard deploy: worker acme-worker:1 completed$", done.stdout,
                     re.MULTILINE), "no URL for an app that has none"
    assert "dockyard run: conduit `python manage.py migrate --noinput` exited 0" in done.stdout
    assert done.stdout.rstrip().endswith("Finished: SUCCESS")
    print(done.stdout)  # the run as Jenkins' log would show it (pytest -s)

    # The next commit's pipeline deploys a canary with the example's own settings (5% for a
    # 10-minute canary bake, then a 5-minute bake), in ECS's time, and waits it out.
    (checkout / "VERSION").write_text("2\n")
    again = groovy.pipeline(checkout / "Jenkinsfile", checkout, "main",
                            env=_pipeline_env(account, checkout, wheelhouse))
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    log = again.stdout + again.stderr
    assert "production traffic: 5% on the new revision" in log, log[-3000:]
    assert "production traffic: 100% on the new revision" in log
    assert "stage BAKE_TIME" in log and "smoke test passed" in log
    service = live(account, "conduit")
    assert service is not None
    assert image_of(account, str(service["taskDefinition"])) != image, "the new commit's image"
    print(again.stdout, again.stderr)  # the canary, stage by stage (pytest -s)


@pytest.mark.long
def test_a_failing_migration_stops_the_pipeline_and_leaves_the_service_alone(
        checkout: Path, account: Account, wheelhouse: Path) -> None:
    assert account.kaniko is not None
    running = account.client("ecr").put_image(
        repositoryName="acme/conduit", imageManifest=image_manifest("running"),
        imageTag="running")["image"]["imageId"]["imageDigest"]
    first = subprocess.run([sys.executable, "-m", "dockyard", "deploy", "conduit", "--image",
                            "running"], cwd=checkout, env=account.cli_env(), capture_output=True,
                           text=True, timeout=300, check=False)
    assert first.returncode == 0, first.stderr
    before = live(account, "conduit")
    assert before is not None
    account.kaniko.marks_for["acme/conduit"] = (RUN_FAILS,)  # this build's migration fails
    done = groovy.pipeline(checkout / "Jenkinsfile", checkout, "main",
                           env=_pipeline_env(account, checkout, wheelhouse))
    assert done.returncode == 1, done.stdout[-3000:]
    assert "[stage] Deploy skipped" in done.stdout or "[stage] Deploy" not in done.stdout
    assert re.search(r"^ERROR: `python manage.py migrate --noinput` exited 1 \(hint: .*"
                     r"command_exit_code.*\(dockyard run exit code 1\)$", done.stdout,
                     re.MULTILINE), done.stdout[-1500:]
    assert 'relation "articles_article" already exists' in done.stderr, "its log, in the build's"
    after = live(account, "conduit")
    assert after is not None
    assert after["taskDefinition"] == before["taskDefinition"]
    assert image_of(account, str(after["taskDefinition"])) == \
        f"{REGISTRY}/acme/conduit@{running}", "the running version keeps serving"
    print(done.stdout)  # the run as Jenkins' log would show it (pytest -s)
