"""The ``<name>-edge`` stack: the shared HTTPS load balancer.

Port 443 terminates TLS with a modern policy and answers 404 for unknown hosts; port 80 only
redirects to HTTPS. Jenkins and each app add their own host rule to the HTTPS listener, and their
own egress rule to the load balancer's security group, so it can reach nothing else.
"""

from __future__ import annotations

import ipaddress

from troposphere import GetAtt, Output, Ref, certificatemanager, ec2
from troposphere import elasticloadbalancingv2 as elb

from dockyard.config.models import Config
from dockyard.names import Out
from dockyard.templates.placement import NO_EGRESS, hosted_zone_input, network_inputs
from dockyard.templates.stack import (
    FromStack,
    StackTemplate,
    add_parameter,
    new_template,
    suppress,
    tag_resources,
)
from dockyard.templates.trail import ALB_PREFIX

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
# Above the ALB's 60 s default: WebSocket agents and long-polling UIs keep connections open.
IDLE_TIMEOUT_SECONDS = 120


def edge_stack(cfg: Config) -> StackTemplate:
    """Render the edge stack for ``cfg``."""
    t = new_template(cfg, "HTTPS load balancer shared by Jenkins and the apps")
    vpc = add_parameter(t, "VpcId", "AWS::EC2::VPC::Id", "The VPC of the load balancer.")
    subnets = add_parameter(t, "PublicSubnets", "List<AWS::EC2::Subnet::Id>",
                            "Public subnets in two or more zones.")
    inputs = {Out.VPC_ID: network_inputs(cfg)["VpcId"],
              Out.PUBLIC_SUBNETS: network_inputs(cfg)["PublicSubnets"]}

    security_group = t.add_resource(_security_group(cfg, vpc))
    attributes = [
        ("idle_timeout.timeout_seconds", str(IDLE_TIMEOUT_SECONDS)),
        ("routing.http.drop_invalid_header_fields.enabled", "true"),
        ("routing.http.preserve_host_header.enabled", "true"),
        # `dockyard down` deletes it; it holds no data, and protection would fail teardown.
        ("deletion_protection.enabled", "false"),
    ]
    checks = []
    if cfg.access_logs.enabled:
        logs = add_parameter(t, "LogBucket", "String", "The bucket access logs go to.")
        inputs[Out.LOG_BUCKET] = FromStack("builder", Out.LOG_BUCKET)
        attributes += [("access_logs.s3.enabled", "true"), ("access_logs.s3.bucket", Ref(logs)),
                       ("access_logs.s3.prefix", ALB_PREFIX)]
    else:
        checks.append(("CKV_AWS_91", "access_logs.enabled is false in dockyard.yml"))
    alb = elb.LoadBalancer(
        "LoadBalancer",
        Type="application",
        Scheme="internet-facing",
        IpAddressType="ipv4",
        Subnets=Ref(subnets),
        SecurityGroups=[Ref(security_group)],
        LoadBalancerAttributes=[elb.LoadBalancerAttributes(Key=k, Value=v)
                                for k, v in attributes],
    )
    t.add_resource(suppress(alb, *checks) if checks else alb)

    if cfg.edge.certificate == "auto":
        zone = add_parameter(t, "HostedZoneId", "AWS::Route53::HostedZone::Id",
                             f"The Route 53 zone of {cfg.edge.domain}.")
        inputs["HostedZoneId"] = hosted_zone_input(cfg)
        certificate = t.add_resource(suppress(certificatemanager.Certificate(
            "Certificate",
            DomainName=f"*.{cfg.edge.domain}",
            ValidationMethod="DNS",
            DomainValidationOptions=[certificatemanager.DomainValidationOption(
                DomainName=f"*.{cfg.edge.domain}", HostedZoneId=Ref(zone))],
        ), ("CKV2_AWS_71", "one certificate serves Jenkins and every app host in the zone; a list "
                           "of hosts would re-issue it each time an app is added")))
        certificate_arn: object = Ref(certificate)
    else:
        certificate_arn = cfg.edge.certificate

    https = t.add_resource(elb.Listener(
        "HttpsListener",
        LoadBalancerArn=Ref(alb),
        Port=443,
        Protocol="HTTPS",
        SslPolicy=TLS_POLICY,
        Certificates=[elb.Certificate(CertificateArn=certificate_arn)],
        DefaultActions=[elb.Action(
            Type="fixed-response",
            FixedResponseConfig=elb.FixedResponseConfig(
                StatusCode="404", ContentType="text/plain",
                MessageBody="dockyard: nothing is deployed at this host"))],
    ))
    t.add_resource(suppress(elb.Listener(
        "HttpListener",
        LoadBalancerArn=Ref(alb),
        Port=80,
        Protocol="HTTP",
        DefaultActions=[elb.Action(Type="redirect", RedirectConfig=elb.RedirectConfig(
            Protocol="HTTPS", Port="443", Host="#{host}", Path="/#{path}", Query="#{query}",
            StatusCode="HTTP_301"))],
    ), ("CKV_AWS_2", "this listener only answers 301 to HTTPS; it serves no content"),
       ("CKV_AWS_103", "plain HTTP listener that only redirects to HTTPS; TLS is set on 443")))

    for name, value in {
        Out.LOAD_BALANCER_ARN: Ref(alb),
        Out.LOAD_BALANCER_FULL_NAME: GetAtt(alb, "LoadBalancerFullName"),
        Out.HTTPS_LISTENER_ARN: Ref(https),
        Out.DNS_NAME: GetAtt(alb, "DNSName"),
        Out.CANONICAL_HOSTED_ZONE_ID: GetAtt(alb, "CanonicalHostedZoneID"),
        Out.SECURITY_GROUP_ID: Ref(security_group),
        Out.CERTIFICATE_ARN: certificate_arn,
    }.items():
        t.add_output(Output(name, Value=value))
    return StackTemplate("edge", cfg.stack_name("edge"), tag_resources(t, cfg), inputs=inputs)


