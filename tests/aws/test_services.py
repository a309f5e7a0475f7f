"""ECS services through the real wrappers: request shapes checked by botocore's Stubber, and
whole deploys against moto in-process with the deployment emulator (devtools/ecs)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber
from devtools.ecs import CLOCK, CRASH, patch_ecs
from devtools.fake_kaniko import image_manifest
from moto import mock_aws

from dockyard.aws.cloudformation import CloudFormation
from dockyard.aws.services import Services, TargetHealth, TargetState
from dockyard.aws.session import AwsSession
from dockyard.aws.storage import Registry
from dockyard.config import Config
from dockyard.deploy.app import AppDeployer, DeployResult
from dockyard.deploy.image import pin_image
from dockyard.deploy.rollout import RolloutWatch
from dockyard.deploy.targets import find_target
from dockyard.errors import ExitCode
from dockyard.names import short_arn
from tests.aws.test_moto_stacks import REGION, _account_for, _create_all
from tests.fakes import FakeClock, Notes

PREFIX = "arn:aws:ecs:ap-southeast-2:123456789012"


def test_completed_deployments_come_newest_first_across_pages() -> None:
    ecs = boto3.client("ecs", region_name=REGION, aws_access_key_id="x",
                       aws_secret_access_key="x")

    def brief(n: int, day: int) -> dict[str, object]:
        return {"serviceDeploymentArn": f"{PREFIX}:service-deployment/acme/web/{n}",
                "targetServiceRevisionArn": f"{PREFIX}:service-revision/acme/web/{n}",
                "status": "SUCCESSFUL", "createdAt": datetime(2026, 11, day, tzinfo=UTC)}

    with Stubber(ecs) as stub:
        stub.add_response("list_service_deployments",
                          {"serviceDeployments": [brief(1, 1), brief(3, 3)], "nextToken": "t"},
                          {"cluster": "acme", "service": "web", "status": ["SUCCESSFUL"],
                           "maxResults": 20})
        stub.add_response("list_service_deployments", {"serviceDeployments": [brief(2, 2)]},
                          {"cluster": "acme", "service": "web", "status": ["SUCCESSFUL"],
                           "maxResults": 20, "nextToken": "t"})
        stub.add_response("describe_service_revisions", {"serviceRevisions": [
            {"serviceRevisionArn": f"{PREFIX}:service-revision/acme/web/{n}",
             "taskDefinition": f"{PREFIX}:task-definition/acme-web:{rev}"}
            for n, rev in ((1, 1), (3, 7), (2, 7))], "failures": []})
        found = Services(ecs).completed_deployments("acme", "web")
    assert [(d.arn.rsplit("/", 1)[1], short_arn(d.task_definition), d.started_at.day
             if d.started_at else None) for d in found] == [
        ("3", "acme-web:7", 3), ("2", "acme-web:7", 2), ("1", "acme-web:1", 1)], \
        "newest first across pages, each deployment with the revision it put in service"


@pytest.fixture()
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Config]:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    patch_ecs()
    with warnings.catch_warnings(), mock_aws():
        warnings.simplefilter("ignore")
        cfg, facts = _account_for("example")
        _create_all(cfg, facts)
        yield cfg


@pytest.fixture()
def clock() -> Iterator[FakeClock]:
    """The deployer's clock, which the emulated ECS keeps time by too: each of its waits
    lets ECS's time pass."""
    fake = FakeClock()
    CLOCK.drive(fake.now)
    yield fake
    CLOCK.drive(None)


def push(tag: str, *, crash: bool = False) -> None:
    """An image in acme/web, as a build would leave it (optionally one that crashes)."""
    boto3.client("ecr", region_name=REGION).put_image(
        repositoryName="acme/web", imageManifest=image_manifest(tag, [CRASH] if crash else []),
        imageTag=tag)


def test_deploys_create_update_and_roll_back_in_moto(account: Config, clock: FakeClock) -> None:
    aws = AwsSession(boto3.Session(region_name=REGION), REGION)
    target = find_target(CloudFormation(aws.client("cloudformation")), account, "web")
    services = Services(aws.client("ecs"))
    notes = Notes()
    deployer = AppDeployer(account, services, RolloutWatch(services, clock, notes),
                           notes)
    registry = Registry(aws.client("ecr"))

    def deploy(tag: str) -> DeployResult:
        image = pin_image(tag, project="acme", app="web", registry=target.registry,
                          lookup=registry)
        return deployer.deploy(target, image, {}, wait=True, timeout=600)

    push("v1")
    first = deploy("v1")
    assert first.created is True
    assert first.exit_code == ExitCode.OK
    ecs = aws.client("ecs")
    (live,) = ecs.describe_services(cluster=target.cluster, services=["web"])["services"]
    assert live["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True,
                                                                          "rollback": True}
    definition = ecs.describe_task_definition(taskDefinition=live["taskDefinition"])
    image = definition["taskDefinition"]["containerDefinitions"][0]["image"]
    assert "@sha256:" in image and image.startswith(target.registry + "/acme/web@")

    push("v2")
    began = clock.now()
    second = deploy("v2")
    assert second.created is False and second.exit_code == ExitCode.OK
    # ECS's time passed: the tasks started (60 s), passed the target group's health checks
    # (2 x 10 s) and the old ones drained (30 s) before the deployment completed.
    assert clock.now() - began >= 60 + 2 * 10 + 30
    assert live["taskDefinition"].endswith(":1")
    assert second.task_definition.endswith(":2")

    push("v3", crash=True)
    third = deploy("v3")
    assert third.exit_code == ExitCode.ROLLED_BACK
    (after,) = ecs.describe_services(cluster=target.cluster, services=["web"])["services"]
    assert after["taskDefinition"].endswith(":2"), "ECS went back to the last good revision"
    assert services.completed_deployments(target.cluster, "web")[0].task_definition \
        .endswith(":2")


def test_target_health_reads_each_targets_state_and_reason() -> None:
    client = boto3.client("elbv2", region_name=REGION)
    stub = Stubber(client)
    stub.add_response("describe_target_health", {"TargetHealthDescriptions": [
        {"Target": {"Id": "10.0.1.5", "Port": 8080},
         "TargetHealth": {"State": "unhealthy", "Reason": "Target.ResponseCodeMismatch",
                          "Description": "Health checks failed with these codes: [503]"}},
        {"Target": {"Id": "10.0.2.7", "Port": 8080}, "TargetHealth": {"State": "healthy"}}]},
        {"TargetGroupArn": "arn:tg"})
    with stub:
        found = TargetHealth(client).targets("arn:tg")
    assert found == [
        TargetState("10.0.1.5:8080", "unhealthy", "Target.ResponseCodeMismatch",
                    "Health checks failed with these codes: [503]"),
        TargetState("10.0.2.7:8080", "healthy")]
