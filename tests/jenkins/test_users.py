"""The users that are not people under GitHub sign-in (jenkins/controller/dockyard-users.groovy,
run against Jenkins stand-ins): each agent pool's user gets an API token made from its pool's
secret, the very password its swarm client then sends (jenkins/agent/swarm-agent.sh), and the
builds' user a record; nothing at all under the local realm."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from dockyard.jenkins.contexts import trust_settings
from tests.conftest import GITHUB_SIGN_IN, example_config
from tests.jenkins.test_agent_entrypoint import PASSWORD, _run
from tests.pipeline.groovy import environment

HERE = Path(__file__).resolve().parent
CONTROLLER = HERE.parents[1] / "src" / "dockyard" / "jenkins" / "controller"
SECRETS = {"acme-jenkins-agents": PASSWORD, "acme-jenkins-agents-trusted": "another-secret-42"}


def play(stubs: Path, folder: Path, settings: str, secrets: dict[str, str],
         *, runs: int = 1, before: dict[str, list[str]] | None = None,
         ) -> subprocess.CompletedProcess[str]:
    shutil.copy(CONTROLLER / "dockyard-users.groovy", folder / "dockyard-users.groovy")
    (folder / "trust.json").write_text(settings)
    return subprocess.run(["groovy", "-cp", str(stubs), str(HERE / "users_driver.groovy"),
                           str(folder), json.dumps(secrets), str(runs),
                           json.dumps(before or {})], env=environment(),
                          capture_output=True, text=True, timeout=300, check=False)


def users(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 0, done.stdout + done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("{"))
    return dict(json.loads(line)["users"])


def test_each_pool_joins_with_a_token_made_from_its_secret(stubs: Path, tmp_path: Path) -> None:
    done = play(stubs, tmp_path, trust_settings(example_config(GITHUB_SIGN_IN)), SECRETS,
                runs=2)
    made = users(done)
    assert set(made) == {"dockyard.agents", "dockyard.agents-trusted", "dockyard.builds"}
    for user, secret in (("dockyard.agents", PASSWORD),
                         ("dockyard.agents-trusted", "another-secret-42")):
        token = "11" + hashlib.sha256(secret.encode()).hexdigest()[:32]
        assert made[user]["tokens"] == [["dockyard agent pool", token]], \
            "one token, replaced at each start"
    assert made["dockyard.builds"]["tokens"] == [] and made["dockyard.builds"]["saves"] >= 2, \
        "saved at each start"
    assert "users that are not people in place: dockyard.agents, dockyard.agents-trusted, " \
           "dockyard.builds" in done.stderr
    assert PASSWORD not in done.stderr, "the secret is never logged"


def test_the_agent_sends_the_token_the_controller_made(stubs: Path, tmp_path: Path) -> None:
    """The same secret on both sides gives the same token: what swarm-agent.sh sends with
    AGENT_AUTH=token is what dockyard-users.groovy stored."""
    made = users(play(stubs, tmp_path, trust_settings(example_config(GITHUB_SIGN_IN)), SECRETS))
    ((_, stored),) = made["dockyard.agents"]["tokens"]
    agent = tmp_path / "agent"
    agent.mkdir()
    done = _run(agent, curl_fails=0, AGENT_USER="dockyard.agents", AGENT_AUTH="token")
    assert done.returncode == 0, done.stderr
    assert (agent / "password").read_text() == stored
    config = yaml.safe_load((agent / "config").read_text())
    header = config["webSocketHeaders"]["Authorization"].removeprefix("Basic ")
    assert base64.b64decode(header).decode() == f"dockyard.agents:{stored}"
    assert PASSWORD not in (agent / "config").read_text()


def test_under_the_local_realm_it_makes_no_one(stubs: Path, tmp_path: Path) -> None:
    done = play(stubs, tmp_path, trust_settings(example_config()), SECRETS)
    assert users(done) == {}
    assert "users that are not people in place: none" in done.stderr


def test_what_a_github_account_left_on_a_local_users_record_is_dropped(
        stubs: Path, tmp_path: Path) -> None:
    """After the way back in (GitHub sign-in removed), a GitHub account that was called
    "agents-trusted" or "admin" may have made API tokens on that record; the local realm would
    take them. At every start they are revoked, and the seed renewed (sessions, cookies)."""
    before = {"agents-trusted": ["made while signed in with GitHub"], "admin": ["mine"],
              "alice": ["hers"]}
    done = play(stubs, tmp_path, trust_settings(example_config()), SECRETS, before=before)
    left = users(done)
    assert left["agents-trusted"]["tokens"] == [] and left["agents-trusted"]["renewals"] == 1
    assert left["admin"]["tokens"] == [] and left["admin"]["renewals"] == 1
    assert left["alice"]["tokens"] == [["hers", "11" + "0" * 32]], "people are left alone"
    assert "tokens and sessions dropped: agents-trusted, admin" in done.stderr


def test_under_github_sign_in_a_pool_keeps_only_the_token_made_from_its_secret(
        stubs: Path, tmp_path: Path) -> None:
    before = {"dockyard.agents": ["dockyard agent pool", "someone else's"]}
    left = users(play(stubs, tmp_path, trust_settings(example_config(GITHUB_SIGN_IN)), SECRETS,
                      before=before))
    token = "11" + hashlib.sha256(PASSWORD.encode()).hexdigest()[:32]
    assert left["dockyard.agents"]["tokens"] == [["dockyard agent pool", token]]
    assert left["dockyard.agents"]["renewals"] == 1


def test_a_secret_it_cannot_read_fails_the_script(stubs: Path, tmp_path: Path) -> None:
    """Jenkins logs a failed init script and starts anyway; the image's boot check then finds
    no "in place" line and fails the build (tests/jenkins/test_boot_check.py)."""
    done = play(stubs, tmp_path, trust_settings(example_config(GITHUB_SIGN_IN)),
                {"acme-jenkins-agents": PASSWORD})
    assert done.returncode != 0
    assert "no secret source holds acme-jenkins-agents-trusted" in done.stderr
    assert "in place" not in done.stderr
