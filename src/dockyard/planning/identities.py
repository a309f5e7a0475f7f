"""Who may do what, read from the rendered templates themselves (as posture.py reads what is
open to whom): every IAM role, who can get it, the actions its policies allow and where.

``dockyard plan`` prints it, and the README's "Security model" table is this, for the bundled
example (tests/project/test_docs.py holds the two equal): the table cannot claim less than the
policies allow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_PSEUDO = {"${AWS::Partition}": "aws", "${AWS::Region}": "", "${AWS::AccountId}": ""}


@dataclass(frozen=True)
class Identity:
    """One IAM role of the platform."""

    role: str  # its name, or the stack and logical id when CloudFormation names it
    purpose: str  # what the role is for, from its description
    granted_to: str  # who can assume it
    actions: tuple[str, ...]  # every action an Allow names, sorted
    scope: tuple[str, ...]  # where, as the policies narrow it (resources and conditions)


def identities(templates: dict[str, dict[str, Any]]) -> list[Identity]:
    """Every role across ``templates`` (stack name -> template), in stack order."""
    found = []
    for stack, template in templates.items():
        for logical_id, resource in template.get("Resources", {}).items():
            if resource.get("Type") != "AWS::IAM::Role":
                continue
            props = resource["Properties"]
            statements = [s for policy in props.get("Policies", [])
                          for s in policy["PolicyDocument"]["Statement"]
                          if s.get("Effect") == "Allow"]
            name = props.get("RoleName") or f"{stack}/{logical_id}"
            description = str(props.get("Description", ""))
            scope = [part for s in statements for part in _scope(s)]
            found.append(Identity(
                role=name, purpose=description.split(": ", 1)[-1],
                granted_to=_granted_to(props["AssumeRolePolicyDocument"]),
                actions=tuple(sorted({a for s in statements for a in _list(s["Action"])})),
                scope=tuple(dict.fromkeys(scope))))
    return found


def grouped(actions: tuple[str, ...]) -> str:
    """``ecs: RunTask, StopTask; s3: GetObject`` from ``ecs:RunTask``, ..."""
    services: dict[str, list[str]] = {}
    for action in actions:
        service, _, name = action.partition(":")
        services.setdefault(service, []).append(name)
    return "; ".join(f"{service}: {', '.join(names)}" for service, names in services.items())


def _granted_to(trust: dict[str, Any]) -> str:
    (statement,) = trust["Statement"]
    principal = statement["Principal"]
    if "Service" in principal:
        service = str(principal["Service"])
        return {"ecs-tasks.amazonaws.com": "ECS tasks",
                "ecs.amazonaws.com": "ECS itself (load balancing)"}.get(service, service)
    conditions = statement.get("Condition", {})
    subjects = [v for block in conditions.values() for key, v in block.items()
                if key.endswith(":sub")]
    names = [s for value in subjects for s in _list(value)]
    return "Jenkins tokens of " + ", ".join(names)


def _scope(statement: dict[str, Any]) -> list[str]:
    resources = [r for r in (_resource(x) for x in _list(statement.get("Resource"))) if r]
    conditions = [f"{key.split('/', 1)[-1]}={_short(value)}"
                  for block in statement.get("Condition", {}).values()
                  for key, value in block.items()
                  if key.startswith(("aws:RequestTag/", "aws:ResourceTag/"))]
    if resources == ["*"] and not conditions:  # AWS gives these actions no resource to name
        names = ", ".join(a.split(":", 1)[1] for a in _list(statement["Action"]))
        return [f"* ({names})"]
    return [r for r in resources if r != "*"] + [f"tagged {c}" for c in conditions]


def _resource(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Sub" in value:
        text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
        for pseudo, stand_in in _PSEUDO.items():
            text = text.replace(pseudo, stand_in)
        if text.startswith("arn:"):  # the resource part: after service, region and account
            text = text.split(":", 5)[5] if not text.startswith("arn:aws:s3:::") else \
                text.removeprefix("arn:aws:s3:::")
        return re.sub(r"\$\{([^}.]+)(\.Arn)?\}", r"\1", text)
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"]).removesuffix("Arn")
    return str(value)


def _short(value: Any) -> str:
    return "|".join(str(v) for v in _list(value))


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def markdown_table(found: list[Identity]) -> str:
    """The identities as the README's table: role, who gets it, what for, what it may do and
    where."""
    rows = ["| role | granted to | for | may | only on |", "|---|---|---|---|---|"]
    for identity in found:
        cells = [f"`{identity.role}`", identity.granted_to, identity.purpose,
                 grouped(identity.actions) or "nothing",
                 ", ".join(f"`{s}`" for s in identity.scope) or "-"]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"
