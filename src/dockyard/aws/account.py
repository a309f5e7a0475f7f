"""What ``up`` looks up in the account before the first stack: who we are, the default VPC,
the hosted zone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dockyard.aws.errors import AwsPreconditionError, call, translated
from dockyard.aws.secrets import secret_arn, secret_exists, secret_fields


@dataclass(frozen=True)
class Identity:
    """The caller, from STS."""

    account: str
    arn: str


@dataclass(frozen=True)
class HostedZone:
    """A public Route 53 hosted zone."""

    zone_id: str
    name: str


class Account:
    """STS, EC2, Route 53 and Secrets Manager lookups, and the live weights of a stack's
    listener rules."""

    def __init__(self, sts: Any, ec2: Any, route53: Any, secrets: Any = None, *,
                 cloudformation: Any = None, elb: Any = None, ecs: Any = None) -> None:
        self._ecs = ecs
        self._sts = sts
        self._ec2 = ec2
        self._route53 = route53
        self._secrets = secrets
        self._cloudformation = cloudformation
        self._elb = elb
        self._rules: dict[tuple[str, str], tuple[dict[str, str], dict[str, Any] | None]] = {}

    def identity(self) -> Identity:
        """Who the credentials belong to; the first call any command makes."""
        raw = call("check the AWS credentials", self._sts.get_caller_identity)
        return Identity(account=str(raw["Account"]), arn=str(raw["Arn"]))

    def default_vpc(self) -> tuple[str, list[str]]:
        """The default VPC and two of its default subnets in different zones."""
        with translated("look up the default VPC"):
            vpcs = self._ec2.describe_vpcs(
                Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
            if not vpcs:
                raise AwsPreconditionError(
                    "this region has no default VPC",
                    hint="set network.mode to create (or existing) in dockyard.yml")
            vpc_id = str(vpcs[0]["VpcId"])
            subnets = self._ec2.describe_subnets(
                Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
        by_zone: dict[str, str] = {}
        for subnet in sorted(subnets, key=lambda s: (s["AvailabilityZone"], s["SubnetId"])):
            by_zone.setdefault(subnet["AvailabilityZone"], subnet["SubnetId"])
        if len(by_zone) < 2:
            raise AwsPreconditionError(
                f"the default VPC {vpc_id} has subnets in fewer than two availability zones",
                hint="the load balancer and EFS need two zones; use network.mode: create")
        return vpc_id, list(by_zone.values())[:2]

    def forward_weights(self, stack: str, rule: str) -> dict[str, int]:
        """The weights a deployed listener rule forwards with, by the logical id of each
        target group in ``stack``; empty when the stack or the rule does not exist yet."""
        physical, found = self._live_rule(stack, rule)
        logical = {arn: name for name, arn in physical.items()}
        return {logical[g["TargetGroupArn"]]: int(g.get("Weight", 1))
                for a in (found or {}).get("Actions", []) if a.get("Type") == "forward"
                for g in a.get("ForwardConfig", {}).get("TargetGroups", [])
                if g["TargetGroupArn"] in logical}

    def forget_rules(self, stack: str) -> None:
        """Read the stack's listener rules again next time (ECS may have moved them)."""
        self._rules = {key: value for key, value in self._rules.items() if key[0] != stack}

    def ongoing_deployment(self, cluster: str, service: str) -> str:
        """The service's deployment still under way, as ``IN_PROGRESS at BAKE_TIME`` ("" when
        there is none, or no such service)."""
        if self._ecs is None:
            return ""
        with translated(f"look for a deployment of {service} in progress",
                        done_if=("ServiceNotFoundException", "ClusterNotFoundException")):
            raw = self._ecs.list_service_deployments(
                cluster=cluster, service=service,
                status=["PENDING", "IN_PROGRESS", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS",
                        "STOP_REQUESTED"])
            for brief in raw.get("serviceDeployments", []):
                found = self._ecs.describe_service_deployments(
                    serviceDeploymentArns=[brief["serviceDeploymentArn"]]).get(
                    "serviceDeployments") or [brief]
                stage = found[0].get("lifecycleStage")
                return str(found[0].get("status", "IN_PROGRESS")) + (f" at {stage}"
                                                                     if stage else "")
        return ""

    def serving_port(self, cluster: str, service: str) -> int | None:
        """The container port the service's current task definition listens on (None when
        there is no such service, or its tasks listen on none)."""
        definition = self._current_definition(cluster, service, "the port it listens on")
        ports = [c.get("portMappings") or [] for c in (definition or {}).get(
            "containerDefinitions", []) if c.get("name") == service]
        return int(ports[0][0]["containerPort"]) if ports and ports[0] else None

    def service_exists(self, cluster: str, service: str) -> bool:
        """Whether the service exists, active, with a task definition."""
        return self._current_definition(cluster, service, "whether it exists") is not None

    def _current_definition(self, cluster: str, service: str,
                            what: str) -> dict[str, Any] | None:
        """The service's current task definition (None when there is no such service)."""
        if self._ecs is None:
            return None
        with translated(f"read {service}'s task definition ({what})",
                        done_if=("ServiceNotFoundException", "ClusterNotFoundException")):
            services = [s for s in self._ecs.describe_services(
                cluster=cluster, services=[service]).get("services", [])
                if s.get("status") == "ACTIVE" and s.get("taskDefinition")]
            if not services:
                return None
            found: dict[str, Any] = self._ecs.describe_task_definition(
                taskDefinition=services[0]["taskDefinition"])["taskDefinition"]
            return found
        return None

    def target_group_port(self, stack: str, logical_id: str) -> int | None:
        """The port a deployed stack's target group was created with (None when the stack
        or the group does not exist yet)."""
        physical, _ = self._live_rule(stack, "HostRule")
        arn = physical.get(logical_id)
        if not arn:
            return None
        with translated(f"read the target group {logical_id} of {stack}",
                        done_if=("TargetGroupNotFound",)):
            groups = self._elb.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"]
            return int(groups[0]["Port"]) if groups and groups[0].get("Port") else None
        return None

    def test_header(self, stack: str, rule: str) -> str:
        """The value a deployed test rule wants in its X-Dockyard-Test header ("" when the
        stack or the rule does not exist yet)."""
        _, found = self._live_rule(stack, rule)
        return test_header_value([found]) if found else ""

    def stack_resources(self, stack: str) -> dict[str, str]:
        """A deployed stack's resources, logical id -> physical id (none when there is no
        such stack); read once per command."""
        return self._live_rule(stack, "HostRule")[0]

    def _live_rule(self, stack: str, rule: str) -> tuple[dict[str, str], dict[str, Any] | None]:
        """The stack's resources (logical id -> physical id) and its listener rule ``rule`` as
        DescribeRules has it (None when either does not exist yet); read once per command."""
        key = (stack, rule)
        if key not in self._rules:
            self._rules[key] = ({}, None)
            with translated(f"read the live listener rule {rule} of {stack}",
                            done_if=("ValidationError", "RuleNotFound")):
                physical: dict[str, str] = {}
                pages = self._cloudformation.get_paginator("list_stack_resources")
                for page in pages.paginate(StackName=stack):
                    physical.update({r.get("LogicalResourceId", ""):
                                     r.get("PhysicalResourceId", "")
                                     for r in page.get("StackResourceSummaries", [])})
                rules = self._elb.describe_rules(RuleArns=[physical[rule]])["Rules"] \
                    if physical.get(rule) else []
                self._rules[key] = (physical, rules[0] if rules else None)
        return self._rules[key]

    def secret_arn(self, name: str, field: str = "") -> str:
        """The full ARN of a Secrets Manager secret (task definitions need it, not the name);
        ``field`` names where dockyard.yml refers to it."""
        return secret_arn(self._secrets, name, field)

    def secret_exists(self, ref: str) -> bool | None:
        """Whether a secret exists (None: this identity may not look)."""
        return secret_exists(self._secrets, ref)

    def secret_fields(self, name: str) -> dict[str, str] | None:
        """The keys of a JSON secret, each with its value's PEM label (never the values)."""
        return secret_fields(self._secrets, name)

    def hosted_zone(self, domain: str, zone_id: str | None) -> HostedZone:
        """The public hosted zone of ``domain`` (by id when the config names one)."""
        wanted = domain.rstrip(".") + "."
        with translated(f"look up the hosted zone of {domain}"):
            if zone_id:
                zone = self._route53.get_hosted_zone(Id=zone_id)["HostedZone"]
                zones = [zone]
            else:
                zones = self._route53.list_hosted_zones_by_name(
                    DNSName=wanted, MaxItems="10")["HostedZones"]
        public = [z for z in zones if z["Name"] == wanted
                  and not z.get("Config", {}).get("PrivateZone", False)]
        if not public:
            raise AwsPreconditionError(
                f"no public Route 53 hosted zone for {domain} in this account",
                hint="create it (and delegate the domain to it), or fix edge.domain")
        return HostedZone(zone_id=str(public[0]["Id"]).rsplit("/", 1)[-1], name=wanted)


def test_header_value(rules: list[dict[str, Any]]) -> str:
    """The X-Dockyard-Test value a listener rule (DescribeRules) matches ("" without one)."""
    from dockyard.names import TEST_HEADER

    for rule in rules:
        for condition in rule.get("Conditions", []):
            config = condition.get("HttpHeaderConfig") or {}
            if condition.get("Field") == "http-header" and \
                    str(config.get("HttpHeaderName", "")).lower() == TEST_HEADER.lower():
                return str((config.get("Values") or [""])[0])
    return ""
