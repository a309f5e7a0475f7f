"""The build contexts of Jenkins' two images, written to a folder for dockyard's builder.

Both are deterministic: the same dockyard.yml, platform and dockyard version give the same
files, so the packed context gets the same name and an unchanged image is not built again.
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

from dockyard.config.models import Config
from dockyard.jenkins.casc import render_yaml
from dockyard.names import agent_secret_name, jenkins_users
from dockyard.trust import agent_node_prefix, trusted_builds

CONTROLLER_FILES = ("Dockerfile", "plugins.txt", "plugins.lock", "install-plugins.sh",
                    "boot-check.sh", "dockyard-trust.groovy", "TrustPolicy.groovy",
                    "dockyard-users.groovy")
AGENT_FILES = ("Dockerfile", "dockyard.sh", "swarm-agent.sh", "requirements.lock")


def _copy_package_files(kind: str, names: tuple[str, ...], target: Path) -> None:
    source = resources.files("dockyard.jenkins").joinpath(kind)
    for name in names:
        (target / name).write_bytes(source.joinpath(name).read_bytes())


def write_controller_context(cfg: Config, target: Path) -> Path:
    """The controller image: the LTS base, pinned plugins and the rendered JCasC."""
    target.mkdir(parents=True, exist_ok=True)
    _copy_package_files("controller", CONTROLLER_FILES, target)
    (target / "casc").mkdir(exist_ok=True)
    (target / "casc" / "jenkins.yaml").write_text(render_yaml(cfg), encoding="utf-8")
    (target / "trust.json").write_text(trust_settings(cfg), encoding="utf-8")
    library = resources.files("dockyard.jenkins").joinpath("library", "vars")
    (target / "library" / "vars").mkdir(parents=True, exist_ok=True)
    for name in sorted(p.name for p in library.iterdir() if p.name.endswith((".groovy", ".txt"))):
        (target / "library" / "vars" / name).write_bytes(library.joinpath(name).read_bytes())
    return target


def trust_settings(cfg: Config) -> str:
    """What the controller's dockyard-trust.groovy enforces: the user trusted agents join as,
    the builds (``JOB_NAME``) that are trusted, and each pool's user with the prefix of its
    nodes' names. Under GitHub sign-in, what dockyard-users.groovy makes: each pool's user
    with the secret its API token comes from, and the builds' user."""
    users = jenkins_users(cfg)
    settings: dict[str, object] = {
        "trustedUser": users.trusted_agents,
        "trustedBuilds": trusted_builds(cfg),
        "pools": {user: agent_node_prefix(user)
                  for user in (users.agents, users.trusted_agents)}}
    # Whatever a person may have left on these users' records under another realm (API tokens,
    # sessions through the seed) is dropped at each start: under GitHub sign-in a GitHub
    # account named "agents-trusted" or "admin" could make tokens on that record, and the
    # local realm would take them after a switch back.
    settings["resetUsers"] = [users.agents, users.trusted_agents, users.builds] + (
        [] if cfg.jenkins.sign_in.github else ["admin"])
    if cfg.jenkins.sign_in.github:
        settings["tokenUsers"] = {users.pool(trusted=trusted): agent_secret_name(
            cfg.name, trusted=trusted) for trusted in (False, True)}
        settings["buildUser"] = users.builds
    return json.dumps(settings, indent=2) + "\n"


def write_agent_context(target: Path) -> Path:
    """The agent image: a swarm client plus this very dockyard (its code and requirements)."""
    target.mkdir(parents=True, exist_ok=True)
    _copy_package_files("agent", AGENT_FILES, target)  # with the hashed lock of its packages
    package = Path(str(resources.files("dockyard")))
    shutil.copytree(package, target / "dockyard",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target
