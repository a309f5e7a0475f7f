"""examples/django: the seed's app done the right way. Its own tests pass; its image neither
migrates nor runs runserver, runs as a non-root user and serves the port dockyard.yml routes
to; its dockyard.yml plans; its pipeline migrates with the built image before deploying."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import REPO, CliRunner

DJANGO = REPO / "examples" / "django"


def test_the_examples_own_tests_pass(tmp_path: Path) -> None:
    environment = {**os.environ, "DJANGO_SECRET_KEY": "tests-only",
                   "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    done = subprocess.run([sys.executable, "manage.py", "test", "--noinput"], cwd=DJANGO,
                          env=environment, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(r"Ran [1-9]\d* tests", done.stderr) and "OK" in done.stderr
    assert not (DJANGO / "db.sqlite3").exists(), "the tests leave nothing in the example"


def test_settings_refuse_to_start_without_a_secret_key() -> None:
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("DJANGO_SECRET_KEY", "DJANGO_DEBUG")}
    done = subprocess.run([sys.executable, "manage.py", "check"], cwd=DJANGO, env=environment,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in done.stderr


def _instructions(dockerfile: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", dockerfile)
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
            for line in (raw.strip() for raw in joined.splitlines())
            if line and not line.startswith("#")]


def test_the_image_neither_migrates_nor_runs_runserver_and_is_not_root() -> None:
    steps = _instructions((DJANGO / "Dockerfile").read_text())
    runs = " ".join(arg for kind, arg in steps if kind in ("RUN", "CMD", "ENTRYPOINT"))
    assert "migrate" not in runs and "runserver" not in runs
    (user,) = [arg for kind, arg in steps if kind == "USER"]
    assert user not in ("root", "0") and not user.startswith("0:")
    (command,) = [arg for kind, arg in steps if kind == "CMD"]
    assert '"gunicorn"' in command
    port = int(re.search(r"0\.0\.0\.0:(\d+)", command)[1])  # type: ignore[index]
    config = yaml.safe_load((DJANGO / "dockyard.yml").read_text())
    app = config["apps"]["conduit"]
    assert app["port"] == port == 8000, "the target group routes to what gunicorn serves"
    assert app["health_check"] == "/healthz"
    assert set(app["secrets"]) == {"DATABASE_URL", "DJANGO_SECRET_KEY"}, "by reference"
    ignored = (DJANGO / ".dockerignore").read_text().split()
    assert "*.sqlite3" in ignored, "a local database never goes into the image"
    lines = [line.strip() for line in (DJANGO / "requirements.txt").read_text().splitlines()]
    pinned = [line for line in lines if line and not line.startswith("#")]
    assert pinned and all("==" in line for line in pinned), pinned


def test_its_dockyard_yml_plans(run_cli: CliRunner, tmp_path: Path) -> None:
    done = run_cli("plan", "--no-lint", "--config", str(DJANGO / "dockyard.yml"),
                   "--out", str(tmp_path / "plan"))
    assert done.returncode == 0, done.stderr
    assert "conduit   https://conduit.example.com/" in done.stdout


def test_the_pipeline_migrates_with_the_built_image_before_it_deploys() -> None:
    text = (DJANGO / "Jenkinsfile").read_text()
    stages = re.findall(r"stage\('([^']+)'\)", text)
    assert stages == ["Test", "Build", "Migrate", "Deploy"]
    migrate = text[text.index("stage('Migrate')"):text.index("stage('Deploy')")]
    assert "dockyardRun('conduit', ['python', 'manage.py', 'migrate', '--noinput']" in migrate
    assert "image: env.IMAGE" in migrate
