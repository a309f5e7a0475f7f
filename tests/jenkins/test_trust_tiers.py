"""The controller's trust tiers (jenkins/controller/dockyard-trust.groovy and TrustPolicy.groovy),
compiled against stand-ins of the Jenkins core API they use and run through scenarios as
Jenkins would drive them: which agent may take which build, and one build per agent.

An attack among them: whoever holds the untrusted pool's password (any pull request's code can
read it from its agent) joins a rogue agent that claims the trusted label, hoping to be handed
a trusted build and the token minted in it. The controller decides by who created the node,
never by its labels, and refuses.
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


def test_attack_replacing_a_trusted_node_under_its_name_takes_its_trust_away(
        stubs: Path, controller: Path) -> None:
    """swarm's -deleteExistingClients (or a same-named createSlave while it is offline)
    replaces a node: onUpdated, as the replacing user. Trust belongs to the node the trusted
    user created, not to its name."""
    answers, _ = play(stubs, controller, [
        {"create": TRUSTED, "as": "agents-trusted", "labels": "dockyard dockyard-trusted"},
        {"take": TRUSTED, "build": "web/main"},
        {"create": TRUSTED, "as": "agents", "labels": "dockyard dockyard-trusted"},
        {"take": TRUSTED, "build": "web/main"},
    ])
    assert answers[1] == "ok"
    assert answers[3].startswith("dockyard: web/main is a trusted build; it runs only on agents")


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
