"""What the next ``dockyard deploy`` of an app would change in its running task definition.

The app stacks hold no task definition (deploys register them through the ECS API), so a
change set cannot show an edited ``env``, ``cpu`` or ``memory``: it lands only with the next
deploy. ``dockyard diff`` compares what is running with what dockyard.yml says, field by field,
as ecspresso's diff does: ``env.LOG_LEVEL: info -> debug``. Secrets are compared by name
only; their values are never read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dockyard.config.models import Config

ABSENT = "(none)"


@dataclass(frozen=True)
class FieldChange:
    """One field of the task definition: what runs, and what the next deploy registers."""

    field: str
    before: str
    after: str

    def document(self) -> dict[str, str]:
        return {"field": self.field, "before": self.before, "after": self.after}


def app_changes(cfg: Config, app: str, running: dict[str, Any]) -> list[FieldChange]:
    """The differences between ``running`` (DescribeTaskDefinition's taskDefinition) and
    ``cfg``'s app, in the fields dockyard.yml sets."""
    wanted = cfg.apps[app]
    containers = running.get("containerDefinitions") or [{}]
    container = next((c for c in containers if c.get("name") == app), containers[0])
    changes: list[FieldChange] = []

    def compare(field: str, before: str | None, after: str | None) -> None:
        if before != after:
            changes.append(FieldChange(field, ABSENT if before is None else before,
                                       ABSENT if after is None else after))

    compare("cpu", str(running.get("cpu")), str(wanted.cpu))
    compare("memory", str(running.get("memory")), str(wanted.memory))
    ports = [str(p.get("containerPort")) for p in container.get("portMappings", [])]
    compare("port", ports[0] if ports else None, str(wanted.port))
    architecture = (running.get("runtimePlatform") or {}).get("cpuArchitecture", "X86_64")
    compare("architecture", architecture,
            "ARM64" if cfg.builder.architectures == ["arm64"] else "X86_64")
    env = {e["name"]: e.get("value", "") for e in container.get("environment", [])}
    for name in sorted(set(env) | set(wanted.env)):
        compare(f"env.{name}", env.get(name), wanted.env.get(name))
    check = (container.get("healthCheck") or {}).get("command") or []
    compare("health_command", check[1] if check[:1] == ["CMD-SHELL"] and len(check) > 1
            else " ".join(check[1:]) or None, wanted.health_command)
    secrets = {s["name"] for s in container.get("secrets", [])}
    for name in sorted(secrets ^ set(wanted.secrets)):
        compare(f"secrets.{name}", "set" if name in secrets else None,
                "set" if name in wanted.secrets else None)
    return changes
