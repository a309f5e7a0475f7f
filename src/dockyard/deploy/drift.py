"""What the next ``dockyard deploy`` of an app would change in its running task definition.

The app stacks hold no task definition (deploys register them through the ECS API), so a
change set cannot show an edited ``env``, ``cpu`` or ``memory``: it lands only with the next
deploy. ``dockyard diff`` compares what is running with what dockyard.yml says, field by field,
as ecspresso's diff does: ``env.LOG_LEVEL: info -> debug``. Secrets are compared by where
they come from (the secret's ARN or parameter), never by value; the service's desired count,
which every deploy sends, is compared too, and so is ECS Exec (apps.<name>.exec).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from dockyard.config.kinds import behind_load_balancer
from dockyard.config.models import Config
from dockyard.deploy.definition import LOG_STREAM_PREFIX, AppTarget, secret_value_from
from dockyard.errors import DockyardError

ABSENT = "(none)"


@dataclass(frozen=True)
class FieldChange:
    """One field of the task definition: what runs, and what the next deploy registers."""

    field: str
    before: str
    after: str

    def document(self) -> dict[str, str]:
        return {"field": self.field, "before": self.before, "after": self.after}


def app_changes(cfg: Config, app: str, running: dict[str, Any],
                target: AppTarget | None = None, *,
                desired: int | None = None,
                execute_command: bool | None = None,
                load_balanced: bool | None = None) -> list[FieldChange]:
    """The differences between ``running`` (DescribeTaskDefinition's taskDefinition) and
    what the next deploy registers from ``cfg`` (and, given the app's ``target``, from its
    stack: roles, log group, secret ARNs); with the service's ``desired`` count and
    ``execute_command`` (ECS Exec), those too, and with ``load_balanced`` (whether the
    service has target groups) the app's kind: a web app has them, a worker none."""
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
    compare("port", ports[0] if ports else None,
            None if wanted.port is None else str(wanted.port))
    architecture = (running.get("runtimePlatform") or {}).get("cpuArchitecture", "X86_64")
    compare("architecture", architecture,
            "ARM64" if cfg.builder.architectures == ["arm64"] else "X86_64")
    env = {e["name"]: e.get("value", "") for e in container.get("environment", [])}
    for name in sorted(set(env) | set(wanted.env)):
        compare(f"env.{name}", env.get(name), wanted.env.get(name))
    compare("command", json.dumps(container["command"]) if container.get("command") else None,
            json.dumps(list(wanted.command)) if wanted.command else None)
    compare("read_only_root", str(bool(container.get("readonlyRootFilesystem"))).lower(),
            str(wanted.read_only_root).lower())
    check = (container.get("healthCheck") or {}).get("command") or []
    compare("health_command", check[1] if check[:1] == ["CMD-SHELL"] and len(check) > 1
            else " ".join(check[1:]) or None, wanted.health_command)
    secrets = {s["name"]: s.get("valueFrom", "") for s in container.get("secrets", [])}
    for name in sorted(set(secrets) | set(wanted.secrets)):
        before, after = secrets.get(name), wanted.secrets.get(name)
        if target is None:  # without the stack's ARNs, by name only
            before, after = before and "set", after and "set"
        elif after is not None:
            after = _source(after, target, cfg.region)
        compare(f"secrets.{name}", before, after)
    if desired is not None and wanted.scale is None:  # with scale the scaler sets it
        compare("count", str(desired), str(wanted.count))
    if load_balanced is not None:
        compare("load_balancer", "target group" if load_balanced else ABSENT,
                "target group" if behind_load_balancer(wanted) else ABSENT)
    if execute_command is not None:
        compare("exec", str(execute_command).lower(), str(wanted.exec).lower())
    if target is not None:
        compare("task_role", running.get("taskRoleArn"), target.task_role)
        compare("execution_role", running.get("executionRoleArn"), target.execution_role)
        logs = (container.get("logConfiguration") or {}).get("options") or {}
        compare("log_group", logs.get("awslogs-group"), target.log_group)
        compare("log_stream_prefix", logs.get("awslogs-stream-prefix"), LOG_STREAM_PREFIX)
    return changes


def _source(ref: str, target: AppTarget, region: str) -> str:
    """Where a secret comes from as the next deploy registers it (its ARN), or as dockyard.yml
    names it when the app stack has not resolved it yet."""
    try:
        return secret_value_from(ref, target, region, target.secret_arns)
    except DockyardError:
        return ref
