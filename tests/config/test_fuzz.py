"""A property-based fuzzer for dockyard.yml: whatever the file holds, loading it ends in a valid
config or a clear config error (exit 2) of short lines, never another exception; and a config
that loads renders into templates within AWS's quotas (docs/limits.md).

Seeded (derandomized), so CI runs the same few hundred examples every time.
"""

from __future__ import annotations

import copy
import ipaddress
import json
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dockyard.config import parse_config
from dockyard.config.limits import TEMPLATE_BODY_BYTES, TEMPLATE_COUNTS
from dockyard.config.models import Config
from dockyard.errors import ConfigError, ExitCode
from dockyard.templates import render_stacks
from tests.conftest import example_text

EXAMPLE: dict[str, Any] = yaml.safe_load(example_text())
# The example with every section present, so every field gets fuzzed.
FULL: dict[str, Any] = {
    **EXAMPLE,
    "network": {"mode": "create", "cidr": "10.0.0.0/16"},
    "edge": {**EXAMPLE["edge"], "hosted_zone_id": "Z123456ABCDEFG"},
    "jenkins": {**EXAMPLE["jenkins"], "storage_gib": 30, "log_retention_days": 30,
                "agents": {"cpu": 1024, "memory": 2048, "storage_gib": 30, "spot": True,
                           "count": 2, "log_retention_days": 7}},
    "builder": {**EXAMPLE["builder"], "mutable_tags": ["latest"], "log_retention_days": 14},
    "apps": {"web": {**EXAMPLE["apps"]["web"], "priority": 200, "log_retention_days": 30,
                     "secrets": {"DB_URL": "acme/db"}}},
}
SETTINGS = settings(max_examples=300, derandomize=True, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
LONGEST_PROBLEM = 400

# Values a user, a template engine or an attacker might put anywhere.
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["", " ", "0.0.0.0/0", "224.0.0.0/4", "127.0.0.1/32", "::/0", "10.0.0.0/33",
                     "ap-southeast-2", "xx-nowhere-1", "us-gov-west-1", "jenkins", "web-cache",
                     "a" * 64, "a" * 300, "x" * 5000, "${name}", "\x00", "é" * 40, "-1", "20",
                     "21", "1e9", "true", "null", "latest", "sha256:" + "0" * 64]),
    st.sampled_from([0, 1, 20, 21, 200, 201, 255, 256, 511, 512, 65535, 65536, 2**31, -1, True]),
)
_VALUES = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=8)


def _at(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*path, index))
    return found


_BASES = (EXAMPLE, FULL)
_BASE_PATHS = [[p for p in _paths(base) if p] for base in _BASES]
_BASE_LEAVES = [[p for p in _paths(base) if p and not isinstance(_at(base, p), dict | list)]
                for base in _BASES]
_BOUNDARIES = [0, 1, 2, 19, 20, 21, 30, 59, 60, 100, 101, 199, 200, 201, 256, 512, 1024, 1440,
               1441, 4096, 16384, 65535, 65536, 50000, 50001, -1, 2**63]


def _near(value: Any) -> st.SearchStrategy[Any]:
    """Values that keep the original's shape most of the time, at its edges."""
    if isinstance(value, bool):
        return st.one_of(st.booleans(), _SCALARS)
    if isinstance(value, int):
        edges = st.sampled_from(_BOUNDARIES)
        return st.one_of(edges, edges, edges, st.integers(-10, 70_000), _SCALARS)
    if isinstance(value, str):
        return st.one_of(
            st.builds(lambda n, sep: sep.join([value] * n), st.integers(1, 40),
                      st.sampled_from(["", "-", ".", "x"])),
            st.builds(lambda prefix: prefix + value, st.text(max_size=70)), _SCALARS)
    counts = st.sampled_from([0, 2, 29, 30, 31, 58, 59, 60, 61, 99, 100, 101, 150, 151, 201])
    if isinstance(value, list):
        return st.one_of(st.builds(lambda n: value * n, counts), _VALUES)
    if isinstance(value, dict):
        return st.one_of(
            st.builds(lambda n: {**value, **{f"{k}{i}": _copy(v) for i in range(n)
                                            for k, v in value.items()}}, counts),
            _VALUES)
    return _VALUES


def _copy(value: Any) -> Any:
    """A repeated entry, without what must be unique (an app's host and rule priority)."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k not in ("host", "priority")}
    return value


@st.composite
def mutated_examples(draw: st.DrawFn) -> str:
    """The example (or the full example) with a few values moved to their edges or replaced,
    keys added or removed, lists and mappings repeated."""
    which = draw(st.sampled_from(range(len(_BASES))))
    data = copy.deepcopy(_BASES[which])
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        action = draw(st.sampled_from(["near", "near", "near", "near", "delete", "add"]))
        paths = _BASE_LEAVES[which] if action == "near" and draw(st.booleans()) \
            else _BASE_PATHS[which]
        path = draw(st.sampled_from(paths))
        parent: Any = data
        try:
            for part in path[:-1]:
                parent = parent[part]
            if action == "near":
                parent[path[-1]] = draw(_near(parent[path[-1]]))
            elif action == "delete" and isinstance(parent, dict):
                del parent[path[-1]]
            elif action == "add" and isinstance(parent, dict):
                parent[draw(st.text(max_size=20))] = draw(_VALUES)
        except (KeyError, IndexError, TypeError):
            continue
    return yaml.dump(data, Dumper=_Plain, allow_unicode=True, sort_keys=False)


class _Plain(yaml.SafeDumper):
    """Writes repeated values out, as a person would, instead of as YAML aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


_INT_LEAVES = [[p for p in _paths(base) if p and type(_at(base, p)) is int] for base in _BASES]
_COLLECTIONS = [[p for p in _paths(base) if p and isinstance(_at(base, p), dict | list)]
                for base in _BASES]


