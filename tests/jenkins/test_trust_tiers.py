"""The controller's trust tiers (jenkins/controller/dockyard-trust.groovy and TrustPolicy.groovy),
compiled against stand-ins of the Jenkins core API they use and run through scenarios as
Jenkins would drive them: which agent may take which build, and one build per agent.

The attacks among them start where a pull request can: with the untrusted pool's password
(its code can read it on its agent). With it, a rogue agent claims the trusted label; replaces
a trusted node under its name; connects to a trusted node with the secret Jenkins hands to any
agent user; or lays a node of its own where a trusted agent will connect, each hoping to be
handed a trusted build and the token minted in it, or to run inside the trusted agent. The
controller decides by who created the node, never by its labels; lets only a node's creator
replace it or connect to it; and brings a connection online only as the node it approved.
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
from tests.pipeline.groovy import environment

HERE = Path(__file__).resolve().parent
CONTROLLER = HERE.parents[1] / "src" / "dockyard" / "jenkins" / "controller"
TRUSTED, UNTRUSTED = "fargate-agents-trusted-1a2b3c4d", "fargate-agents-5e6f7a8b"


@pytest.fixture(scope="module")
def controller(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files the controller image holds, for the example's dockyard.yml."""
    folder = tmp_path_factory.mktemp("dockyard")
    for name in ("dockyard-trust.groovy", "TrustPolicy.groovy"):
        shutil.copy(CONTROLLER / name, folder / name)
    (folder / "trust.json").write_text(trust_settings(example_config()))
    return folder


def play(stubs: Path, controller: Path,
         steps: list[dict[str, Any]] | dict[str, Any]) -> tuple[list[Any], Any]:
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
    assert settings == {"trustedUser": "agents-trusted", "trustedBuilds": ["web/main"],
                        "pools": {"agents": "fargate-agents",
                                  "agents-trusted": "fargate-agents-trusted"},
                        "resetUsers": ["agents", "agents-trusted", "builds", "admin"]}
    # the names the agents' entrypoint gives its swarm client, so each pool's own
    script = (HERE.parents[1] / "src" / "dockyard" / "jenkins" / "agent" /
              "swarm-agent.sh").read_text()
    assert "name: \"fargate-%s\"\\n' \"$AGENT_USER\"" in script


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
    assert answers[3] == "dockyard: this task names no job; no agent takes it"
    assert answers[4] == "ok"


def test_attack_replacing_a_trusted_node_is_refused_at_the_door(
        stubs: Path, controller: Path) -> None:
    """swarm's createSlave replaces a node of the same name (with deleteExistingClients, or
    while it is offline), and Jenkins keeps the Computer, with the live connection to the
    trusted agent: a pull request given the replacement would run inside the trusted agent,
    and the replacement's removal would knock the trusted agent off. Only a node's creator may
    replace it, however the URL is spelled."""
    answers, removed = play(stubs, controller, [
        {"create": "fargate-agents-trusted", "hash": "1a2b3c4d", "as": "agents-trusted"},
        {"create": "fargate-agents-trusted", "hash": "1a2b3c4d", "as": "agents"},
        {"create": "fargate-agents-trusted", "hash": "1a2b3c4d", "as": "developer"},
        {"create": TRUSTED, "as": "developer", "path": "/plugin/swarm/create%53lave"},
        {"create": TRUSTED, "as": None, "path": "/plugin/swarm/createSlave/"},
        {"take": TRUSTED, "build": "web/main"},
    ])
    assert answers[0] == "created"
    assert answers[1] == ("403: dockyard: agents may create only nodes named "
                          f"fargate-agents-<8 hex digits>, not {TRUSTED}")
    assert answers[2] == (f"403: dockyard: agent {TRUSTED} was created by agents-trusted; "
                          "developer may not replace it")
    assert answers[3] == answers[2], "the decoded path is checked too"
    assert answers[4].endswith("anonymous may not replace it")
    assert answers[5] == "ok", "still the trusted agent's own node"
    assert removed == []


