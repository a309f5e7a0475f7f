"""AWS's limits that a dockyard.yml can break, known offline, each with the page it comes from.

``dockyard plan`` (and every command that loads a config) refuses a config past one of them with
exit 2 and the limit named, instead of letting CloudFormation, ECS or ACM refuse it halfway
through ``dockyard up``. docs/limits.md lists them as a table; a test keeps the two in step.
"""

from __future__ import annotations

import ipaddress
import json
from functools import cache
from importlib import resources

# -- the file itself ---------------------------------------------------------------------------
CONFIG_BYTES = 1_048_576
"""dockyard.yml may be at most 1 MiB (dockyard's own bound; a real one is a few KB)."""
YAML_ALIASES = 100
"""YAML aliases (``*name``) per file: enough for shared blocks, not for an alias bomb."""
YAML_NODES = 100_000
"""Values in the file once its aliases are expanded."""
YAML_DEPTH = 64
"""Lists and mappings inside one another, aliases followed. PyYAML builds a document by
recursion, a few Python frames a level, so a few thousand levels end in RecursionError; the
deepest real setting is 5 levels down (``apps.web.deploy.hooks...``), and 64 leaves room for any
value a person writes by hand."""

# -- Fargate ("Amazon ECS task definition parameters for Fargate", ``ephemeralStorage``) --------
STORAGE_MIN_GIB = 21
STORAGE_MAX_GIB = 200

# -- ACM ("RequestCertificate", API Reference, ``DomainName``: "The first domain name you enter
# cannot exceed 64 octets, including periods") --------------------------------------------------
ACM_DOMAIN_CHARACTERS = 64

# -- Elastic Load Balancing ("Listener rules for your Application Load Balancer", host-header
# condition: "The maximum size of each string is 128 characters"; "Quotas for your Application
# Load Balancers": 100 rules per load balancer, not counting default rules) ---------------------
HOST_HEADER_CHARACTERS = 128
LISTENER_RULES = 100
# "Quotas for your Application Load Balancers": target groups per Application Load Balancer.
TARGET_GROUPS = 100
HEALTH_CHECK_PATH_CHARACTERS = 1024  # "CreateTargetGroup", HealthCheckPath: 1-1024
# "Quotas for your Application Load Balancers": condition values per rule. A progressive app's
# test rule spends one on its host and one on the X-Dockyard-Test header; the rest are
# edge.allowed_cidrs.
CONDITION_VALUES_PER_RULE = 5
TEST_RULE_CIDRS = CONDITION_VALUES_PER_RULE - 2
# A host rule: the host, and the source blocks when edge.allowed_cidrs leave the internet out.
HOST_RULE_CIDRS = CONDITION_VALUES_PER_RULE - 1
# Jenkins' webhook rule: the host, the path /github-webhook/, and GitHub's hook ranges.
WEBHOOK_RULE_CIDRS = CONDITION_VALUES_PER_RULE - 2

# -- ECS (API Reference, DeploymentConfiguration: bakeTimeInMinutes and the canary and linear
# bake times 0-1440; canaryPercent 0.1-100 and stepPercent 3-100, multiples of 0.1;
# DeploymentLifecycleHookTimeoutConfiguration.timeoutInMinutes) ------------------------------------
BAKE_MINUTES_MAX = 1440
CANARY_PERCENT_MIN = 0.1
STEP_PERCENT_MIN = 3.0
# Those maxima alone let a linear deploy hold traffic for 34 days (33 steps of 1,440 minutes
# after the first move, then the final bake). CloudFormation ("AWS::ECS::Service
# CanaryConfiguration" and "LinearConfiguration") refuses a canary or linear deployment longer
# than 33 hours, counted as BakeTimeInMinutes + CanaryBakeTimeInMinutes, or BakeTimeInMinutes +
# StepBakeTimeInMinutes x the steps after the first move, because its operations time out at
# 36. dockyard deploys with UpdateService, which has no such cap, but takes AWS's figure as the
# bound of a deploy that means anything (and its wait, and its credentials, must outlast it).
PROGRESSIVE_MINUTES_MAX = 33 * 60

# -- Route 53 ("DNS domain name format": a name is at most 255 octets, 253 characters without
# the final dot; a label at most 63) ------------------------------------------------------------
DNS_NAME_CHARACTERS = 253

# -- Amazon VPC ("Amazon VPC quotas": 60 inbound and 60 outbound rules per security group, IPv4
# and IPv6 counted apart) ----------------------------------------------------------------------
SECURITY_GROUP_RULES = 60
EDGE_PORTS = 2  # each allowed CIDR opens 80 (redirect) and 443 on the load balancer
# The load balancer's group has one outbound rule to Jenkins and one to each app.
MAX_APPS = SECURITY_GROUP_RULES - 1
MAX_ALLOWED_CIDRS = SECURITY_GROUP_RULES // EDGE_PORTS

# ("VPC CIDR blocks", Amazon VPC User Guide: blocks a VPC cannot use)
_NOT_FOR_A_VPC = {
    "0.0.0.0/8": "the 'this network' block",
    "127.0.0.0/8": "loopback",
    "169.254.0.0/16": "link-local",
    "224.0.0.0/4": "multicast",
    "240.0.0.0/4": "reserved",
}

# -- ECS ("Amazon ECS service quotas": a task definition is at most 64 KiB of JSON) -------------
TASK_DEFINITION_BYTES = 65_536
ENV_BYTES = 32_768
"""Of those, what ``env`` and ``secrets`` of one app may take (the rest is dockyard's)."""

# -- CloudFormation ("AWS CloudFormation quotas") ------------------------------------------------
TEMPLATE_BODY_BYTES = 51_200
TEMPLATE_COUNTS = {"Parameters": 200, "Resources": 500, "Outputs": 200, "Mappings": 200}
MAX_SECRETS = 150
"""Secrets per app: each Secrets Manager name is a parameter of the app's stack (its ARN is
looked up at deploy), next to the stack's own, within the 200 a template takes."""


def vpc_cidr_problem(cidr: str) -> str | None:
    """Why a VPC cannot have ``cidr``, or None when it can."""
    network = ipaddress.ip_network(cidr)
    for block, what in _NOT_FOR_A_VPC.items():
        if network.overlaps(ipaddress.ip_network(block)):
            return f"{cidr} overlaps {block} ({what}), which a VPC cannot use"
    return None


@cache
def known_regions() -> frozenset[str] | None:
    """Every region botocore knows, in every partition (its endpoints.json): the regions this
    installation can reach at all. None when this botocore keeps no such list (then only the
    region's form is checked)."""
    try:
        data = json.loads(resources.files("botocore").joinpath("data", "endpoints.json")
                          .read_text("utf-8"))
    except (OSError, ValueError):
        return None
    regions = frozenset(region for partition in data.get("partitions", [])
                        for region in partition.get("regions", {}))
    return regions or None


def env_bytes(env: dict[str, str], secrets: dict[str, str]) -> int:
    """What an app's env and secrets add to its task definition, as ECS counts JSON."""
    pairs = [{"name": k, "value": v} for k, v in env.items()]
    pairs += [{"name": k, "valueFrom": v} for k, v in secrets.items()]
    return len(json.dumps(pairs, separators=(",", ":")).encode())
