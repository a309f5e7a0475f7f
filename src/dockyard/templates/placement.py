"""Where a stack sits: the network it is given, the load balancer and listener it joins, its
host name in the hosted zone, and security-group defaults."""

from __future__ import annotations

from troposphere import Parameter, Ref, Template, ec2, route53
from troposphere import elasticloadbalancingv2 as elb

from dockyard.config.models import Config, ExistingNetwork
from dockyard.names import Out
from dockyard.templates.stack import (
    Discovered,
    FromStack,
    Input,
    Value,
    add_parameter,
)

# CloudFormation keeps one default egress rule (all traffic) on a security group that declares
# none; a single rule nobody can match removes it, so "egress: nothing" is expressible.
NO_EGRESS = ec2.SecurityGroupRule(
    IpProtocol="icmp", FromPort=252, ToPort=86, CidrIp="255.255.255.255/32",
    Description="No outbound traffic",
)


def network_inputs(cfg: Config) -> dict[str, Input]:
    """Where VpcId, PublicSubnets and TaskSubnets come from for the configured network mode."""
    net = cfg.network
    if isinstance(net, ExistingNetwork):
        task_subnets = net.private_subnets or net.subnets
        return {"VpcId": Value(net.vpc_id), "PublicSubnets": Value(",".join(net.subnets)),
                "TaskSubnets": Value(",".join(task_subnets))}
    if net.mode == "create":
        return {"VpcId": FromStack("network", Out.VPC_ID),
                "PublicSubnets": FromStack("network", Out.PUBLIC_SUBNETS),
                "TaskSubnets": FromStack("network", Out.PUBLIC_SUBNETS)}
    return {"VpcId": Discovered("default-vpc-id"),
            "PublicSubnets": Discovered("default-vpc-subnets"),
            "TaskSubnets": Discovered("default-vpc-subnets")}


def assign_public_ip(cfg: Config) -> bool:
    """Tasks need a public IP to reach ECR and the internet unless they sit behind a NAT."""
    return not (isinstance(cfg.network, ExistingNetwork) and cfg.network.private_subnets)


def add_edge_parameters(t: Template, cfg: Config) -> tuple[dict[str, Parameter],
                                                           dict[str, Input]]:
    """The parameters of a stack served through the edge: VPC, listener, load balancer, zone."""
    declared = (
        ("VpcId", "AWS::EC2::VPC::Id", "The VPC.", network_inputs(cfg)["VpcId"]),
        ("HttpsListenerArn", "String", "The edge stack's HTTPS listener.",
         FromStack("edge", Out.HTTPS_LISTENER_ARN)),
        ("LoadBalancerSecurityGroupId", "AWS::EC2::SecurityGroup::Id",
         "The load balancer's security group.", FromStack("edge", Out.SECURITY_GROUP_ID)),
        ("LoadBalancerDnsName", "String", "The load balancer's DNS name.",
         FromStack("edge", Out.DNS_NAME)),
        ("LoadBalancerZoneId", "String", "The load balancer's canonical hosted zone.",
         FromStack("edge", Out.CANONICAL_HOSTED_ZONE_ID)),
        ("HostedZoneId", "AWS::Route53::HostedZone::Id",
         f"The Route 53 zone of {cfg.edge.domain}.", hosted_zone_input(cfg)),
    )
    params = {name: add_parameter(t, name, kind, text) for name, kind, text, _ in declared}
    return params, {name: source for name, _, _, source in declared}


def add_vpc_parameter(t: Template, cfg: Config) -> tuple[dict[str, Parameter],
                                                        dict[str, Input]]:
    """The one parameter of a stack off the edge (a worker's): the VPC."""
    parameter = add_parameter(t, "VpcId", "AWS::EC2::VPC::Id", "The VPC.")
    return {"VpcId": parameter}, {"VpcId": network_inputs(cfg)["VpcId"]}


def add_host(t: Template, cfg: Config, p: dict[str, Parameter], *, host: str, priority: int,
             target_group: elb.TargetGroup,
             action: elb.ListenerRuleAction | None = None) -> elb.ListenerRule:
    """Route ``host.<domain>`` to a target group (or ``action``): a rule on the HTTPS listener
    and a DNS alias."""
    # With edge.allowed_cidrs narrowed, the security group admits HTTPS from anywhere
    # (templates/edge.py): the rule admits only those blocks; anyone else gets the listener's
    # 404.
    rule = t.add_resource(host_rule(cfg, p, "HostRule", host, priority=priority,
                                    action=action or forward(target_group),
                                    cidrs=cfg.host_rule_cidrs()))
    add_dns(t, cfg, p, host)
    return rule


def forward(target_group: elb.TargetGroup) -> elb.ListenerRuleAction:
    """A rule's action: forward to ``target_group``."""
    return elb.ListenerRuleAction(Type="forward", TargetGroupArn=Ref(target_group))


def host_rule(cfg: Config, p: dict[str, Parameter], title: str, host: str, *, priority: int,
              action: elb.ListenerRuleAction, cidrs: list[str],
              paths: list[str] | None = None) -> elb.ListenerRule:
    """A rule of the HTTPS listener for ``host.<domain>``: from ``cidrs`` (anyone when
    empty), on ``paths`` when given."""
    conditions = [elb.Condition(Field="host-header", HostHeaderConfig=elb.HostHeaderConfig(
        Values=[f"{host}.{cfg.edge.domain}"]))]
    if paths:
        conditions.append(elb.Condition(Field="path-pattern",
                                        PathPatternConfig=elb.PathPatternConfig(Values=paths)))
    if cidrs:
        conditions.append(elb.Condition(Field="source-ip",
                                        SourceIpConfig=elb.SourceIpConfig(Values=cidrs)))
    return elb.ListenerRule(title, ListenerArn=Ref(p["HttpsListenerArn"]), Priority=priority,
                            Conditions=conditions, Actions=[action])


def add_dns(t: Template, cfg: Config, p: dict[str, Parameter], host: str) -> None:
    """The DNS alias of ``host.<domain>`` to the load balancer."""
    fqdn = f"{host}.{cfg.edge.domain}"
    t.add_resource(route53.RecordSetType(
        "DnsRecord",
        HostedZoneId=Ref(p["HostedZoneId"]),
        Name=f"{fqdn}.",
        Type="A",
        AliasTarget=route53.AliasTarget(DNSName=Ref(p["LoadBalancerDnsName"]),
                                        HostedZoneId=Ref(p["LoadBalancerZoneId"]),
                                        EvaluateTargetHealth=False),
    ))


def hosted_zone_input(cfg: Config) -> Input:
    """The Route 53 zone id: from the config, or looked up by domain name."""
    if cfg.edge.hosted_zone_id:
        return Value(cfg.edge.hosted_zone_id)
    return Discovered("hosted-zone-id")
