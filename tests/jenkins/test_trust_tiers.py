"""The controller's trust tiers (jenkins/controller/dockyard-trust.groovy and TrustPolicy.groovy),
compiled against stand-ins of the Jenkins core API they use and run through scenarios as
Jenkins would drive them: which agent may take which build, and one build per agent.

The attacks among them start where a pull request can: with the untrusted pool's password
(its code can read it on its agent). With it, a rogue agent claims the trusted label, or
replaces a trusted node under its name, or connects to a trusted node with the secret Jenkins
hands to any agent user, each hoping to be handed a trusted build and the token minted in it,
or to run inside the trusted agent. The controller decides by who created the node, never by
its labels; gives a replaced node nothing; and lets only the trusted pool connect to a trusted
node.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from dockyard.jenkins.contexts import trust_settings
from tests.conftest import example_config
from tests.pipeline.groovy import environment, require

HERE = Path(__file__).resolve().parent
CONTROLLER = HERE.parents[1] / "src" / "dockyard" / "jenkins" / "controller"
TRUSTED, UNTRUSTED = "fargate-agents-trusted-1a2b3c4d", "fargate-agents-5e6f7a8b"


@pytest.fixture(scope="module")
def stubs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Jenkins stand-ins, compiled."""
    require()
    out = tmp_path_factory.mktemp("stubs")
    done = subprocess.run(["groovyc", "-d", str(out), *map(str, sorted((HERE / "stubs").glob(
        "*.groovy")))], env=environment(), capture_output=True, text=True, timeout=300,
        check=False)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def controller(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files the controller image holds, for the example's dockyard.yml."""
    folder = tmp_path_factory.mktemp("dockyard")
    for name in ("dockyard-trust.groovy", "TrustPolicy.groovy"):
        shutil.copy(CONTROLLER / name, folder / name)
    (folder / "trust.json").write_text(trust_settings(example_config()))
    return folder


def play(stubs: Path, controller: Path, steps: list[dict[str, Any]]) -> tuple[list[Any], Any]:
    """The answer of each step, and the nodes the controller removed."""
    done = subprocess.run(["groovy", "-cp", str(stubs), str(HERE / "trust_driver.groovy"),
                           str(controller), json.dumps(steps)], env=environment(),
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return [line["answer"] for line in lines[:-1]], lines[-1]["removed"]


def test_the_script_compiles_against_the_jenkins_api(stubs: Path, tmp_path: Path) -> None:
    """@Override on each listener method: a method Jenkins does not have fails to compile."""
    done = subprocess.run(["groovyc", "-cp", str(stubs), "-d", str(tmp_path),
                           str(CONTROLLER / "TrustPolicy.groovy"),
                           str(CONTROLLER / "dockyard-trust.groovy")], env=environment(),
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr


def test_the_settings_name_the_trusted_user_and_the_deploy_branches() -> None:
    settings = json.loads(trust_settings(example_config()))
    assert settings == {"trustedUser": "agents-trusted", "trustedBuilds": ["web/main"]}


def test_attack_a_rogue_agent_claiming_the_trusted_label_gets_no_trusted_build(
        stubs: Path, controller: Path) -> None:
    answers, _ = play(stubs, controller, [
        {"create": UNTRUSTED, "as": "agents", "labels": "dockyard dockyard-trusted"},
        {"take": UNTRUSTED, "build": "web/main"},
        {"take": UNTRUSTED, "build": "web/PR-12"},
    ])
    assert answers[1] == ("dockyard: web/main is a trusted build; it runs only on agents that "
                          f"joined as agents-trusted, and {UNTRUSTED} did not")
    assert answers[2] == "ok", "the untrusted pool runs pull requests"


def test_attack_a_pull_request_asking_for_a_trusted_agent_is_refused(
        stubs: Path, controller: Path) -> None:
    answers, _ = play(stubs, controller, [
        {"create": TRUSTED, "as": "agents-trusted", "labels": "dockyard dockyard-trusted"},
        {"take": TRUSTED, "build": "web/PR-12"},
        {"take": TRUSTED, "build": "web/feature%2Fx"},
        {"take": TRUSTED, "build": None},
        {"take": TRUSTED, "build": "web/main"},
    ])
    assert answers[1] == (f"dockyard: web/PR-12 is untrusted; agent {TRUSTED} takes only "
                          "trusted builds")
    assert answers[2].startswith("dockyard: web/feature%2Fx is untrusted")
    assert answers[3].startswith("dockyard: this task is untrusted")
    assert answers[4] == "ok"


def test_attack_replacing_a_trusted_node_under_its_name_gets_no_build_and_is_removed(
        stubs: Path, controller: Path) -> None:
    """swarm's createSlave with deleteExistingClients replaces a node under its name: Jenkins
    keeps the Computer, and with it the live connection to the trusted agent. Were the
    replacement given a pull request, that code would run inside the trusted agent. The
    replacement takes no build at all, whoever made it, and is removed (its connection with
    it); the name keeps no trust."""
    answers, removed = play(stubs, controller, [
        {"create": TRUSTED, "as": "agents-trusted", "labels": "dockyard dockyard-trusted"},
        {"take": TRUSTED, "build": "web/main"},
        {"create": TRUSTED, "as": "agents", "labels": "dockyard"},
        {"take": TRUSTED, "build": "web/PR-12"},
        {"take": TRUSTED, "build": "web/main"},
        {"connect": TRUSTED, "as": "agents"},
    ])
    assert answers[1] == "ok"
    replaced = (f"dockyard: agent {TRUSTED} replaced another under its name and takes no build "
                "(it is being removed)")
    assert answers[3] == replaced, "no pull request inside the trusted agent"
    assert answers[4] == replaced
    assert answers[5] == "ok", "the name is no longer a trusted node's"
    assert removed == [TRUSTED]


def test_a_trusted_node_saved_as_it_is_stays_trusted(stubs: Path, controller: Path) -> None:
    """Nodes.updateNode (a label change, a temporary-offline cause) fires onUpdated with the
    node itself: not a replacement."""
    answers, removed = play(stubs, controller, [
        {"create": TRUSTED, "as": "agents-trusted", "labels": "dockyard dockyard-trusted"},
        {"save": TRUSTED},
        {"take": TRUSTED, "build": "web/main"},
    ])
    assert answers[2] == "ok"
    assert removed == []


def test_attack_connecting_to_a_trusted_node_as_the_untrusted_pool_is_refused(
        stubs: Path, controller: Path) -> None:
    """A node's connection secret is a MAC of its name, and Jenkins hands it to anyone with
    Agent/Connect, which both pools hold (swarm's createSlave requires it). A pull request
    that reads its agent's password could ask for a trusted node's secret and connect to it
    before the trusted agent does. Only agents-trusted may connect to what agents-trusted
    created."""
    answers, _ = play(stubs, controller, [
        {"create": TRUSTED, "as": "agents-trusted", "labels": "dockyard dockyard-trusted"},
        {"connect": TRUSTED, "as": "agents"},
        {"connect": TRUSTED, "as": None},
        {"connect": TRUSTED, "as": "agents-trusted"},
        {"create": UNTRUSTED, "as": "agents", "labels": "dockyard"},
        {"connect": UNTRUSTED, "as": "agents"},
    ])
    assert answers[1] == (f"403: dockyard: agent {TRUSTED} joined as agents-trusted; only "
                          "agents-trusted may connect to it, not agents")
    assert answers[2].endswith("not anonymous")
    assert answers[3] == "ok", "the trusted agent itself connects"
    assert answers[5] == "ok"


def test_each_agent_runs_one_build_and_is_removed(stubs: Path, controller: Path) -> None:
    answers, removed = play(stubs, controller, [
        {"create": TRUSTED, "as": "agents-trusted", "labels": "dockyard dockyard-trusted"},
        {"create": UNTRUSTED, "as": "agents", "labels": "dockyard"},
        {"start": TRUSTED},
        {"take": TRUSTED, "build": "web/main"},
        {"end": TRUSTED},
        {"take": UNTRUSTED, "build": "web/PR-12"},
    ])
    assert answers[2] == "accepting=false", "no second task is offered to it"
    assert answers[3] == (f"dockyard: agent {TRUSTED} has run a build and takes no other (a "
                          "fresh agent replaces it)")
    assert answers[5] == "ok"
    assert removed == [TRUSTED], "removed when its task ended; its swarm client then exits"


def test_a_deleted_trusted_node_is_forgotten(stubs: Path, controller: Path) -> None:
    answers, _ = play(stubs, controller, [
        {"create": TRUSTED, "as": "agents-trusted"},
        {"delete": TRUSTED},
        {"create": TRUSTED, "as": "agents"},
        {"take": TRUSTED, "build": "web/main"},
    ])
    assert answers[3].startswith("dockyard: web/main is a trusted build")
