"""The controller image's boot check (jenkins/controller/boot-check.sh), judged on recorded
start-up logs: a clean start passes; a plugin that fails to load, a JCasC error, a missing
descriptor or a Jenkins that never comes up fails the image build with the offending lines."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dockyard.jenkins.contexts import write_controller_context
from tests.conftest import example_config

HERE = Path(__file__).resolve().parent
SCRIPT = HERE.parents[1] / "src" / "dockyard" / "jenkins" / "controller" / "boot-check.sh"
LOGS = HERE / "boot-logs"


def verdict(log: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), "--verdict", str(LOGS / log)],
                          capture_output=True, text=True, timeout=30, check=False)


def test_a_clean_start_passes() -> None:
    done = verdict("good.log")
    assert done.returncode == 0, done.stdout
    assert done.stdout.strip() == ("boot check: Jenkins is fully up with every plugin loaded, "
                                   "the configuration applied and the trust tiers in force")


def test_a_start_without_the_trust_tiers_fails_the_build() -> None:
    """Jenkins logs an init script that throws and starts anyway (GroovyHookScript: "Failed to
    execute"): an image whose controller would not keep untrusted builds off trusted agents is
    never pushed."""
    done = verdict("trust-not-enforced.log")
    assert done.returncode == 1
    assert "the trust tiers are not in force" in done.stdout
    assert "Failed to execute /tmp/tmp.boot/init.groovy.d/dockyard-trust.groovy" in done.stdout


@pytest.mark.parametrize(("log", "lines"), [
    ("plugin-needs-newer-core.log",
     ["Failed Loading plugin GitHub Branch Source Plugin v1967.vdea_d580c1a_b_a_",
      " - Jenkins (2.580) or higher required"]),
    ("casc-invalid.log",
     ["Failed ConfigurationAsCode.init",
      "Invalid configuration elements for type: class hudson.security."
      "GlobalMatrixAuthorizationStrategy : grantedPermissions."]),
    # After "fully up" still counts: the amazon-ecs plugin's failure on newer cores.
    ("descriptor-missing.log", ["ECSLauncher is missing its descriptor"]),
])
def test_a_failed_start_fails_the_build_with_the_offending_lines(log: str,
                                                                 lines: list[str]) -> None:
    done = verdict(log)
    assert done.returncode == 1
    first, *rest = done.stdout.splitlines()
    assert first == "boot check: Jenkins did not start cleanly with this image's plugins and JCasC:"
    for line in lines:
        assert any(line in shown for shown in rest), (line, done.stdout)
    assert not any("Started all plugins" in shown for shown in rest), "only what went wrong"


def test_a_jenkins_that_never_comes_up_fails_with_its_last_lines() -> None:
    done = verdict("never-up.log")
    assert done.returncode == 1
    assert 'never said "Jenkins is fully up and running"' in done.stdout
    assert "Listed all plugins" in done.stdout


def test_the_image_build_runs_the_check_after_plugins_and_configuration(tmp_path: Path) -> None:
    context = write_controller_context(example_config(), tmp_path / "controller")
    assert (context / "boot-check.sh").read_text() == SCRIPT.read_text()
    steps = [line for line in (context / "Dockerfile").read_text().splitlines()
             if line.split(" ", 1)[0] in ("FROM", "RUN", "COPY", "USER", "VOLUME")]
    check = steps.index("RUN bash /usr/share/dockyard/boot-check.sh")
    before = "\n".join(steps[:check])
    assert "install-plugins.sh /usr/share/jenkins/ref/plugins.lock" in before
    assert "casc/ /usr/share/jenkins/ref/casc/" in before
    assert "COPY library/ /tmp/dockyard-library/" in before, "the library is in place"
    assert steps[check - 1].startswith("COPY --chown=jenkins:jenkins boot-check.sh")
    assert "USER 1000:1000" in before.split("casc/", 1)[1], "Jenkins runs as jenkins, not root"
    assert not any(s.startswith("RUN") for s in steps[check + 1:]), "the check is the last step"


def test_a_start_without_the_users_that_are_not_people_fails_the_build() -> None:
    """Under GitHub sign-in the agent pools join with tokens dockyard-users.groovy makes; an
    image whose controller failed to make them would take no agent, so it is never pushed."""
    done = verdict("users-not-in-place.log")
    assert done.returncode == 1
    assert "the agents' and builds' users are not in place" in done.stdout
    assert "no secret source holds acme-jenkins-agents" in done.stdout


@pytest.mark.parametrize("sign_in", ["local", "github"])
def test_the_check_starts_jenkins_with_stand_in_secrets_and_judges_its_log(
        tmp_path: Path, sign_in: str) -> None:
    """The whole step, with a stand-in for java that writes a recorded log: every secret the
    JCasC file names gets a value (and, under GitHub sign-in, every secret dockyard-users.groovy
    reads), Jenkins gets the plugins from the image, and is stopped."""
    from tests.conftest import GITHUB_SIGN_IN

    cfg = example_config(GITHUB_SIGN_IN) if sign_in == "github" else example_config()
    context = write_controller_context(cfg, tmp_path / "controller")
    ref = tmp_path / "ref"
    (ref / "plugins").mkdir(parents=True)
    (ref / "plugins" / "job-dsl.jpi").write_text("a plugin")
    (ref / "init.groovy.d").mkdir()
    (ref / "init.groovy.d" / "dockyard-trust.groovy.override").write_text("// the script")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    seen = tmp_path / "seen"
    java = bin_dir / "java"
    java.write_text(f"""#!/bin/bash
{{ env | grep -E '^(acme|JENKINS_HOME|JOB_NAME|BUILD_NUMBER)' ; ls "$JENKINS_HOME/plugins" \
  "$JENKINS_HOME/init.groovy.d"; echo "$@"; }} > {seen}
cat {LOGS}/good.log
# While stopping, a plugin may complain: that is not how Jenkins started, and is not judged.
trap 'echo "SEVERE	jenkins.model.Jenkins#cleanUp: ECSCloud is missing its descriptor"
      exit 143' TERM
sleep 60 & wait
""")
    java.chmod(0o755)
    environment = {"PATH": f"{bin_dir}:/usr/bin:/bin", "JAVA_OPTS": "-Dx=1",
                   "CASC_JENKINS_CONFIG": str(context / "casc"), "JENKINS_REF": str(ref),
                   "TRUST_SETTINGS": str(context / "trust.json"),
                   "JENKINS_WAR": "/jenkins.war", "BOOT_CHECK_SECONDS": "20"}
    done = subprocess.run(["bash", str(SCRIPT)], env=environment, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Jenkins is fully up" in done.stdout
    recorded = seen.read_text()
    standin = ('{"username":"boot-check","token":"boot-check","private_key":"boot-check",'
               '"webhook_secret":"boot-check"}')
    assert f"acme/github={standin}" in recorded
    if sign_in == "github":
        assert f"acme/jenkins-oauth={standin}" in recorded, "the OAuth App's client secret"
        for pool in ("acme-jenkins-agents", "acme-jenkins-agents-trusted"):
            assert f"{pool}={standin}" in recorded, "the pools' tokens are made from these"
    else:
        assert f"acme-jenkins-admin={standin}" in recorded
    assert "job-dsl.jpi" in recorded
    assert "-Dx=1" in recorded and "-jar /jenkins.war --httpPort=8089" in recorded
    assert "JOB_NAME" not in recorded and "BUILD_NUMBER" not in recorded, \
        "^${JOB_NAME} is the oidc-provider plugin's template, not a secret"
    assert "dockyard-trust.groovy\n" in recorded, "as jenkins.sh does: *.override replaces"


def test_the_stand_in_holds_every_key_a_jcasc_file_reads() -> None:
    """A ``${json:KEY:${secret}}`` whose KEY the stand-in lacks would fail the check for a
    reason no real account has: each key of either GitHub login (App or token) is there."""
    import json
    import re

    from dockyard.config import parse_config
    from dockyard.jenkins.casc import render_yaml
    from tests.conftest import example_text

    line = next(x for x in SCRIPT.read_text().splitlines() if x.startswith("standin="))
    standin = json.loads(line.split("=", 1)[1].strip("'"))
    token = parse_config(example_text(('    app_id: "123456"', "")), "dockyard.yml")
    read = {key for cfg in (example_config(), token)
            for key in re.findall(r"\$\{json:([a-z_]+):", render_yaml(cfg))}
    assert {"username", "token", "private_key", "webhook_secret"} <= read
    assert read <= set(standin)