def test_a_node_replaced_even_by_its_creator_takes_no_build_and_is_removed(
        stubs: Path, controller: Path) -> None:
    """Jenkins keeps the connection of the node it replaced, whoever that was; between the
    replacement and its removal the queue may ask."""
    answers, removed = play(stubs, controller, [
        {"create": TRUSTED, "as": "agents-trusted"},
        {"create": TRUSTED, "as": "agents-trusted", "hold": True},
        {"take": TRUSTED, "build": "web/main"},
    ])
    assert answers[1] == "created"
    assert answers[2] == (f"dockyard: agent {TRUSTED} replaced another under its name and "
                          "takes no build (it is being removed)")
    assert removed == [TRUSTED]
    answers, _ = play(stubs, controller, [
        {"create": TRUSTED, "as": "agents-trusted"},
        {"create": TRUSTED, "as": "agents-trusted"},
        {"take": TRUSTED, "build": "web/main"},
    ])
    assert answers[2] == "gone"


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
    before the trusted agent does. Only a node's creator may connect to it."""
    answers, _ = play(stubs, controller, [
        {"create": TRUSTED, "as": "agents-trusted", "labels": "dockyard dockyard-trusted"},
        {"connect": TRUSTED, "as": "agents"},
        {"connect": TRUSTED, "as": None},
        {"connect": TRUSTED, "as": "agents-trusted"},
        {"online": TRUSTED},
        {"take": TRUSTED, "build": "web/main"},
        {"create": UNTRUSTED, "as": "agents", "labels": "dockyard"},
        {"connect": UNTRUSTED, "as": "agents"},
        {"online": UNTRUSTED},
    ])
    assert answers[1] == (f"403: dockyard: agent {TRUSTED} was created by agents-trusted; "
                          "only agents-trusted may connect to it, not agents")
    assert answers[2].endswith("not anonymous")
    assert answers[3:6] == ["ok", "online", "ok"], "the trusted agent itself connects and works"
    assert answers[7:] == ["ok", "online"]


def test_attack_steering_a_trusted_agent_onto_a_node_of_the_untrusted_pool_is_refused(
        stubs: Path, controller: Path) -> None:
    """The untrusted pool creates a node under the name a trusted agent is about to connect
    as (its own node gone, the agent retrying with the same name and secret). Were the
    trusted agent to connect, a pull request sent to that node would run inside it. A pool's
    user may create only its own pool's names; and whoever else creates a node, a trusted
    agent may not connect to it."""
    answers, _ = play(stubs, controller, [
        {"create": TRUSTED, "as": "agents-trusted"},
        {"delete": TRUSTED},
        {"create": TRUSTED, "as": "agents", "labels": "pwn"},
        {"create": "fargate-agents", "hash": "Zz", "as": "agents"},
        {"create": TRUSTED, "as": "developer", "labels": "pwn"},
        {"connect": TRUSTED, "as": "agents-trusted"},
    ])
    assert answers[2] == (f"403: dockyard: agents may create only nodes named "
                          f"fargate-agents-<8 hex digits>, not {TRUSTED}")
    assert answers[3].startswith("403: dockyard: agents may create only nodes named")
    assert answers[4] == "created", "a user of no pool: not limited to a pool's names"
    assert answers[5] == (f"403: dockyard: agent {TRUSTED} was created by developer; only "
                          "developer may connect to it, not agents-trusted")


def test_attack_swapping_the_node_while_its_agent_connects_keeps_it_offline(
        stubs: Path, controller: Path) -> None:
    """The door checks the node a connection names; Jenkins attaches the connection to
    whatever node has that name when it comes online. A node swapped in between is caught
    there: the connection comes online only as the node it was approved for."""
    answers, _ = play(stubs, controller, [
        {"create": TRUSTED, "as": "agents-trusted"},
        {"connect": TRUSTED, "as": "agents-trusted"},
        {"delete": TRUSTED},
        {"create": TRUSTED, "as": "developer"},
        {"online": TRUSTED},
        {"create": UNTRUSTED, "as": "agents"},
        {"online": UNTRUSTED},
    ])
    assert answers[1] == "ok"
    assert answers[4] == (f"refused: dockyard: agent {TRUSTED} is not the node its connection "
                          "was approved for (it was replaced while connecting); the connection "
                          "is refused")
    assert answers[6].startswith("refused:"), "no connection without the door's approval"


def test_attack_a_connection_never_takes_over_a_running_build(stubs: Path,
                                                              controller: Path) -> None:
    """A Pipeline finds its agent by name and carries on wherever that name connects next;
    no new connection is let in under a node with a build on it."""
    answers, _ = play(stubs, controller, [
        {"create": TRUSTED, "as": "agents-trusted"},
        {"connect": TRUSTED, "as": "agents-trusted"},
        {"online": TRUSTED},
        {"start": TRUSTED},
        {"connect": TRUSTED, "as": "agents-trusted"},
        {"online": TRUSTED},
    ])
    assert answers[2] == "online"
    assert answers[5] == (f"refused: dockyard: agent {TRUSTED} still has a build running on "
                          "it; a new connection does not take it over")


