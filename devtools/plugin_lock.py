"""Writes the controller's plugin lock (src/dockyard/jenkins/controller/plugins.lock).

    .venv/bin/python -m devtools.plugin_lock MIRRORS

A maintainer's tool, not run by the tests: it reads the plugins' own sources, which must be
on disk as git mirrors under MIRRORS (``<MIRRORS>/jenkinsci+<repo>/repo``, as the project's
``fetch`` tool leaves them), and no update center.

- Versions: the top-level plugins of plugins.txt at the versions written there; every other
  plugin at the version the Jenkins plugin BOM (jenkinsci/bom: bom-weekly, with the overrides
  of the LTS line's module, e.g. bom-2.568.x) manages. The BOM's sets are tested together
  against that line (its plugin compatibility tests), which is what makes them a set.
- Dependencies: each plugin's pom at its release commit (a CD version ``N.v<hash>`` names its
  commit; a classic version its tag): compile-scope, non-optional dependencies on plugins.
  When the mirror predates the release, the pom of the newest commit is read instead and the
  entry says so ("newest stored source"); the image build then checks what jenkins-plugin-cli
  resolves against the lock, so a wrong guess fails the build rather than slipping through.
- Required core: the pom's ``jenkins.version`` (through ``jenkins.baseline`` and the parent
  analysis-pom where a plugin inherits it).

Each entry is written as comment lines (required core, source, needed by) and a
``name:version`` line, which is the format jenkins-plugin-cli reads.
"""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

NS = {"m": "http://maven.apache.org/POM/4.0.0"}
CONTROLLER = Path(__file__).resolve().parent.parent / "src/dockyard/jenkins/controller"
BOM_LINE = "bom-2.568.x"
# plugin -> (repository, pom path); the rest are jenkinsci/<name>-plugin with a root pom
REPOSITORIES = {
    "configuration-as-code": ("configuration-as-code-plugin", "plugin/pom.xml"),
    "swarm": ("swarm-plugin", "plugin/pom.xml"),
    "workflow-cps": ("workflow-cps-plugin", "plugin/pom.xml"),
    "job-dsl": ("job-dsl-plugin", "job-dsl-plugin/pom.xml"),
    "mina-sshd-api-common": ("mina-sshd-api-plugin", "mina-sshd-api-common/pom.xml"),
    "mina-sshd-api-core": ("mina-sshd-api-plugin", "mina-sshd-api-core/pom.xml"),
    **{name: ("pipeline-model-definition-plugin", f"{name}/pom.xml") for name in (
        "pipeline-model-definition", "pipeline-model-api", "pipeline-model-extensions",
        "pipeline-stage-tags-metadata")},
}
# Plugins whose source is not stored here: what their plugin site page says.
FROM_SITE = {"woodstox-core-api": ("2.479.1", "plugins.jenkins.io/woodstox-core-api (7.x)")}


MISSING: set[str] = set()  # repositories without a mirror, reported together


@dataclass
class Entry:
    name: str
    version: str
    core: str = "?"
    source: str = ""
    needs: list[str] = field(default_factory=list)
    needed_by: set[str] = field(default_factory=set)


def _git(repo: Path, *args: str) -> str | None:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=False)
    return done.stdout if done.returncode == 0 else None


def _pom(repo: Path, commit: str, path: str) -> ET.Element | None:
    text = _git(repo, "show", f"{commit}:{path}")
    return ET.fromstring(text) if text else None


def _properties(root: ET.Element) -> dict[str, str]:
    found = root.find("m:properties", NS)
    return {c.tag.split("}")[1]: (c.text or "").strip() for c in found} if found is not None \
        else {}


def _resolved(value: str, properties: dict[str, str]) -> str:
    for _ in range(5):
        value = re.sub(r"\$\{([^}]+)\}", lambda m: properties.get(m.group(1), m.group(0)), value)
    return value


def release_commit(repo: Path, name: str, version: str) -> str | None:
    """The commit a version was released from, if the mirror holds it."""
    cd = re.search(r"\.v([0-9a-f_]+)$", version)
    candidates = [cd.group(1).replace("_", "")] if cd else \
        [f"{name}-{version}", f"v{version}", version, f"{name}-plugin-{version}"]
    for candidate in candidates:
        found = _git(repo, "rev-parse", "--verify", "-q", candidate + "^{commit}")
        if found:
            return found.strip()
    return None


