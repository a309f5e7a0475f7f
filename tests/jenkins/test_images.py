"""Jenkins' image contexts: pinned, non-root, secret-free, deterministic; and the rule that a
changed context is built while an unchanged one is reused."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest
import yaml
from devtools.lock import LOCK, pins, runtime_requirements

from dockyard.builds.context import pack, scan
from dockyard.builds.request import BuildRequest, Destination
from dockyard.builds.runner import BuildEnvironment, BuildResult
from dockyard.builds.sources import Source
from dockyard.jenkins.contexts import write_agent_context, write_controller_context
from dockyard.stacks.jenkins import JenkinsImages
from tests.conftest import example_config
from tests.fakes import FakeClock, Notes

PACKAGE = resources.files("dockyard.jenkins")
PLUGIN_LINE = re.compile(r"^[a-z0-9][a-z0-9-]*:\d[\w.-]*$")


def dockerfile(kind: str) -> str:
    return PACKAGE.joinpath(kind, "Dockerfile").read_text("utf-8")


def plugins() -> dict[str, str]:
    lines = [line for line in PACKAGE.joinpath("controller", "plugins.txt").read_text()
             .splitlines() if line.strip() and not line.startswith("#")]
    for line in lines:
        assert PLUGIN_LINE.match(line), f"not name:version: {line}"
    return dict(line.split(":", 1) for line in lines)


def test_every_plugin_is_pinned_and_every_casc_section_has_its_plugin(tmp_path: Path) -> None:
    pinned = plugins()
    assert all(v not in ("latest", "experimental") for v in pinned.values())
    context = write_controller_context(example_config(), tmp_path / "controller")
    casc = yaml.safe_load((context / "casc" / "jenkins.yaml").read_text())
    needs = {"configuration-as-code"}
    if {"globalMatrix", "projectMatrix"} & set(casc["jenkins"]["authorizationStrategy"]):
        needs.add("matrix-auth")
    if "idToken" in casc["security"]:
        needs.add("oidc-provider")  # each build's id token, exchanged with AWS STS
    if any(user["id"] == "agents" for user in casc["jenkins"]["securityRealm"]["local"]["users"]):
        needs.add("swarm")  # the agents join as swarm clients
    if "jobs" in casc or "globalJobDslSecurityConfiguration" in casc["security"]:
        needs.add("job-dsl")
    if "multibranchPipelineJob" in casc["jobs"][0]["script"]:
        needs |= {"workflow-aggregator", "github-branch-source", "git"}
    if "${" in yaml.safe_dump(casc):
        needs.add("aws-secrets-manager-secret-source")
    if "credentials" in casc:
        needs.add("credentials-binding")
    if "globalLibraries" in casc["unclassified"]:
        needs.add("workflow-aggregator")  # it brings pipeline-groovy-lib
    if "queueItemAuthenticator" in casc["security"]:
        needs.add("authorize-project")  # builds run as a user, not as SYSTEM
    assert needs <= set(pinned), needs - set(pinned)
    from tests.conftest import GITHUB_SIGN_IN
    signed = write_controller_context(example_config(GITHUB_SIGN_IN), tmp_path / "github")
    realm = yaml.safe_load((signed / "casc" / "jenkins.yaml").read_text())["jenkins"][
        "securityRealm"]
    assert "github" in realm and "github-oauth" in pinned  # people sign in with GitHub
    assert set(pinned) == {
        "configuration-as-code", "job-dsl", "workflow-aggregator", "git",
        "github-branch-source", "matrix-auth", "credentials-binding",
        "aws-secrets-manager-secret-source", "swarm", "oidc-provider", "authorize-project",
        "github-oauth"}
    # The Secrets Manager credentials provider would list every secret of the account as a
    # Jenkins credential (with secretsmanager:ListSecrets on *); nothing configures it.
    locked = PACKAGE.joinpath("controller", "plugins.lock").read_text()
    assert not re.search(r"^aws-secrets-manager-credentials-provider:", locked, re.MULTILINE)


@pytest.mark.parametrize("kind", ["controller", "agent"])
def test_dockerfiles_use_pinned_bases_run_as_non_root_and_hold_no_secrets(kind: str) -> None:
    text = dockerfile(kind)
    (base,) = re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE)
    name, _, tag = base.partition(":")
    assert name in ("jenkins/jenkins", "jenkins/inbound-agent")
    assert re.match(r"^\d[\w.-]*-jdk21$", tag), f"not an exact version: {base}"
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users[-1] in ("1000:1000", "jenkins"), "the image ends as a non-root user"
    for line in text.splitlines():
        if line.startswith(("ENV", "ARG")) or line.startswith(" "):
            assert not re.search(r"(PASSWORD|SECRET|TOKEN|AWS_ACCESS_KEY|KEY=)", line), line
    assert "AKIA" not in text


def test_the_controller_turns_the_wizard_off_and_keeps_war_and_plugins_local() -> None:
    text = dockerfile("controller")
    assert "-Djenkins.install.runSetupWizard=false" in text
    assert "install-plugins.sh /usr/share/jenkins/ref/plugins.lock" in text
    installer = PACKAGE.joinpath("controller", "install-plugins.sh").read_text()
    assert 'jenkins-plugin-cli --plugin-file "$lock" --latest false' in installer
    assert "CASC_JENKINS_CONFIG=/usr/share/jenkins/ref/casc" in text
    assert 'VOLUME ["/tmp", "/var/cache/jenkins"]' in text


def test_the_agent_carries_dockyard(tmp_path: Path) -> None:
    context = write_agent_context(tmp_path / "agent")
    assert (context / "dockyard" / "cli" / "__init__.py").exists()
    assert not list(context.rglob("__pycache__"))
    assert not (context / "requirements.txt").exists(), "nothing installed from ranges"
    assert (context / "requirements.lock").read_text() == LOCK.read_text()
    assert "COPY dockyard /opt/dockyard/lib/dockyard" in dockerfile("agent")
    assert "pip install --no-cache-dir --require-hashes --no-deps \\\n" \
           "       --requirement /opt/dockyard/requirements.lock" in dockerfile("agent")


def test_the_agents_lock_pins_every_runtime_dependency_by_hash() -> None:
    """Each of pyproject.toml's runtime dependencies is pinned inside its range, and every pin
    carries the SHA-256 of its files (pip refuses the image build otherwise). `make lock`
    refreshes it."""
    from packaging.requirements import Requirement
    from packaging.version import Version

    text = LOCK.read_text()
    pinned = pins(text)
    for line in runtime_requirements():
        requirement = Requirement(line)
        name = requirement.name.lower().replace("_", "-")
        assert name in pinned, f"{name} is not in the lock: run make lock"
        assert Version(pinned[name]) in requirement.specifier, \
            f"{name}=={pinned[name]} is outside {requirement.specifier}: run make lock"
    blocks = [b for b in re.split(r"\n(?=[A-Za-z0-9])", text) if "==" in b]
    # one block per pin; a package may have one pin per Python (networkx ; python_version)
    assert len(blocks) == len(re.findall(r"^[A-Za-z0-9._-]+==", text, re.MULTILINE)) >= \
        len(pinned)
    for block in blocks:
        assert re.search(r"--hash=sha256:[0-9a-f]{64}", block), block.splitlines()[0]


def context_hash(folder: Path) -> str:
    import io

    return pack(scan(folder), io.BytesIO())[0]


def test_contexts_are_deterministic_and_follow_the_config(tmp_path: Path) -> None:
    cfg = example_config()
    first = context_hash(write_controller_context(cfg, tmp_path / "a"))
    again = context_hash(write_controller_context(cfg, tmp_path / "b"))
    other = example_config(("  host: jenkins", "  host: ci"))
    changed = context_hash(write_controller_context(other, tmp_path / "c"))
    resized = example_config(("    count: 1                     # for untrusted", "    count: 7 #"))
    assert first == again
    assert changed != first
    # the pool's size is the agents' service's business: resizing it rebuilds no image
    assert context_hash(write_controller_context(resized, tmp_path / "f")) == first
    agent = context_hash(write_agent_context(tmp_path / "d"))
    assert agent == context_hash(write_agent_context(tmp_path / "e"))


class Tools:
    """Image tools over a pretend registry: tags it holds, builds it ran."""

    def __init__(self) -> None:
        self.registry: dict[tuple[str, str], str] = {}
        self.builds: list[tuple[str, str]] = []

    def environment(self, builder_outputs: dict[str, str]) -> BuildEnvironment:
        return BuildEnvironment(cluster=builder_outputs["ClusterArn"], subnets=["subnet-a"],
                                security_group="sg-b", assign_public_ip=True,
                                task_definitions={"amd64": "td"}, bucket="ctx",
                                log_group="/builds", registry="123.dkr.ecr.x.amazonaws.com",
                                project="acme")

    def upload(self, folder: Path, env: BuildEnvironment) -> Source:
        return Source(kind="local", description=str(folder),
                      context=f"s3://ctx/contexts/{context_hash(folder)}.tar.gz")

    def existing(self, repository: str, tag: str) -> str | None:
        return self.registry.get((repository, tag))

    def build(self, env: BuildEnvironment, request: BuildRequest,
              destination: Destination) -> object:
        tools = self

        class Built:
            def run(self, build_id: str, source: Source, started: float) -> BuildResult:
                assert destination.ecr_repository is not None
                digest = f"sha256:{len(tools.builds):064d}"
                tools.builds.append((destination.ecr_repository, request.tags[0]))
                tools.registry[(destination.ecr_repository, request.tags[0])] = digest
                return BuildResult(build_id=build_id, destination=destination, tags=[],
                                   outcomes=[], source=source, log_group="/builds",
                                   digest=digest)
        return Built()


OUTPUTS = {"builder": {"ClusterArn": "arn:cluster", "AgentSecurityGroupId": "sg-a",
                       "AgentExecutionRoleArn": "arn:exec", "AgentTaskRoleArn": "arn:task",
                       "AgentLogGroup": "/agents"}}


def test_images_are_built_once_and_reused_until_their_context_changes() -> None:
    tools = Tools()
    notes = Notes()
    first = JenkinsImages(example_config(), tools, FakeClock(), notes)  # type: ignore[arg-type]
    images = first.images(OUTPUTS)
    assert [repo for repo, _ in tools.builds] == ["acme/jenkins-agent", "acme/jenkins-controller"]
    assert images["jenkins-controller"].startswith(
        "123.dkr.ecr.x.amazonaws.com/acme/jenkins-controller@sha256:")
    assert all(tag.startswith("ctx-") for _, tag in tools.builds)

    again = JenkinsImages(example_config(), tools, FakeClock(), notes)  # type: ignore[arg-type]
    assert again.images(OUTPUTS) == images
    assert len(tools.builds) == 2, "nothing built the second time"
    assert any("unchanged" in note for note in notes)

    other = example_config(("  host: jenkins", "  host: ci"))
    changed = JenkinsImages(other, tools, FakeClock(), notes)  # type: ignore[arg-type]
    new_images = changed.images(OUTPUTS)
    assert [repo for repo, _ in tools.builds[2:]] == ["acme/jenkins-controller"], \
        "a JCasC change rebuilds the controller only"
    assert new_images["jenkins-controller"] != images["jenkins-controller"]
