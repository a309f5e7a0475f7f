"""The ``<name>-network`` stack (``network.mode: create``): a VPC with two public subnets in two
zones and an internet gateway. Nothing in it listens; tasks get public IPs only where they ask.
"""

from __future__ import annotations

import ipaddress

from troposphere import GetAZs, Join, Output, Ref, Select, ec2

from dockyard.config.models import Config, CreateNetwork
from dockyard.names import Out
from dockyard.templates.stack import StackTemplate, new_template, tag_resources

ZONES = ("A", "B")


def network_stack(cfg: Config) -> StackTemplate:
    """Render the network stack; only for ``network.mode: create``."""
    if not isinstance(cfg.network, CreateNetwork):
        raise ValueError("the network stack exists only with network.mode: create")
    t = new_template(cfg, "VPC with two public subnets")
    # The VPC split in two halves, one subnet each: room for many tasks in both zones.
    halves = list(ipaddress.ip_network(cfg.network.cidr).subnets(prefixlen_diff=1))
    vpc = t.add_resource(ec2.VPC(
        "Vpc", CidrBlock=cfg.network.cidr, EnableDnsSupport=True, EnableDnsHostnames=True))
    gateway = t.add_resource(ec2.InternetGateway("InternetGateway"))
    attachment = t.add_resource(ec2.VPCGatewayAttachment(
        "GatewayAttachment", VpcId=Ref(vpc), InternetGatewayId=Ref(gateway)))
    routes = t.add_resource(ec2.RouteTable("PublicRoutes", VpcId=Ref(vpc)))
    t.add_resource(ec2.Route(
        "DefaultRoute", RouteTableId=Ref(routes), DestinationCidrBlock="0.0.0.0/0",
        GatewayId=Ref(gateway), DependsOn=attachment.title))
    subnets = []
    for index, zone in enumerate(ZONES):
        subnet = t.add_resource(ec2.Subnet(
            f"PublicSubnet{zone}",
            VpcId=Ref(vpc),
            AvailabilityZone=Select(index, GetAZs("")),
            CidrBlock=str(halves[index]),
            # Tasks ask for a public IP explicitly; nothing gets one by accident.
            MapPublicIpOnLaunch=False,
        ))
        t.add_resource(ec2.SubnetRouteTableAssociation(
            f"PublicSubnet{zone}Routes", SubnetId=Ref(subnet), RouteTableId=Ref(routes)))
        subnets.append(subnet)
    t.add_output(Output(Out.VPC_ID, Value=Ref(vpc)))
    t.add_output(Output(Out.PUBLIC_SUBNETS, Value=Join(",", [Ref(s) for s in subnets])))
    return StackTemplate("network", cfg.stack_name("network"), tag_resources(t, cfg))
