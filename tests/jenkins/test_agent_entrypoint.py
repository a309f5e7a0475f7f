"""The agent image's entrypoint (jenkins/agent/swarm-agent.sh), run with stand-ins for curl
and java on PATH: it waits for the controller, and hands the swarm client its options and
password through pipes, never on the command line or in the environment builds inherit; the
WebSocket connection carries the pool's credentials (the controller requires them of anyone
connecting to a trusted node)."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
from importlib import resources
from pathlib import Path

import pytest
import yaml

SCRIPT = resources.files("dockyard.jenkins").joinpath("agent", "swarm-agent.sh")
PASSWORD = "s3cr3t-agent-password-0123456789"


def _tool(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/bash\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _run(tmp_path: Path, *, curl_fails: int, wait: int = 900,
         **extra: str) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    # curl: fails the first `curl_fails` times, then writes a jar where -o/--output says
    _tool(bin_dir, "curl", f'''count=$(cat "{tmp_path}/curls" 2>/dev/null || echo 0)
echo $((count + 1)) > "{tmp_path}/curls"
[ "$count" -lt {curl_fails} ] && exit 7
while [ $# -gt 0 ]; do [ "$1" = --output ] && out=$2; shift; done
echo jar > "$out"
''')
    # java: records its arguments, environment and working directory, the -config it reads,
    # and what the config's passwordFile holds
    _tool(bin_dir, "java", f'''printf '%s\\n' "$@" > "{tmp_path}/argv"
env > "{tmp_path}/env"
pwd > "{tmp_path}/cwd"
while [ $# -gt 0 ]; do [ "$1" = -config ] && cat "$2" > "{tmp_path}/config"; shift; done
file=$(sed -n 's/^passwordFile: //p' "{tmp_path}/config")
cat "$file" > "{tmp_path}/password"
''')
    _tool(bin_dir, "sleep", "exit 0\n")  # no real waiting
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "JENKINS_URL": "http://jenkins.acme.internal:8080/",
           "JENKINS_AGENT_PASSWORD": PASSWORD, "AGENT_HOME": str(tmp_path),
           "WAIT_SECONDS": str(wait), **extra}
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True,
                          timeout=60, check=False)


def test_the_password_reaches_the_client_through_a_pipe_only(tmp_path: Path) -> None:
    done = _run(tmp_path, curl_fails=2)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("waiting for the controller") == 2
    argv = (tmp_path / "argv").read_text().splitlines()
    assert argv[:3] == ["-XX:+DisableAttachMechanism", "-jar", str(tmp_path / "swarm-client.jar")]
    assert argv[3] == "-config" and len(argv) == 5, "-config allows no other option"
    config = yaml.safe_load((tmp_path / "config").read_text())
    assert config["url"] == "http://jenkins.acme.internal:8080/"
    assert config["webSocket"] is True and config["noRetryAfterConnected"] is True
    assert config["username"] == "agents" and config["name"] == "fargate-agents"
    assert config["labels"] == ["dockyard"] and config["executors"] == 1
    assert (tmp_path / "cwd").read_text().strip() == str(tmp_path / "agent"), "the fsroot"
    assert (tmp_path / "password").read_text() == PASSWORD
    assert PASSWORD not in "\n".join(argv), "never on the command line"
    assert PASSWORD not in (tmp_path / "config").read_text(), "only in the Authorization header"
    assert PASSWORD not in (tmp_path / "env").read_text(), "never in the builds' environment"
    assert "JENKINS_AGENT_PASSWORD" not in (tmp_path / "env").read_text()
    assert PASSWORD not in done.stdout + done.stderr


def test_the_websocket_connection_carries_the_pools_credentials(tmp_path: Path) -> None:
    done = _run(tmp_path, curl_fails=0, AGENT_USER="agents-trusted",
                AGENT_LABELS="dockyard dockyard-trusted")
    assert done.returncode == 0, done.stderr
    config = yaml.safe_load((tmp_path / "config").read_text())
    header = config["webSocketHeaders"]["Authorization"]
    assert header.startswith("Basic ")
    assert base64.b64decode(header.removeprefix("Basic ")).decode() == (
        f"agents-trusted:{PASSWORD}")
    assert config["labels"] == ["dockyard", "dockyard-trusted"]
    assert config["name"] == "fargate-agents-trusted"


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
