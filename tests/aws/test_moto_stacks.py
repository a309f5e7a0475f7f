"""Every template is created in moto's CloudFormation, in dependency order, with each stack's
parameters fed from earlier stacks' outputs exactly as the templates declare, and reaches
CREATE_COMPLETE; then what ended up in the (emulated) account is checked.

moto cannot create an ACM certificate through CloudFormation; with the emulator's models
(devtools/strict/cfn_models.py) it can, so ``certificate: auto`` (what ``dockyard init`` writes)
is run here too; the other runs use a certificate requested through moto's ACM API (the
``certificate: <ARN>`` branch).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import boto3
import devtools.strict.cfn_models  # noqa: F401  (secrets created by stacks, as AWS does)
import pytest
from moto import mock_aws

from dockyard.config import Config
from dockyard.names import new_test_header_value
from dockyard.stacks.platform import first_weight
from dockyard.templates import Built, Discovered, Input, Retained, render_stacks
from tests.conftest import CERTIFICATE_ARN, VARIANTS, example_config

REGION = "ap-southeast-2"
CONTROLLER_IMAGE = ("123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/acme/jenkins-controller"
                    "@sha256:" + "0" * 64)
AGENT_IMAGE = CONTROLLER_IMAGE.replace("controller@sha256:" + "0" * 64,
                                       "agent@sha256:" + "1" * 64)


@pytest.fixture()
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with warnings.catch_warnings(), mock_aws():
        # moto warns for each resource type its CloudFormation does not model.
        warnings.simplefilter("ignore")
        yield


def _client(service: str) -> Any:
    return boto3.client(service, region_name=REGION)


def _account_for(variant: str) -> tuple[Config, dict[str, str]]:
    """Prepare what the account must already hold, and the config that refers to it."""
    certificate = _client("acm").request_certificate(DomainName="*.example.com")["CertificateArn"]
    zone = _client("route53").create_hosted_zone(Name="example.com", CallerReference="t")
    zone_id = zone["HostedZone"]["Id"].split("/")[-1]
    ec2 = _client("ec2")
    default_vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])
    vpc_id = default_vpc["Vpcs"][0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    subnet_ids = [s["SubnetId"] for s in subnets[:2]]
    text_swaps = {CERTIFICATE_ARN: certificate, "vpc-0123456789abcdef0": vpc_id,
                  "subnet-0aaaaaaaaaaaaaaaa": subnet_ids[0],
                  "subnet-0bbbbbbbbbbbbbbbb": subnet_ids[1],
                  "subnet-0cccccccccccccccc": subnet_ids[0],
                  "subnet-0dddddddddddddddd": subnet_ids[1]}
    replacements = [(old, _swap(new, text_swaps)) for old, new in VARIANTS[variant]]
    if not any(old == "certificate: auto" for old, _ in replacements):
        replacements.append(("certificate: auto", f"certificate: {certificate}"))
    secrets = _client("secretsmanager")
    facts = {"default-vpc-id": vpc_id, "default-vpc-subnets": ",".join(subnet_ids),
             "hosted-zone-id": zone_id}
    for name in ("acme/dockerhub", "acme/web/database"):
        facts[f"secret-arn:{name}"] = secrets.create_secret(Name=name, SecretString="{}")["ARN"]
    cfg = example_config(*replacements)
    facts |= {source.fact: first_weight(source.fact) for stack in render_stacks(cfg)
              for source in stack.inputs.values()
              if isinstance(source, Discovered) and source.fact.startswith("forward-weight:")}
    facts |= {source.fact: new_test_header_value() for stack in render_stacks(cfg)
              for source in stack.inputs.values()
              if isinstance(source, Discovered) and source.fact.startswith("test-header:")}
    facts |= {f"serving-port:{app}": str(settings.port) for app, settings in cfg.apps.items()}
    facts |= {f"created-port:{cfg.stack_name(f'app-{app}')}:TargetGroup": str(settings.port)
              for app, settings in cfg.apps.items()}
    facts |= {f"service-exists:{app}": "false" for app in cfg.apps}  # nothing deployed yet
    return cfg, facts


def _swap(text: str, swaps: dict[str, str]) -> str:
    for fake, real in swaps.items():
        text = text.replace(fake, real)
    return text


def _lookup(source: Input, facts: dict[str, str]) -> str:
    if isinstance(source, Discovered):
        return facts[source.fact]
    if isinstance(source, Built):
        return AGENT_IMAGE if source.image == "jenkins-agent" else CONTROLLER_IMAGE
    assert isinstance(source, Retained)
    return "no" if source.kind in ("repository", "bucket") else ""  # a fresh account keeps nothing


def _create_all(cfg: Config, facts: dict[str, str]) -> dict[str, dict[str, str]]:
    cloudformation = _client("cloudformation")
    outputs: dict[str, dict[str, str]] = {}
    for stack in render_stacks(cfg):
        values = stack.parameter_values(outputs, lambda name, source: _lookup(source, facts))
        cloudformation.create_stack(
            StackName=stack.name, TemplateBody=stack.to_json(),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
            Capabilities=["CAPABILITY_NAMED_IAM"], Tags=[{"Key": "dockyard:name",
                                                          "Value": cfg.name}])
        described = cloudformation.describe_stacks(StackName=stack.name)["Stacks"][0]
        assert described["StackStatus"] == "CREATE_COMPLETE", (stack.name, described)
        outputs[stack.key] = {o["OutputKey"]: o["OutputValue"]
                              for o in described.get("Outputs", [])}
    return outputs


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_stack_reaches_create_complete(aws: None, variant: str) -> None:
    cfg, facts = _account_for(variant)
    outputs = _create_all(cfg, facts)
    expected = {"builder", "edge", "jenkins", "app-web"}
    if cfg.network.mode == "create":
        expected.add("network")
    assert set(outputs) == expected
    assert outputs["jenkins"]["Url"] == cfg.url(cfg.jenkins.host)
    assert outputs["app-web"]["Url"] == "https://web.example.com/"


def test_certificate_auto_is_issued_by_the_edge_stack(aws: None) -> None:
    """The starter's own ``certificate: auto``: the stack requests and (once validated through
    the zone) holds a certificate for ``*.<domain>``, and the HTTPS listener uses it."""
    _, facts = _account_for("example")
    acm = _client("acm")
    before = {c["CertificateArn"] for c in acm.list_certificates()["CertificateSummaryList"]}
    cfg = example_config()
    assert cfg.edge.certificate == "auto"
    outputs = _create_all(cfg, facts)
    (new,) = {c["CertificateArn"] for c in
              acm.list_certificates()["CertificateSummaryList"]} - before
    listener = _client("elbv2").describe_listeners(
        ListenerArns=[outputs["edge"]["HttpsListenerArn"]])["Listeners"][0]
    assert listener["Certificates"][0]["CertificateArn"] == new
    described = acm.describe_certificate(CertificateArn=new)["Certificate"]
    assert (described["DomainName"], described["Status"]) == ("*.example.com", "ISSUED")


def test_the_example_lands_in_the_account(aws: None) -> None:
    cfg, facts = _account_for("example")
    outputs = _create_all(cfg, facts)

    repositories = {r["repositoryName"]: r for r in
                    _client("ecr").describe_repositories()["repositories"]}
    assert set(repositories) == {"acme/jenkins-controller", "acme/jenkins-controller-cache",
                                 "acme/jenkins-agent", "acme/jenkins-agent-cache",
                                 "acme/web", "acme/web-cache", "acme/quarantine/web"}

    ecs = _client("ecs")
    (service,) = ecs.describe_services(cluster="acme", services=["jenkins"])["services"]
    assert service["desiredCount"] == 1
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
    task = definition["taskDefinition"]
    (container,) = task["containerDefinitions"]
    assert container["image"] == CONTROLLER_IMAGE
    assert container["user"] == "1000:1000"
    # moto keeps the volume names but not their EFS settings (the template tests check those).
    assert {v["name"] for v in task["volumes"]} == {"jenkins-home", "tmp", "cache"}

    # the agent pool: jenkins.agents.count swarm agents, their password handed over by ECS
    (pool,) = ecs.describe_services(cluster="acme", services=["jenkins-agents"])["services"]
    assert pool["desiredCount"] == cfg.jenkins.agents.count == 1
    agent_task = ecs.describe_task_definition(taskDefinition=pool["taskDefinition"])
    (agent,) = agent_task["taskDefinition"]["containerDefinitions"]
    assert agent["image"] == AGENT_IMAGE
    assert agent["secrets"] == [{"name": "JENKINS_AGENT_PASSWORD",
                                 "valueFrom": outputs["builder"]["AgentSecretArn"]}]
    assert {e["name"]: e["value"] for e in agent["environment"]}["JENKINS_URL"] \
        == "http://jenkins.acme.internal:8080/"
    secrets = _client("secretsmanager")
    for name, arn in (("acme-jenkins-agents", outputs["builder"]["AgentSecretArn"]),
                      ("acme-jenkins-admin", outputs["jenkins"]["AdminSecretArn"])):
        described = secrets.describe_secret(SecretId=name)
        assert described["ARN"] == arn
        value = secrets.get_secret_value(SecretId=arn)["SecretString"]
        assert len(value) == 32 and value.isalnum()  # generated: 32, no punctuation

    kaniko = ecs.describe_task_definition(taskDefinition=outputs["builder"]["TaskDefinitionAmd64"])
    # moto's CloudFormation keeps task memory but drops task cpu and network mode.
    assert kaniko["taskDefinition"]["memory"] == "8192"
    (executor,) = kaniko["taskDefinition"]["containerDefinitions"]
    assert executor["image"] == cfg.builder.executor_image

    efs = _client("efs")
    (file_system,) = efs.describe_file_systems()["FileSystems"]
    assert file_system["Encrypted"] is True
    assert file_system["FileSystemId"] == outputs["jenkins"]["FileSystemId"]
    (point,) = efs.describe_access_points(FileSystemId=file_system["FileSystemId"])["AccessPoints"]
    assert point["PosixUser"]["Uid"] == 1000
    assert point["RootDirectory"]["Path"] == "/jenkins-home"

    elb = _client("elbv2")
    rules = elb.describe_rules(ListenerArn=outputs["edge"]["HttpsListenerArn"])["Rules"]
    hosts = {value for rule in rules for condition in rule.get("Conditions", [])
             for value in condition.get("HostHeaderConfig", {}).get("Values", [])}
    assert hosts == {"jenkins.example.com", "web.example.com"}
    (https,) = [x for x in elb.describe_listeners(
        LoadBalancerArn=outputs["edge"]["LoadBalancerArn"])["Listeners"] if x["Port"] == 443]
    assert https["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"

    records = _client("route53").list_resource_record_sets(
        HostedZoneId=facts["hosted-zone-id"])["ResourceRecordSets"]
    aliases = {r["Name"] for r in records if r["Type"] == "A"}
    assert {"jenkins.example.com.", "web.example.com."} <= aliases

    groups = {g["logGroupName"]: g for g in _client("logs").describe_log_groups()["logGroups"]}
    assert groups["/dockyard/acme/jenkins"]["retentionInDays"] == 30
    assert groups["/dockyard/acme/builds"]["retentionInDays"] == 14
    assert "/dockyard/acme/apps/web" in groups

    roles = _client("iam").list_roles()["Roles"]
    kaniko_role = next(r for r in roles if r["Arn"] == outputs["builder"]["KanikoRoleArn"])
    trust = kaniko_role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
