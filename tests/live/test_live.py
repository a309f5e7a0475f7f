"""The end-to-end scenarios of tests/e2e against a real account (see conftest.py): the
platform comes up, builds return the digest ECR holds and pass kaniko's exit code through,
deploys complete or roll back with exit 4, rollback goes back, logs and status read it all."""

from __future__ import annotations

import json
import shutil
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.live.conftest import LivePlatform

pytestmark = pytest.mark.live
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "web"
BUSYBOX = "public.ecr.aws/docker/library/busybox:1.37"


def _context(live: LivePlatform, name: str, dockerfile: str) -> str:
    folder = live.folder / name
    folder.mkdir(exist_ok=True)
    (folder / "Dockerfile").write_text(dockerfile)
    return str(folder)


def test_up_creates_every_stack(live: LivePlatform) -> None:
    assert live.up is not None
    assert live.up.returncode == 0, live.up.stderr[-3000:]
    for stack in ("builder", "edge", "jenkins", "app-web"):
        assert f"{live.name}-{stack}" in live.up.stdout


def test_a_second_up_changes_nothing_and_jenkins_answers(live: LivePlatform) -> None:
    again = live.run("up", "--yes")  # waits for https://ci-<suffix>.<domain>/login
    assert again.returncode == 0, again.stderr[-3000:]
    assert "no changes" in again.stdout
    assert "Jenkins is up at" in again.stderr


def test_build_prints_the_digest_ecr_holds(live: LivePlatform) -> None:
    context = live.folder / "web"
    shutil.copytree(EXAMPLE, context, dirs_exist_ok=True)
    done = live.run("build", "--repo", "web", "--tag", "live", str(context))
    assert done.returncode == 0, done.stderr[-3000:]
    ref = done.stdout.strip()
    repository, digest = ref.split("@")
    assert repository.endswith(f"/{live.name}/web")
    ecr: Any = live.client("ecr")
    held = ecr.describe_images(repositoryName=f"{live.name}/web",
                               imageIds=[{"imageTag": "live"}])["imageDetails"][0]
    assert held["imageDigest"] == digest


def test_a_failed_build_passes_kanikos_exit_code_through(live: LivePlatform) -> None:
    context = _context(live, "failing", f"FROM {BUSYBOX}\nRUN exit 3\n")
    done = live.run("build", "--repo", "web", context)
    assert done.returncode == 3, done.stderr[-3000:]
    assert done.stdout == ""


def test_deploy_completes_then_a_crashing_image_rolls_back(live: LivePlatform) -> None:
    first = live.run("deploy", "web", "--image", "live", "--timeout", "20m")
    assert first.returncode == 0, first.stderr[-3000:]
    deadline = time.monotonic() + 300
    status = 0
    while time.monotonic() < deadline and status != 200:
        try:
            with urllib.request.urlopen(live.url("web") + "healthz", timeout=10) as answer:
                status = answer.status
        except OSError:
            time.sleep(10)
    assert status == 200, "the app answers through the load balancer, over HTTPS"

    crash = _context(live, "crashing", f"FROM {BUSYBOX}\nCMD [\"false\"]\n")
    built = live.run("build", "--repo", "web", crash)
    assert built.returncode == 0, built.stderr[-3000:]
    second = live.run("deploy", "web", "--image", built.stdout.strip(), "--timeout", "30m")
    assert second.returncode == 4, second.stderr[-3000:]
    assert "rolls the service back" in second.stderr or "rolled back" in second.stderr

    back = live.run("rollback", "web", "--timeout", "20m")
    assert back.returncode == 0, back.stderr[-3000:]


def test_status_and_logs_read_the_app(live: LivePlatform) -> None:
    state = live.run("status", "web", "--output", "json")
    assert state.returncode == 0, state.stderr
    service = json.loads(state.stdout)["service"]
    assert service is not None and service["running"] >= 1
    logs = live.run("logs", "web", "--since", "1h")
    assert logs.returncode == 0, logs.stderr
    assert "GET /healthz" in logs.stdout or "Booting worker" in logs.stdout
