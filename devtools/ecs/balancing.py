"""The load balancer's side of a deployment: tasks registered in target groups, the health the
groups report, and the listener rules' weights ECS moves.

A service behind a load balancer has its tasks' addresses registered in the target group as
they start, and the group reports their health as Elastic Load Balancing does (User Guide for
Application Load Balancers, "Health checks for your target groups": state ``initial`` with
Elb.RegistrationInProgress, then ``healthy``, or ``unhealthy`` with Target.ResponseCodeMismatch
"Health checks failed with these codes: [503]" for a hanging image); targets of a drained or
failed deployment are deregistered (ECS Developer Guide, "Use load balancing to distribute
Amazon ECS service traffic"). moto's CloudFormation drops a service's LoadBalancers; they are
kept here.
"""

from __future__ import annotations

import itertools
from typing import Any

_addresses = itertools.count(10)
HEALTH = {
    "initial": ("initial", "Elb.RegistrationInProgress", "Target registration is in progress"),
    "healthy": ("healthy", None, None),
    "unhealthy": ("unhealthy", "Target.ResponseCodeMismatch",
                  "Health checks failed with these codes: [503]"),
}


def patch_load_balancing() -> None:
    """Keep a CloudFormation service's LoadBalancers; let target groups report the health this
    player sets."""
    from moto.ecs import models
    from moto.elbv2 import models as elbv2

    from_cloudformation = models.Service.create_from_cloudformation_json.__func__

    def create_from_cloudformation_json(cls: Any, resource_name: str, cloudformation_json: Any,
                                        *args: Any, **kwargs: Any) -> Any:
        service = from_cloudformation(cls, resource_name, cloudformation_json, *args, **kwargs)
        service.load_balancers = [
            {"targetGroupArn": lb.get("TargetGroupArn"), "containerName": lb.get("ContainerName"),
             "containerPort": int(lb.get("ContainerPort", 0))}
            for lb in cloudformation_json.get("Properties", {}).get("LoadBalancers", [])]
        return service

    models.Service.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)
    health_for = elbv2.FakeTargetGroup.health_for

    def reported_health(self: Any, target: dict[str, Any], ec2_backend: Any) -> Any:
        played = getattr(self, "dockyard_health", {}).get(target["Id"])
        if played is None:
            return health_for(self, target, ec2_backend)
        return elbv2.FakeHealthStatus(target["Id"], self.targets[target["Id"]]["Port"],
                                      self.health_check_port, *played)

    elbv2.FakeTargetGroup.health_for = reported_health
    group_from_cloudformation = elbv2.FakeTargetGroup.create_from_cloudformation_json.__func__

    def group_with_attributes(cls: Any, resource_name: str, cloudformation_json: Any,
                              *args: Any, **kwargs: Any) -> Any:
        """moto's CloudFormation drops TargetGroupAttributes (the deregistration delay the
        emulator drains for); they are kept, as the resource type has them (CloudFormation
        User Guide, AWS::ElasticLoadBalancingV2::TargetGroup, TargetGroupAttributes)."""
        made = group_from_cloudformation(cls, resource_name, cloudformation_json, *args,
                                         **kwargs)
        for attribute in cloudformation_json.get("Properties", {}).get(
                "TargetGroupAttributes", []) or []:
            made.attributes[attribute["Key"]] = attribute["Value"]
        return made

    elbv2.FakeTargetGroup.create_from_cloudformation_json = classmethod(group_with_attributes)


def group(backend: Any, arn: str | None) -> Any:
    """The target group ``arn`` (None when there is none)."""
    from moto.elbv2.models import elbv2_backends

    return elbv2_backends[backend.account_id][backend.region_name].target_groups.get(arn or "")


def service_groups(backend: Any, service: Any, *,
                   alternates: bool = False) -> list[tuple[Any, int]]:
    """The service's target groups, each with the container port its tasks register with
    (with ``alternates``, a progressive strategy's alternate groups too)."""
    found = []
    for lb in getattr(service, "load_balancers", []) or []:
        arns = [lb.get("targetGroupArn")]
        if alternates:
            arns.append((lb.get("advancedConfiguration") or {}).get("alternateTargetGroupArn"))
        for arn in arns:
            if (known := group(backend, arn)) is not None:
                found.append((known, int(lb.get("containerPort") or known.port or 80)))
    return found


def known_groups(backend: Any, service: Any) -> list[Any]:
    """Every target group the service has been given (primary and alternate, now or in an
    earlier request): where any of its tasks may still be registered."""
    arns: set[str | None] = getattr(service, "dockyard_known_groups", set())
    for lb in getattr(service, "load_balancers", []) or []:
        arns.add(lb.get("targetGroupArn"))
        arns.add((lb.get("advancedConfiguration") or {}).get("alternateTargetGroupArn"))
    service.dockyard_known_groups = arns
    return [g for g in (group(backend, arn) for arn in sorted(a for a in arns if a))
            if g is not None]


def register(deployment: dict[str, Any], groups: list[tuple[Any, int]], count: int) -> None:
    """The deployment's ``count`` new tasks, registered in ``groups`` (each with its port) as
    ``initial``."""
    addresses = [f"10.0.1.{next(_addresses) % 250 + 2}" for _ in range(count)]
    deployment["dockyard"]["targets"] = addresses
    if groups and deployment["dockyard"].get("history") is not None:
        deployment["dockyard"]["history"]["dockyard_group"] = groups[0][0].arn
    for found, port in groups:
        found.register([{"Id": a, "Port": port} for a in addresses])
        found.__dict__.setdefault("dockyard_health", {}).update(
            dict.fromkeys(addresses, HEALTH["initial"]))


def set_health(deployment: dict[str, Any], groups: list[Any], state: str) -> None:
    """What the groups report for the deployment's tasks."""
    for found in groups:
        found.__dict__.setdefault("dockyard_health", {}).update(
            dict.fromkeys(deployment["dockyard"].get("targets", []), HEALTH[state]))


def deregister(deployment: dict[str, Any], groups: list[Any]) -> None:
    """The deployment's tasks leave ``groups``."""
    addresses = deployment.get("dockyard", {}).get("targets", [])
    for found in groups:
        for address in addresses:
            if address in found.targets:
                found.deregister([{"Id": address}])
            found.__dict__.get("dockyard_health", {}).pop(address, None)


def set_weights(backend: Any, rule_arn: str, weights: dict[str, float]) -> None:
    """What the infrastructure role's ModifyRule does: the rule forwards by these weights."""
    from moto.elbv2.models import elbv2_backends

    if not rule_arn or len(weights) < 2:  # a first deployment: one group, nothing moves
        return
    elb = elbv2_backends[backend.account_id][backend.region_name]
    for rule in elb.describe_rules(None, [rule_arn]):
        for action in rule.actions:
            if action.type == "forward" and "ForwardConfig" in action.data:
                action.data["ForwardConfig"]["TargetGroups"] = [
                    {"TargetGroupArn": arn, "Weight": round(weight)}
                    for arn, weight in weights.items()]
                action.ForwardConfig = action.data["ForwardConfig"]
