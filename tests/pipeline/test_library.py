"""dockyard's pipeline library and the example Jenkinsfile: they parse as Jenkins' Groovy, the
Jenkinsfile calls only steps that exist, and the library runs the CLI as documented and fails
a stage with the CLI's own message and exit code."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import yaml

from dockyard.jenkins.casc import LIBRARY_REPOSITORY
from tests.pipeline import groovy
from tests.pipeline.groovy import DJANGO, EXAMPLE, LIBRARY

STEPS = sorted(p.stem for p in LIBRARY.glob("*.groovy"))
# Declarative Pipeline's own words and the core steps the example uses.
PIPELINE = {"pipeline", "agent", "label", "options", "timeout", "disableConcurrentBuilds",
            "stages", "stage", "steps", "script", "when", "branch", "sh", "echo", "post",
            "always", "failure", "success", "environment", "error", "not", "changeRequest"}


@pytest.mark.parametrize("source", [*(LIBRARY / f"{s}.groovy" for s in STEPS),
                                    EXAMPLE / "Jenkinsfile", DJANGO / "Jenkinsfile"],
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_library_and_the_jenkinsfile_parse(source: Path, tmp_path: Path) -> None:
    done = groovy.compile_check(source, tmp_path)
    assert done.returncode == 0, done.stderr


def test_the_parse_check_rejects_broken_groovy(tmp_path: Path) -> None:
    broken = tmp_path / "Jenkinsfile"
    broken.write_text("pipeline {\n  stages {\n    stage('x') { steps { sh 'ok' }\n  }\n")
    done = groovy.compile_check(broken, tmp_path)
    assert done.returncode != 0
    assert "unexpected" in done.stderr.lower() or "expecting" in done.stderr.lower()


@pytest.mark.parametrize("example", [EXAMPLE, DJANGO], ids=lambda p: p.name)
def test_the_jenkinsfile_calls_only_library_steps_and_pipeline_words(example: Path) -> None:
    done = groovy.run("calls.groovy", str(example / "Jenkinsfile"))
    assert done.returncode == 0, done.stderr
    calls = set(done.stdout.split())
    assert {"dockyardBuild", "dockyardDeploy"} <= calls
    assert {c for c in calls if c.startswith("dockyard")} <= set(STEPS)
    assert calls - set(STEPS) <= PIPELINE, calls - set(STEPS) - PIPELINE


def test_library_steps_are_documented_for_the_pipeline_syntax_page() -> None:
    for step in STEPS:
        text = (LIBRARY / f"{step}.txt").read_text()
        assert text.startswith(f"{step}("), step


def _fake_dockyard(bin_dir: Path, *, code: int, document: dict[str, object],
                   stderr: str = "") -> Path:
    """A `dockyard` that records its argv (one word per line) and answers as told."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    record = bin_dir / "argv"
    script = bin_dir / "dockyard"
    script.write_text("#!/bin/bash\n"
                      f"printf '%s\\n' \"$@\" >> {record}\necho --- >> {record}\n"
                      f"printf '%s\\n' \"${{DOCKYARD_ID_TOKEN:-none}}\" >> {record}.tokens\n"
                      f"cat >&2 <<'ERR'\n{stderr}ERR\n"
                      f"cat <<'OUT'\n{json.dumps(document)}\nOUT\nexit {code}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return record


TOKEN = "header.eyJzdWIiOiJ3ZWIvbWFpbiJ9.signature"  # what the controller's credential gives


def _env(bin_dir: Path, credentials: dict[str, str] | None = None) -> dict[str, str]:
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "HARNESS_CREDENTIALS": json.dumps({"dockyard-aws": TOKEN} if credentials is None
                                              else credentials)}


