"""Who gets what from the load balancer: a request played against the live security group and
HTTPS listener rules of an emulated account, as an Application Load Balancer decides.

moto stores a listener's rules but routes nothing; tests that ask "who reaches this path"
read the answer here, from what CloudFormation actually created. What it follows:

- Amazon VPC User Guide, "Security group rules": a security group admits a connection that an
  inbound rule allows (protocol, port range and source CIDR); there are no deny rules.
- ELB User Guide, "Listener rules for your Application Load Balancer": "Rules are evaluated in
  priority order, from the lowest value to the highest value. The default rule is evaluated
  last"; a rule acts when all its conditions match, and a condition matches when any of its
  values does.
- Its condition types: ``host-header`` is "not case-sensitive" and takes the wildcards ``*``
  and ``?``; ``path-pattern`` "is case-sensitive", takes the same wildcards and "is applied only
  to the path of the URL, not to its query parameters"; ``http-request-method`` is
  case-sensitive and exact; ``source-ip`` matches the client's address (IPv4 or IPv6) against
  CIDR blocks, "the IP address of the client", not X-Forwarded-For; ``http-header`` names are
  not case-sensitive and its values are matched like host names.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Answer:
    """What the load balancer does with a request: ``forward`` to ``target_group`` (an ARN), or
    answer ``status`` itself (a fixed response), or ``refused``: the security group drops the
    connection."""

    kind: str  # "forward", "fixed-response", "redirect" or "refused"
    target_group: str = ""
    status: int = 0


def answer(elbv2: Any, ec2: Any, load_balancer_arn: str, *, source: str, url: str,
           method: str = "GET", headers: dict[str, str] | None = None) -> Answer:
    """What the load balancer ``load_balancer_arn`` does with ``method url`` from the client
    address ``source`` (clients of boto3 ``elbv2`` and ``ec2`` reading the account)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    balancer = elbv2.describe_load_balancers(
        LoadBalancerArns=[load_balancer_arn])["LoadBalancers"][0]
    if not _admitted(ec2, balancer.get("SecurityGroups", []), source, port):
        return Answer("refused")
    listener = next((listener for listener in elbv2.describe_listeners(
        LoadBalancerArn=load_balancer_arn)["Listeners"] if listener["Port"] == port), None)
    if listener is None:
        return Answer("refused")  # nothing listens: the connection is reset
    rules = elbv2.describe_rules(ListenerArn=listener["ListenerArn"])["Rules"]
    request = _Request(source, (parts.hostname or "").lower(), parts.path or "/", method,
                       {k.lower(): v for k, v in (headers or {}).items()})
    ordered = sorted((r for r in rules if not r.get("IsDefault")),
                     key=lambda r: int(r["Priority"]))
    default = [r for r in rules if r.get("IsDefault")]
    for rule in [*ordered, *default]:
        if all(_holds(condition, request) for condition in rule.get("Conditions", [])):
            return _act(rule["Actions"])
    return Answer("fixed-response", status=404)


@dataclass(frozen=True)
class _Request:
    source: str
    host: str
    path: str
    method: str
    headers: dict[str, str]


def _admitted(ec2: Any, groups: list[str], source: str, port: int) -> bool:
    if not groups:
        return True
    address = ipaddress.ip_address(source)
    for group in ec2.describe_security_groups(GroupIds=groups)["SecurityGroups"]:
        for rule in group.get("IpPermissions", []):
            protocol = str(rule.get("IpProtocol"))
            if protocol not in ("-1", "tcp"):
                continue
            if protocol == "tcp" and not rule["FromPort"] <= port <= rule["ToPort"]:
                continue
            blocks = [r["CidrIp"] for r in rule.get("IpRanges", [])] + \
                [r["CidrIpv6"] for r in rule.get("Ipv6Ranges", [])]
            if any(address in ipaddress.ip_network(block) for block in blocks
                   if ipaddress.ip_network(block).version == address.version):
                return True
    return False


def _values(condition: dict[str, Any], config: str) -> list[str]:
    found = condition.get(config, {}).get("Values") or condition.get("Values") or []
    return [str(v) for v in found]


def _holds(condition: dict[str, Any], request: _Request) -> bool:
    field = condition["Field"]
    if field == "host-header":
        return any(_wildcard(v.lower(), request.host) for v in
                   _values(condition, "HostHeaderConfig"))
    if field == "path-pattern":
        return any(_wildcard(v, request.path) for v in _values(condition, "PathPatternConfig"))
    if field == "http-request-method":
        return request.method in _values(condition, "HttpRequestMethodConfig")
    if field == "source-ip":
        address = ipaddress.ip_address(request.source)
        return any(address in network for network in
                   map(ipaddress.ip_network, _values(condition, "SourceIpConfig"))
                   if network.version == address.version)
    if field == "http-header":
        config = condition.get("HttpHeaderConfig", {})
        value = request.headers.get(str(config.get("HttpHeaderName", "")).lower())
        return value is not None and any(_wildcard(v.lower(), value.lower())
                                         for v in config.get("Values", []))
    raise ValueError(f"the listener model does not know the condition {field!r}")


def _wildcard(pattern: str, value: str) -> bool:
    """``*`` any run of characters (``/`` included), ``?`` exactly one; nothing else special."""
    return re.fullmatch(fnmatch.translate(pattern.replace("[", "[[]")), value) is not None


def _act(actions: list[dict[str, Any]]) -> Answer:
    action = sorted(actions, key=lambda a: int(a.get("Order", 1)))[-1]
    kind = action["Type"]
    if kind == "forward":
        group = action.get("TargetGroupArn") or \
            action.get("ForwardConfig", {}).get("TargetGroups", [{}])[0].get("TargetGroupArn", "")
        return Answer("forward", target_group=str(group))
    if kind == "fixed-response":
        return Answer("fixed-response", status=int(action["FixedResponseConfig"]["StatusCode"]))
    if kind == "redirect":
        return Answer("redirect", status=int(str(
            action["RedirectConfig"]["StatusCode"]).removeprefix("HTTP_")))
    return Answer(kind)