@pytest.mark.parametrize("path", [
    "/computer/fargate-agents-5e6f7a8b/config.xml",  # a rename is a replacement
    "/cli", "/job/web/job/main/build", "/script",
    "/wsagents/../computer/x/config.xml", "/plugin/swarm/create%53lave",
    "/plugin/swarm/addSlaveLabels",
])
def test_attack_an_agents_user_may_do_nothing_but_join(stubs: Path, controller: Path,
                                                       path: str) -> None:
    answers, _ = play(stubs, controller, [
        {"request": path, "as": "agents"},
        {"request": path, "as": "agents-trusted"},
        {"request": path, "as": "admin"},
    ])
    assert answers[0].startswith(f"403: dockyard: agents may only join agents (/crumbIssuer/"
                                 f"api/xml, /plugin/swarm/createSlave, /wsagents/, /login), not "
                                 f"{path}")
    assert answers[1].startswith("403: dockyard: agents-trusted may only join agents")
    if "/create" in path:  # a createSlave with no name, whoever sends it
        assert answers[2] == "403: dockyard: a node is created only with a name"
    else:
        assert answers[2] == "ok", "everyone else is Jenkins' to judge"


def test_an_agents_user_joins_through_the_paths_it_needs(stubs: Path, controller: Path) -> None:
    answers, _ = play(stubs, controller, [
        {"request": "/crumbIssuer/api/xml", "as": "agents"},
        {"create": "fargate-agents", "hash": "5e6f7a8b", "as": "agents"},
        {"connect": UNTRUSTED, "as": "agents"},
        {"online": UNTRUSTED},
        {"take": UNTRUSTED, "build": "web/PR-12"},
    ])
    assert answers == ["ok", "created", "ok", "online", "ok"]


def test_a_node_with_more_than_one_executor_takes_no_build(stubs: Path,
                                                           controller: Path) -> None:
    """Several executors would let one queue pass hand an agent several builds before the
    first one starts: a pool's user may not ask for them, and whoever made such a node, it
    takes nothing."""
    answers, _ = play(stubs, controller, [
        {"create": UNTRUSTED, "as": "agents", "executors": 4},
        {"create": UNTRUSTED, "as": "developer", "executors": 4},
        {"take": UNTRUSTED, "build": "web/PR-12"},
    ])
    assert answers[0] == ("403: dockyard: agents creates nodes with one executor and nothing "
                          "else (not executors=4)")
    assert answers[2] == (f"dockyard: agent {UNTRUSTED} has 4 executors; dockyard's agents run "
                          "one build at a time")


@pytest.mark.parametrize(("form", "refused"), [
    ({"deleteExistingClients": "true"}, "deleteExistingClients=true"),
    ({"keepDisconnectedClients": "on"}, "keepDisconnectedClients=on"),
    ({"environmentVariable": "JAVA_TOOL_OPTIONS:-javaagent:x.jar"}, "environmentVariable"),
    ({"toolLocation": "git:/tmp/git"}, "toolLocation"),
])
def test_attack_a_pool_user_creates_its_node_only_as_dockyards_agents_do(
        stubs: Path, controller: Path, form: dict[str, str], refused: str) -> None:
    """deleteExistingClients would take another node of the pool; keepDisconnectedClients
    would pile up nodes no one removes."""
    answers, _ = play(stubs, controller, [
        {"create": "fargate-agents", "hash": "5e6f7a8b", "as": "agents", "form": form},
    ])
    assert answers[0] == ("403: dockyard: agents creates nodes with one executor and nothing "
                          f"else (not {refused})")


def test_a_node_is_created_only_with_a_name(stubs: Path, controller: Path) -> None:
    """Without one, the swarm plugin would call the node null-HASH."""
    answers, _ = play(stubs, controller, [
        {"create": "x", "hash": "5e6f7a8b", "as": "agents", "form": {"name": None}},
    ])
    assert answers[0] == "403: dockyard: a node is created only with a name"


def test_agents_nodes_left_from_before_a_start_are_removed(stubs: Path,
                                                          controller: Path) -> None:
    answers, removed = play(stubs, controller, {
        "before": [TRUSTED, UNTRUSTED, "build-box"],
        "steps": [{"take": "build-box", "build": "web/PR-12"}],
    })
    assert sorted(removed) == sorted([TRUSTED, UNTRUSTED]), "not a node dockyard did not make"
    assert answers[0].startswith("dockyard: agent build-box was not created by an agents' user")


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
        {"create": TRUSTED, "as": "developer"},
        {"take": TRUSTED, "build": "web/main"},
    ])
    assert answers[3].startswith("dockyard: web/main is a trusted build")