def test_each_command_gets_the_builds_token_and_nothing_else_does(tmp_path: Path) -> None:
    """The library binds the build's id token (the dockyard-aws credential) for the dockyard
    command alone: the Jenkinsfile's own steps never see it."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    record = _fake_dockyard(tmp_path / "bin", code=0, document={"ok": True, "ref": "r@x"})
    jenkinsfile = workspace / "Jenkinsfile"
    jenkinsfile.write_text("pipeline { agent any\n stages {\n"
                           "  stage('Build') { steps { script { dockyardBuild(repo: 'web') } } }\n"
                           "  stage('Test') { steps {"
                           " sh 'echo \"token:${DOCKYARD_ID_TOKEN:-none}\"' } }\n } }\n")
    done = groovy.pipeline(jenkinsfile, workspace, "main", env=_env(tmp_path / "bin"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert Path(f"{record}.tokens").read_text().split() == [TOKEN]
    assert "token:none" in done.stdout + done.stderr


def test_without_the_credential_the_step_fails_before_dockyard_runs(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    record = _fake_dockyard(tmp_path / "bin", code=0, document={})
    jenkinsfile = workspace / "Jenkinsfile"
    jenkinsfile.write_text("pipeline { agent any\n stages { stage('Build') { steps { script {"
                           " dockyardBuild(repo: 'web') } } } } }\n")
    done = groovy.pipeline(jenkinsfile, workspace, "main", env=_env(tmp_path / "bin", {}))
    assert done.returncode == 1
    assert "ERROR: Could not find credentials entry with ID 'dockyard-aws'" in done.stdout
    assert not record.exists()


def test_the_steps_run_the_cli_with_json_output_and_quote_every_word(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    ref = "123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/acme/web@sha256:" + "a" * 64
    record = _fake_dockyard(tmp_path / "bin", code=0, document={
        "ok": True, "ref": ref, "revision": "acme-web:3", "outcome": "completed",
        "url": "https://web.example.com/"})
    jenkinsfile = workspace / "Jenkinsfile"
    jenkinsfile.write_text("""pipeline {
  agent any
  stages {
    stage('Build') { steps { script {
      env.IMAGE = dockyardBuild(repo: 'web', context: 'src dir', tags: ['v1'],
                                buildArgs: [NOTE: "it's \\$HOME"], platform: 'linux/arm64',
                                spot: false)
    } } }
    stage('Deploy') { steps { dockyardDeploy('web', env.IMAGE, timeout: '20m') } }
  }
}
""")
    done = groovy.pipeline(jenkinsfile, workspace, "main", env=_env(tmp_path / "bin"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"[env] IMAGE={ref}" in done.stdout
    build, deploy = record.read_text().split("---\n")[:2]
    assert build.splitlines() == [
        "build", "--repo", "web", "--config", "dockyard.yml", "--tag", "v1",
        "--build-arg", "NOTE=it's $HOME", "--platform", "linux/arm64", "--no-spot",
        "--output", "json", "src dir"]
    assert deploy.splitlines() == ["deploy", "web", "--image", ref, "--config", "dockyard.yml",
                                   "--timeout", "20m", "--output", "json"]
    assert "dockyard deploy: web acme-web:3 completed at https://web.example.com/" in done.stdout
    assert not (workspace / ".dockyard").exists(), "nothing is written into the workspace"


def test_a_failed_command_fails_the_stage_with_the_clis_message_and_code(
        tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    _fake_dockyard(tmp_path / "bin", code=4, document={"ok": False, "outcome": "failed"},
                   stderr="12:00:01 deploying\nerror: deploy of web (acme-web:4) failed: "
                          "tasks failed to start\nhint: ECS rolls the service back\n")
    jenkinsfile = workspace / "Jenkinsfile"
    jenkinsfile.write_text("pipeline { agent any\n stages {\n"
                           "  stage('Deploy') { steps { dockyardDeploy('web', 'v4') } }\n"
                           "  stage('Later') { steps { echo 'not reached' } }\n } }\n")
    done = groovy.pipeline(jenkinsfile, workspace, "main", env=_env(tmp_path / "bin"))
    assert done.returncode == 1
    assert ("ERROR: deploy of web (acme-web:4) failed: tasks failed to start (hint: ECS rolls "
            "the service back) (dockyard deploy exit code 4)") in done.stdout
    assert "[stage] Later skipped" in done.stdout
    assert "not reached" not in done.stdout
    assert "error: deploy of web" in done.stderr, "the CLI's stderr streams to the log"


def test_a_build_without_a_repo_fails_before_running_anything(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    record = _fake_dockyard(tmp_path / "bin", code=0, document={})
    jenkinsfile = workspace / "Jenkinsfile"
    jenkinsfile.write_text("pipeline { agent any\n stages { stage('Build') { steps { script {"
                           " dockyardBuild() } } } } }\n")
    done = groovy.pipeline(jenkinsfile, workspace, "main", env=_env(tmp_path / "bin"))
    assert done.returncode == 1
    assert "ERROR: dockyardBuild: repo is required" in done.stdout
    assert not record.exists()


def test_jenkins_loads_the_library_implicitly_from_the_image(tmp_path: Path) -> None:
    from dockyard.jenkins.casc import render
    from dockyard.jenkins.contexts import write_controller_context
    from dockyard.templates.jenkins import JAVA_OPTS
    from tests.conftest import example_config

    casc = render(example_config())
    (library,) = casc["unclassified"]["globalLibraries"]["libraries"]
    assert library["name"] == "dockyard" and library["implicit"] is True
    assert library["allowVersionOverride"] is False
    assert library["retriever"]["modernSCM"]["scm"]["git"]["remote"] == \
        f"file://{LIBRARY_REPOSITORY}"
    context = write_controller_context(example_config(), tmp_path / "controller")
    dockerfile = (context / "Dockerfile").read_text()
    assert f"git clone --quiet --bare /tmp/dockyard-library {LIBRARY_REPOSITORY}" in dockerfile
    assert sorted(p.name for p in (context / "library" / "vars").iterdir()) == sorted(
        p.name for p in LIBRARY.iterdir())
    assert "-Dhudson.plugins.git.GitSCM.ALLOW_LOCAL_CHECKOUT=true" in JAVA_OPTS
    assert yaml.safe_load((context / "casc" / "jenkins.yaml").read_text())["unclassified"][
        "globalLibraries"] == casc["unclassified"]["globalLibraries"]


def test_dockyard_run_passes_the_command_after_a_double_dash_and_fails_with_its_code(
        tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    image = "123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/acme/web@sha256:" + "b" * 64
    record = _fake_dockyard(tmp_path / "bin", code=1, document={
        "ok": False, "exit_code": 1, "command_exit_code": 3,
        "task_arn": "arn:aws:ecs:ap-southeast-2:1:task/acme/t1"},
        stderr="Applying app.0002... \nerror: `python manage.py migrate --noinput` exited 3\n")
    jenkinsfile = workspace / "Jenkinsfile"
    jenkinsfile.write_text(f"""pipeline {{
  agent any
  stages {{
    stage('Migrate') {{ steps {{
      dockyardRun('web', ['python', 'manage.py', 'migrate', '--noinput'], image: '{image}',
                  timeout: '10m')
    }} }}
    stage('Deploy') {{ steps {{ echo 'not reached' }} }}
  }}
}}
""")
    done = groovy.pipeline(jenkinsfile, workspace, "main", env=_env(tmp_path / "bin"))
    assert done.returncode == 1
    assert record.read_text().split("---\n")[0].splitlines() == [
        "run", "web", "--config", "dockyard.yml", "--image", image, "--timeout", "10m",
        "--output", "json", "--", "python", "manage.py", "migrate", "--noinput"]
    assert ("ERROR: `python manage.py migrate --noinput` exited 3 (dockyard run exit code 1)"
            in done.stdout)
    assert "not reached" not in done.stdout


def test_dockyard_run_without_a_command_fails_before_running_anything(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    record = _fake_dockyard(tmp_path / "bin", code=0, document={})
    jenkinsfile = workspace / "Jenkinsfile"
    jenkinsfile.write_text("pipeline { agent any\n stages { stage('Run') { steps { script {"
                           " dockyardRun('web', []) } } } } }\n")
    done = groovy.pipeline(jenkinsfile, workspace, "main", env=_env(tmp_path / "bin"))
    assert done.returncode == 1
    assert "ERROR: dockyardRun: an app and a command are required" in done.stdout
    assert not record.exists()
