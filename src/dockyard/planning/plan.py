"""``dockyard plan``: render every stack, write it, validate it, and summarise the platform.

Offline by design: no credentials, no AWS calls. What needs the account (the default VPC, the
hosted zone, built image digests) appears as stack parameters that ``dockyard up`` fills in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dockyard.config import LoadedConfig
from dockyard.config.kinds import behind_load_balancer
from dockyard.errors import DockyardError
from dockyard.jenkins.casc import render_yaml
from dockyard.planning.cost import CostEstimate, estimate
from dockyard.planning.identities import Identity, identities
from dockyard.planning.lint import Finding, lint_templates
from dockyard.planning.posture import Door, Exposure, doors, exposures
from dockyard.templates import Built, Discovered, FromStack, Input, Retained, render_stacks


@dataclass(frozen=True)
class StackSummary:
    """One stack in the plan: what it holds and where its template was written."""

    key: str
    name: str
    resources: int
    resource_types: dict[str, int]
    parameters: dict[str, str]
    path: Path


@dataclass(frozen=True)
class Endpoint:
    """A public URL the platform serves."""

    name: str
    url: str


@dataclass(frozen=True)
class Plan:
    """Everything ``dockyard plan`` found, ready to render as text or JSON."""

    project: str
    region: str
    source: str
    network_mode: str
    out_dir: Path
    stacks: list[StackSummary]
    endpoints: list[Endpoint]
    exposures: list[Exposure]
    cost: CostEstimate
    doors: list[Door] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    identities: list[Identity] = field(default_factory=list)
    jenkins_config: Path | None = None
    linted: bool = True

    @property
    def errors(self) -> list[Finding]:
        """The findings that make the plan invalid."""
        return [f for f in self.findings if f.is_error]


def make_plan(loaded: LoadedConfig, out_dir: Path,
              on_progress: Callable[[str], None] = lambda _: None, *, lint: bool = True) -> Plan:
    """Render, write and (unless ``lint`` is false) lint every stack of ``loaded.config`` into
    ``out_dir``."""
    cfg = loaded.config
    stacks = render_stacks(cfg)
    bodies = {s.name: s.to_dict() for s in stacks}
    summaries: list[StackSummary] = []
    for stack in stacks:
        path = out_dir / f"{stack.name}.json"
        _write(path, stack.to_json())
        resources = bodies[stack.name].get("Resources", {})
        summaries.append(StackSummary(
            key=stack.key, name=stack.name, resources=len(resources),
            resource_types=dict(Counter(r["Type"] for r in resources.values())),
            parameters={name: _describe_input(source, cfg.name)
                        for name, source in stack.inputs.items()},
            path=path))
    removed = _remove_stale(out_dir, cfg.name, {s.path for s in summaries})
    jenkins_config = None
    if not cfg.jenkins.image:  # with its own image, Jenkins brings its own configuration
        jenkins_config = out_dir / f"{cfg.name}-jenkins.casc.yaml"
        _write(jenkins_config, render_yaml(cfg))

    findings = lint_templates(bodies, cfg.region, on_progress) if lint else []

    endpoints = [Endpoint("jenkins", cfg.url(cfg.jenkins.host))]
    endpoints += [Endpoint(name, cfg.url(app.host or name)) for name, app in cfg.apps.items()
                  if behind_load_balancer(app)]
    return Plan(project=cfg.name, region=cfg.region, source=loaded.source,
                network_mode=cfg.network.mode, out_dir=out_dir, stacks=summaries,
                endpoints=endpoints, exposures=exposures(bodies), doors=doors(bodies),
                cost=estimate(cfg),
                findings=findings, removed=removed, jenkins_config=jenkins_config,
                identities=identities(bodies), linted=lint)


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise DockyardError(f"cannot write {path}: {err.strerror or err}",
                            hint="choose another directory with --out") from None


def _describe_input(source: Input, project: str) -> str:
    """Where a parameter's value comes from, as ``up`` will resolve it."""
    if isinstance(source, FromStack):
        return f"output {source.output} of {project}-{source.stack}"
    if isinstance(source, Discovered):
        return f"looked up at deploy: {source.fact}"
    if isinstance(source, Built):
        return f"built at deploy: image {source.image}"
    if isinstance(source, Retained):
        return f"adopted at deploy if an earlier dockyard down kept it: {source.kind} " \
               f"{source.name}"
    return source.value


def _remove_stale(out_dir: Path, project: str, keep: set[Path]) -> list[Path]:
    """Delete templates of this project's stacks that no longer exist (an app was removed)."""
    stale = [p for p in sorted(out_dir.glob(f"{project}-*.json")) if p not in keep]
    for path in stale:
        path.unlink()
    return stale