def _security_group(cfg: Config, vpc: object) -> ec2.SecurityGroup:
    rules = []
    narrowed = bool(cfg.host_rule_cidrs())
    if narrowed:
        # AWS STS must reach Jenkins' OIDC issuer from the internet; the listener's rules
        # then admit edge.allowed_cidrs host by host (templates/placement.py, add_host).
        rules.append(ec2.SecurityGroupRule(
            IpProtocol="tcp", FromPort=443, ToPort=443, CidrIp="0.0.0.0/0",
            Description="HTTPS: Jenkins' OIDC issuer for AWS STS; other hosts answer "
                        "edge.allowed_cidrs only (listener rules)"))
    for cidr in cfg.edge.allowed_cidrs:
        source = ({"CidrIp": cidr} if ipaddress.ip_network(cidr).version == 4
                  else {"CidrIpv6": cidr})
        if not narrowed:
            rules.append(ec2.SecurityGroupRule(
                IpProtocol="tcp", FromPort=443, ToPort=443, Description="HTTPS", **source))
        rules.append(ec2.SecurityGroupRule(
            IpProtocol="tcp", FromPort=80, ToPort=80,
            Description="HTTP, answered only with a redirect to HTTPS", **source))
    group = ec2.SecurityGroup(
        "LoadBalancerSecurityGroup",
        # Not changed with the rules: a new description would replace the group.
        GroupDescription=f"dockyard {cfg.name} load balancer: 80 and 443 from edge.allowed_cidrs",
        VpcId=Ref(vpc),
        SecurityGroupIngress=rules,
        # Outbound rules are added by the Jenkins and app stacks, one per target.
        SecurityGroupEgress=[NO_EGRESS],
    )
    if not narrowed:
        suppress(group, ("CKV_AWS_260", "port 80 open to everyone only answers a 301 redirect "
                                        "to HTTPS; edge.allowed_cidrs chose 0.0.0.0/0"))
    return group
