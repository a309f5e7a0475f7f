"""The agent image's entrypoint (jenkins/agent/swarm-agent.sh), run with stand-ins for curl
and java on PATH: it waits for the controller, and hands the swarm client its password
through a pipe, never on the command line or in the environment builds inherit."""

from __future__ import annotations

import os
import stat
import subprocess
from importlib import resources
from pathlib import Path

import pytest

SCRIPT = resources.files("dockyard.jenkins").joinpath("agent", "swarm-agent.sh")
PASSWORD = "s3cr3t-agent-password-0123456789"


def _tool(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/bash\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _run(tmp_path: Path, *, curl_fails: int, wait: int = 900) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    # curl: fails the first `curl_fails` times, then writes a jar where -o/--output says
    _tool(bin_dir, "curl", f'''count=$(cat "{tmp_path}/curls" 2>/dev/null || echo 0)
echo $((count + 1)) > "{tmp_path}/curls"
[ "$count" -lt {curl_fails} ] && exit 7
while [ $# -gt 0 ]; do [ "$1" = --output ] && out=$2; shift; done
echo jar > "$out"
''')
    # java: records its arguments, its environment and what its password file holds
    _tool(bin_dir, "java", f'''printf '%s\\n' "$@" > "{tmp_path}/argv"
env > "{tmp_path}/env"
while [ $# -gt 0 ]; do [ "$1" = -passwordFile ] && cat "$2" > "{tmp_path}/password"; shift; done
''')
    _tool(bin_dir, "sleep", "exit 0\n")  # no real waiting
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "JENKINS_URL": "http://jenkins.acme.internal:8080/",
           "JENKINS_AGENT_PASSWORD": PASSWORD, "AGENT_HOME": str(tmp_path),
           "WAIT_SECONDS": str(wait)}
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def test_the_password_reaches_the_client_through_a_pipe_only(tmp_path: Path) -> None:
    done = _run(tmp_path, curl_fails=2)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("waiting for the controller") == 2
    argv = (tmp_path / "argv").read_text().splitlines()
    assert argv[:2] == ["-jar", str(tmp_path / "swarm-client.jar")]
    for flag in ("-webSocket", "-username", "-passwordFile", "-labels"):
        assert flag in argv
    assert argv[argv.index("-url") + 1] == "http://jenkins.acme.internal:8080/"
    assert argv[argv.index("-labels") + 1] == "dockyard"
    assert (tmp_path / "password").read_text() == PASSWORD
    assert PASSWORD not in "\n".join(argv), "never on the command line"
    assert PASSWORD not in (tmp_path / "env").read_text(), "never in the builds' environment"
    assert "JENKINS_AGENT_PASSWORD" not in (tmp_path / "env").read_text()
    assert PASSWORD not in done.stdout + done.stderr


def test_a_controller_that_never_answers_ends_the_agent(tmp_path: Path) -> None:
    done = _run(tmp_path, curl_fails=1000, wait=30)
    assert done.returncode == 1
    assert "served no swarm client in 30s" in done.stderr
    assert not (tmp_path / "argv").exists()


@pytest.mark.parametrize("missing", ["JENKINS_URL", "JENKINS_AGENT_PASSWORD"])
def test_missing_settings_are_named(tmp_path: Path, missing: str) -> None:
    env = {"PATH": os.environ["PATH"], "JENKINS_URL": "http://x/", "JENKINS_AGENT_PASSWORD": "p",
           "AGENT_HOME": str(tmp_path)}
    del env[missing]
    done = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True,
                          timeout=30, check=False)
    assert done.returncode != 0 and f"{missing} is not set" in done.stderr
