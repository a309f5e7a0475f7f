"""The Jenkins controller's side of its agents: a private DNS name agents reach it at, and the
ECS permissions the amazon-ecs plugin needs, conditioned on the platform's cluster."""

from __future__ import annotations

from typing import Any

from awacs import aws as awacs_iam
from troposphere import Parameter, Ref, Sub, Template, servicediscovery

from dockyard.config.models import Config
from dockyard.names import internal_namespace
from dockyard.templates.policies import allow

# The plugin registers agent task definitions and lists clusters; those calls have no
# resource-level permissions (the amazon-ecs plugin's README lists them on "*").
_PLUGIN_GLOBAL = ["ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition",
                  "ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions", "ecs:ListClusters",
                  "ecs:DescribeContainerInstances", "ecs:ListTagsForResource"]


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


def plugin_statements(p: dict[str, Parameter]) -> list[Any]:
    """What the amazon-ecs plugin may do: start and stop agents on this cluster only, and pass
    only the agents' two roles."""
    on_cluster = awacs_iam.Condition(awacs_iam.ArnEquals("ecs:cluster", Ref(p["ClusterArn"])))
    return [
        allow(_PLUGIN_GLOBAL, ["*"], sid="AgentTaskDefinitions"),
        allow(["ecs:RunTask"], ["*"], on_cluster, sid="StartAgents"),
        allow(["ecs:StopTask", "ecs:DescribeTasks"], ["*"], on_cluster, sid="WatchAgents"),
        allow(["ecs:TagResource"], ["*"], awacs_iam.Condition(
            awacs_iam.StringEquals("ecs:CreateAction", ["RunTask", "RegisterTaskDefinition"])),
            sid="TagAgents"),
        allow(["iam:PassRole"], [Ref(p["AgentExecutionRoleArn"]), Ref(p["AgentTaskRoleArn"])],
              awacs_iam.Condition(awacs_iam.StringEquals(
                  "iam:PassedToService", "ecs-tasks.amazonaws.com")), sid="PassAgentRoles"),
    ]


def registry(discovery: servicediscovery.Service) -> Any:
    """The ECS service's registration in Cloud Map."""
    from troposphere import ecs

    # The ARN spelled out from the service id (Ref): the same value as GetAtt Arn, which
    # emulators without Cloud Map cannot resolve.
    return ecs.ServiceRegistry(RegistryArn=Sub(
        "arn:${AWS::Partition}:servicediscovery:${AWS::Region}:${AWS::AccountId}:service/"
        f"${{{discovery.title}}}"))
