"""The Jenkins controller's side of its agents: a private DNS name agents reach it at. The
controller starts no agents (they join it), so it holds no ECS permission at all."""

from __future__ import annotations

from typing import Any

from troposphere import Parameter, Ref, Sub, Template, servicediscovery

from dockyard.config.models import Config
from dockyard.names import internal_namespace


def add_discovery(t: Template, cfg: Config, vpc: Parameter) -> servicediscovery.Service:
    """``jenkins.<name>.internal``: the controller's address for agents, whatever its IP."""
    namespace = t.add_resource(servicediscovery.PrivateDnsNamespace(
        "Namespace", Name=internal_namespace(cfg.name), Vpc=Ref(vpc),
        Description=f"dockyard {cfg.name}: private names inside the VPC"))
    return t.add_resource(servicediscovery.Service(
        "DiscoveryService",
        Name="jenkins",
        NamespaceId=Ref(namespace),
        DnsConfig=servicediscovery.DnsConfig(
            RoutingPolicy="MULTIVALUE",
            DnsRecords=[servicediscovery.DnsRecord(Type="A", TTL=10)]),
        HealthCheckCustomConfig=servicediscovery.HealthCheckCustomConfig(FailureThreshold=1),
    ))


def registry(discovery: servicediscovery.Service) -> Any:
    """The ECS service's registration in Cloud Map."""
    from troposphere import ecs

    # The ARN spelled out from the service id (Ref): the same value as GetAtt Arn, which
    # emulators without Cloud Map cannot resolve.
    return ecs.ServiceRegistry(RegistryArn=Sub(
        "arn:${AWS::Partition}:servicediscovery:${AWS::Region}:${AWS::AccountId}:service/"
        f"${{{discovery.title}}}"))