def read(mirrors: Path, entry: Entry, plugins: set[str]) -> None:
    """Fill in the entry's required core, source and plugin dependencies."""
    if entry.name in FROM_SITE:
        entry.core, entry.source = FROM_SITE[entry.name]
        return
    repository, path = REPOSITORIES.get(entry.name, (f"{entry.name}-plugin", "pom.xml"))
    if entry.name.startswith("aws-java-sdk2-"):  # one repository, a module per plugin
        repository, path = "aws-java-sdk2-plugin", f"{entry.name}/pom.xml"
    repo = mirrors / f"jenkinsci+{repository}" / "repo"
    if not repo.is_dir():
        MISSING.add(f"jenkinsci/{repository}")
        return
    commit = release_commit(repo, entry.name, entry.version)
    exact = commit is not None
    commit = commit or (_git(repo, "rev-parse", "HEAD") or "").strip()
    root = _pom(repo, commit, path)
    if root is None:
        raise SystemExit(f"no {path} at {commit} in jenkinsci/{repository}")
    properties = _properties(_pom(repo, commit, "pom.xml") or root) if path != "pom.xml" else {}
    properties.update(_properties(root))
    core = properties.get("jenkins.version") or _parent_core(mirrors, root)
    entry.core = _resolved(core, properties)
    where = f"jenkinsci/{repository}@{commit[:12]}"
    entry.source = f"pom at the release commit, {where}" if exact else \
        f"pom of the newest stored source, {where} (the release is newer)"
    for dependency in root.findall("m:dependencies/m:dependency", NS):
        artifact = dependency.findtext("m:artifactId", "", NS)
        if dependency.findtext("m:scope", "compile", NS) in ("test", "provided", "import") or \
                dependency.findtext("m:optional", "false", NS).strip() == "true":
            continue
        if artifact in plugins:
            entry.needs.append(artifact)


def _parent_core(mirrors: Path, root: ET.Element) -> str:
    parent = root.find("m:parent", NS)
    if parent is None or parent.findtext("m:artifactId", "", NS) != "analysis-pom":
        return "?"
    repo = mirrors / "jenkinsci+analysis-pom-plugin" / "repo"
    version = parent.findtext("m:version", "", NS)
    commit = release_commit(repo, "analysis-pom", version) or "HEAD"
    pom = _pom(repo, commit, "pom.xml")
    return _resolved(_properties(pom).get("jenkins.version", "?"), _properties(pom)) if pom \
        is not None else "?"


def bom_versions(mirrors: Path) -> dict[str, str]:
    """Plugin versions the BOM manages for the LTS line."""
    bom = mirrors / "jenkinsci+bom" / "repo"
    versions: dict[str, str] = {}
    for module in ("bom-weekly", BOM_LINE):
        root = ET.fromstring(_git(bom, "show", f"HEAD:{module}/pom.xml") or "")
        properties = _properties(root)
        for d in root.findall("m:dependencyManagement/m:dependencies/m:dependency", NS):
            if d.findtext("m:classifier", None, NS) or d.findtext("m:type", "", NS) == "pom":
                continue
            versions[d.findtext("m:artifactId", "", NS)] = _resolved(
                d.findtext("m:version", "", NS), properties)
    return versions


def top_level() -> dict[str, str]:
    lines = (CONTROLLER / "plugins.txt").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if line.strip() and not line.startswith("#"))


def lock(mirrors: Path) -> list[Entry]:
    chosen = top_level()
    versions = {**bom_versions(mirrors), **chosen}
    entries: dict[str, Entry] = {}
    queue = list(chosen)
    while queue:
        name = queue.pop(0)
        if name in entries:
            continue
        entry = entries[name] = Entry(name, versions[name])
        read(mirrors, entry, set(versions))
        queue += entry.needs
    for entry in entries.values():
        for needed in entry.needs:
            entries[needed].needed_by.add(entry.name)
    return sorted(entries.values(), key=lambda e: e.name)


def render(entries: list[Entry], core: str) -> str:
    lines = [f"# Every plugin the controller installs, transitive ones included, for Jenkins "
             f"{core}.",
             "# Written by devtools/plugin_lock.py from the plugins' sources (see its docstring);",
             "# the image build refuses any difference from it and any security warning.", ""]
    for e in entries:
        lines += [f"# {e.name}: requires Jenkins {e.core}; {e.source}",
                  f"#   needs: {', '.join(sorted(e.needs)) or '-'}; needed by: "
                  f"{', '.join(sorted(e.needed_by)) or '(top level)'}",
                  f"{e.name}:{e.version}"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    dockerfile = (CONTROLLER / "Dockerfile").read_text()
    pinned = re.search(r"^FROM jenkins/jenkins:([\d.]+)-", dockerfile, re.MULTILINE)
    assert pinned, "the Dockerfile names no jenkins/jenkins version"
    entries = lock(Path(sys.argv[1]))
    if MISSING:
        raise SystemExit("fetch these first: " + " ".join(sorted(MISSING)))
    (CONTROLLER / "plugins.lock").write_text(render(entries, pinned.group(1)))