@st.composite
def examples_at_the_edges(draw: st.DrawFn) -> str:
    """One or two numbers of the full example moved to the edges AWS and Fargate draw, and one
    list or mapping (apps, allowed_cidrs, secrets, jobs) repeated up to past its quota."""
    which = draw(st.sampled_from(range(len(_BASES))))
    data = copy.deepcopy(_BASES[which])
    for _ in range(draw(st.integers(min_value=1, max_value=2))):
        path = draw(st.sampled_from(_INT_LEAVES[which]))
        _at(data, path[:-1])[path[-1]] = draw(st.sampled_from(_BOUNDARIES))
    if draw(st.booleans()):
        path = draw(st.sampled_from(_COLLECTIONS[which]))
        value = _at(data, path)
        count = draw(st.sampled_from([2, 29, 30, 31, 58, 59, 60, 61, 150, 151, 201]))
        _at(data, path[:-1])[path[-1]] = value * count if isinstance(value, list) else \
            {**value, **{f"{k}{i}": _copy(v) for i in range(count) for k, v in value.items()}}
    return yaml.dump(data, Dumper=_Plain, allow_unicode=True, sort_keys=False)


_HOSTILE_TEXT = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=100).map(lambda b: b.decode("latin-1")),
    st.sampled_from([
        "!!python/object/apply:os.system ['true']\n", "name: !!binary aGk=\n",
        "a: &a [*a]\n", "? {a: 1}\n: 2\n", "[1, 2]\n", "--- 1\n--- 2\n", "%TAG ! tag:x,1:\n---\n",
        "name: acme\nname: acme\n", "\ufeffname: acme\n", "a: b: c\n", "*unknown\n",
        "a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        "e: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"]),
    mutated_examples().map(lambda text: text.replace("acme", "!!str acme", 1)),
)


def _load(text: str) -> Config | None:
    """The config, or None after checking the error is a clear config error."""
    try:
        cfg = parse_config(text, "dockyard.yml")
    except ConfigError as err:
        event("refused")
        assert err.exit_code == ExitCode.USAGE
        for problem in err.problems:
            assert problem.startswith("dockyard.yml"), problem
            assert len(problem) <= LONGEST_PROBLEM, problem[:200]
        return None
    event("accepted")
    return cfg


def _within_quotas(cfg: Config) -> None:
    """A config that loads renders into templates AWS takes: checked on the templates, as AWS
    reads them, not on the config (an oracle apart from the code under test)."""
    bodies = {stack.name: stack.to_dict() for stack in render_stacks(cfg)}
    load_balancer_rules = {"in4": 0, "in6": 0, "out": 0}
    for name, body in bodies.items():
        assert len(json.dumps(body, separators=(",", ":")).encode()) <= TEMPLATE_BODY_BYTES, name
        for section, most in TEMPLATE_COUNTS.items():
            assert len(body.get(section) or {}) <= most, (name, section)
        for logical_id, resource in body["Resources"].items():
            if "Condition" in resource:  # false on a first `up` (an app's port move)
                continue
            _aws_takes(logical_id, resource["Type"], resource.get("Properties", {}),
                       load_balancer_rules)
    # Amazon VPC quotas: 60 inbound (per IP version) and 60 outbound rules per security group.
    assert max(load_balancer_rules.values()) <= 60, load_balancer_rules


def _aws_takes(logical_id: str, kind: str, props: dict[str, Any], lb_rules: dict[str, int]) -> None:
    if kind == "AWS::ECS::TaskDefinition" and "EphemeralStorage" in props:
        assert 21 <= props["EphemeralStorage"]["SizeInGiB"] <= 200  # ECS: ephemeralStorage
    elif kind == "AWS::CertificateManager::Certificate":
        assert len(props["DomainName"]) <= 64  # ACM RequestCertificate
    elif kind == "AWS::ElasticLoadBalancingV2::ListenerRule":
        for condition in props["Conditions"]:
            for value in condition.get("HostHeaderConfig", {}).get("Values", []):
                assert len(value) <= 128  # ALB host-header condition
    elif kind == "AWS::EC2::VPC":
        network = ipaddress.ip_network(props["CidrBlock"])
        assert not (network.is_multicast or network.is_loopback or network.is_link_local
                    or network.is_reserved or network.overlaps(ipaddress.ip_network("0.0.0.0/8")))
    elif logical_id == "LoadBalancerSecurityGroup":
        for rule in props.get("SecurityGroupIngress", []):
            lb_rules["in6" if "CidrIpv6" in rule else "in4"] += 1
        pairs = [(r.get("CidrIp") or r.get("CidrIpv6"), r["FromPort"])
                 for r in props.get("SecurityGroupIngress", [])]
        assert len(pairs) == len(set(pairs))  # EC2: InvalidPermission.Duplicate
    elif kind == "AWS::EC2::SecurityGroupEgress" and \
            props["GroupId"] == {"Ref": "LoadBalancerSecurityGroupId"}:
        lb_rules["out"] += 1


@SETTINGS
@given(mutated_examples())
def test_a_mutated_example_loads_or_is_refused_clearly(text: str) -> None:
    cfg = _load(text)
    if cfg is not None:
        _within_quotas(cfg)


@pytest.mark.long
@settings(SETTINGS, max_examples=600)
@given(examples_at_the_edges())
def test_a_config_at_awss_edges_loads_only_if_aws_takes_it(text: str) -> None:
    cfg = _load(text)
    if cfg is not None:
        _within_quotas(cfg)


@SETTINGS
@given(_HOSTILE_TEXT)
def test_hostile_text_is_refused_clearly(text: str) -> None:
    cfg = _load(text)
    if cfg is not None:
        _within_quotas(cfg)
