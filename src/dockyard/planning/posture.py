"""What is open to whom, read from the rendered templates themselves (not from the config), so
the summary shows exactly what CloudFormation will create.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from dockyard.names import Out

# Security groups that come into a stack as parameters, by parameter name.
_PARAMETER_GROUPS = {"LoadBalancerSecurityGroupId": "load balancer",
                     Out.AGENT_SECURITY_GROUP_ID: "Jenkins agents"}
_DESCRIPTION = re.compile(r"^dockyard \S+ (?P<label>[^:]+):")


@dataclass(frozen=True)
class Exposure:
    """One way in: ``target`` accepts ``ports`` from ``source``; ``note`` says what for."""

    target: str
    ports: str
    source: str
    note: str


def exposures(templates: dict[str, dict[str, Any]]) -> list[Exposure]:
    """Every ingress rule across the templates, and every group that accepts nothing."""
    found: list[Exposure] = []
    closed: list[str] = []
    for template in templates.values():
        resources = template.get("Resources", {})
        labels = {name: _label(name, r) for name, r in resources.items()
                  if r["Type"] == "AWS::EC2::SecurityGroup"}
        has_ingress: set[str] = set()
        for name, resource in resources.items():
            props = resource.get("Properties", {})
            if resource["Type"] == "AWS::EC2::SecurityGroup":
                for rule in props.get("SecurityGroupIngress", []):
                    found.append(_exposure(labels[name], rule, labels))
                    has_ingress.add(name)
            elif resource["Type"] == "AWS::EC2::SecurityGroupIngress" and \
                    "Condition" not in resource:  # conditional: not on a first `up`
                group = _ref(props.get("GroupId"))
                found.append(_exposure(labels.get(group, group or "?"), props, labels))
                has_ingress.add(group or "")
        closed += [label for name, label in labels.items() if name not in has_ingress]
    found += [Exposure(label, "none", "nobody", "no inbound rules") for label in closed]
    return list(dict.fromkeys(found))


def _label(name: str, resource: dict[str, Any]) -> str:
    description = resource.get("Properties", {}).get("GroupDescription", "")
    if isinstance(description, dict):  # {"Fn::Sub": "dockyard acme app web: port ${...}"}
        description = description.get("Fn::Sub", "")
    match = _DESCRIPTION.match(description) if isinstance(description, str) else None
    return match.group("label") if match else name


def _ref(value: Any) -> str | None:
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    return None


def _exposure(target: str, rule: dict[str, Any], labels: dict[str, str]) -> Exposure:
    protocol = str(rule.get("IpProtocol", "-1"))
    if protocol == "-1":
        ports = "all traffic"
    else:
        low, high = rule.get("FromPort"), rule.get("ToPort")
        ports = f"{protocol}/{low}" if low == high else f"{protocol}/{low}-{high}"
    if "CidrIp" in rule or "CidrIpv6" in rule:
        cidr = str(rule.get("CidrIp") or rule.get("CidrIpv6"))
        source = f"{cidr} (anyone)" if cidr.endswith("/0") else cidr
    else:
        group = _ref(rule.get("SourceSecurityGroupId")) or "?"
        source = _PARAMETER_GROUPS.get(group) or labels.get(group, group)
    return Exposure(target, ports, source, str(rule.get("Description", "")))


@dataclass(frozen=True)
class Door:
    """One rule of the load balancer's HTTPS listener, read back: requests for ``host`` on
    ``paths`` from ``source`` get ``answer``; ``priority`` orders them (the lowest that
    matches acts)."""

    host: str
    paths: str
    source: str
    answer: str
    priority: int


def doors(templates: dict[str, dict[str, Any]]) -> list[Door]:
    """Every listener rule across the templates, by host and then in the order the load
    balancer evaluates them."""
    found = []
    for stack, template in templates.items():
        owner = "Jenkins" if stack.endswith("-jenkins") else \
            "app " + stack.split("-app-", 1)[1] if "-app-" in stack else stack
        for resource in template.get("Resources", {}).values():
            if resource["Type"] != "AWS::ElasticLoadBalancingV2::ListenerRule" or \
                    "Condition" in resource:
                continue
            props = resource["Properties"]
            values = {c["Field"]: _condition_values(c) for c in props.get("Conditions", [])}
            (action,) = props["Actions"]
            if action["Type"] == "fixed-response":
                answer = f"answered {action['FixedResponseConfig']['StatusCode']}"
            else:
                answer = f"to {owner}"
            if "http-header" in values:
                answer += " (with the test header)"
            if "http-request-method" in values:
                answer += f" ({', '.join(values['http-request-method'])} only)"
            found.append(Door(", ".join(values.get("host-header", ["any host"])),
                              ", ".join(values.get("path-pattern", ["every path"])),
                              ", ".join(values.get("source-ip", [])) or "anyone",
                              answer, int(props["Priority"])))
    return sorted(found, key=lambda d: (d.host, d.priority))


def _condition_values(condition: dict[str, Any]) -> list[str]:
    for key, value in condition.items():
        if key.endswith("Config") and isinstance(value, dict):
            return [str(v) for v in value.get("Values", [])]
    return [str(v) for v in condition.get("Values", [])]
