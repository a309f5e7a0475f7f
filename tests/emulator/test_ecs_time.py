"""The emulated ECS keeps ECS's time (devtools/ecs, docs/aws-assumptions.md): each stage of a
deployment lasts what its configuration and its target groups say, on a virtual clock this test
moves by hand, and a PAUSE hook nobody answers times out with its action. In-process moto, the
app stack as ``up`` creates it, the requests as ``deploy`` sends them."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from devtools.ecs import CLOCK, patch_ecs
from devtools.fake_kaniko import image_manifest
from moto import mock_aws

from dockyard.aws.cloudformation import CloudFormation
from dockyard.aws.services import Services
from dockyard.config import Config
from dockyard.deploy.definition import AppTarget, create_request, task_definition, update_request
from dockyard.deploy.targets import find_target
from tests.aws.test_moto_stacks import REGION, _account_for, _create_all

CANARY = ("strategy: rolling", "strategy: canary")
SMOKE = ("strategy: rolling", "strategy: canary\n      smoke_test: echo ok")


class Manual:
    """Virtual seconds that move only when the test says so."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds


@pytest.fixture()
def clock() -> Iterator[Manual]:
    manual = Manual()
    CLOCK.drive(manual)
    yield manual
    CLOCK.drive(None)


def _platform(monkeypatch: pytest.MonkeyPatch, change: tuple[str, str]) -> Iterator[Config]:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    patch_ecs()
    with warnings.catch_warnings(), mock_aws():
        warnings.simplefilter("ignore")
        from tests.conftest import VARIANTS

        monkeypatch.setitem(VARIANTS, "timed", (change,))
        cfg, facts = _account_for("timed")
        _create_all(cfg, facts)
        yield cfg


@pytest.fixture()
def canary(monkeypatch: pytest.MonkeyPatch) -> Iterator[Config]:
    yield from _platform(monkeypatch, CANARY)


@pytest.fixture()
def smoked(monkeypatch: pytest.MonkeyPatch) -> Iterator[Config]:
    yield from _platform(monkeypatch, SMOKE)


class App:
    """The web app's service, deployed through the requests ``deploy`` sends."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.ecs: Any = boto3.client("ecs", region_name=REGION)
        self.elb: Any = boto3.client("elbv2", region_name=REGION)
        self.services = Services(self.ecs)
        self.target: AppTarget = find_target(
            CloudFormation(boto3.client("cloudformation", region_name=REGION)), cfg, "web")

    def deploy(self, tag: str) -> str:
        """Deploy the image ``tag``; the service deployment's ARN."""
        ecr = boto3.client("ecr", region_name=REGION)
        digest = ecr.put_image(repositoryName="acme/web", imageTag=tag,
                               imageManifest=image_manifest(tag, []))["image"]["imageId"][
            "imageDigest"]
        image = f"{self.target.registry}/acme/web@{digest}"
        arn = self.services.register(task_definition(self.cfg, self.target, image, {}))
        if self.services.describe(self.target.cluster, "web") is None:
            self.services.create(create_request(self.cfg, self.target, arn))
        else:
            self.services.update(update_request(self.cfg, self.target, arn))
        (latest, *_) = self.ecs.list_service_deployments(cluster=self.target.cluster,
                                                         service="web")["serviceDeployments"]
        return str(latest["serviceDeploymentArn"])

    def record(self, arn: str) -> dict[str, Any]:
        (found,) = self.ecs.describe_service_deployments(serviceDeploymentArns=[arn])[
            "serviceDeployments"]
        return dict(found)

    def production_weights(self) -> list[int]:
        outputs = {o["OutputKey"]: o["OutputValue"] for o in boto3.client(
            "cloudformation", region_name=REGION).describe_stacks(
            StackName="acme-app-web")["Stacks"][0]["Outputs"]}
        (rule,) = self.elb.describe_rules(RuleArns=[outputs["ProductionRuleArn"]])["Rules"]
        return [g["Weight"] for g in rule["Actions"][0]["ForwardConfig"]["TargetGroups"]]


def _timeline(app: App, arn: str, clock: Manual, *, step: float = 5.0,
              until: float = 4 * 3600) -> tuple[dict[str, float], dict[str, Any]]:
    """When (virtual seconds after now) each stage was first seen, polling every ``step``;
    and the deployment's last record."""
    began = clock.seconds
    first: dict[str, float] = {}
    while clock.seconds - began < until:
        record = app.record(arn)
        if record["status"] not in ("IN_PROGRESS", "ROLLBACK_IN_PROGRESS"):
            first.setdefault(record["status"], clock.seconds - began)
            return first, record
        first.setdefault(record.get("lifecycleStage", ""), clock.seconds - began)
        clock.seconds += step
    pytest.fail(f"the deployment did not end within {until:g} virtual seconds")


def test_a_canary_holds_each_stage_for_as_long_as_ecs_would(canary: Config,
                                                           clock: Manual) -> None:
    app = App(canary)
    _timeline(app, app.deploy("v1"), clock)  # the service's first deployment
    deploy = canary.apps["web"].deploy
    arn = app.deploy("v2")
    first, record = _timeline(app, arn, clock)
    assert record["status"] == "SUCCESSFUL", record
    # Tasks start in 60 s and pass the target group's checks (2 x 10 s); each traffic move
    # takes 5 s; the canary share bakes for canary_bake_minutes, all traffic for bake_minutes.
    scale_up, healthy = first["SCALE_UP"], first["POST_SCALE_UP"]
    assert healthy - scale_up == pytest.approx(60, abs=5)
    assert first["TEST_TRAFFIC_SHIFT"] - healthy == pytest.approx(20, abs=5)
    production = first["PRODUCTION_TRAFFIC_SHIFT"]
    bake = first["BAKE_TIME"]
    assert bake - production == pytest.approx(deploy.canary_bake_minutes * 60 + 10, abs=5)
    assert first["CLEAN_UP"] - bake == pytest.approx(deploy.bake_minutes * 60, abs=5)
    # The old tasks drain for the target group's deregistration delay (the template's 30 s).
    assert first["SUCCESSFUL"] - first["CLEAN_UP"] == pytest.approx(30, abs=5)
    # PRE_SCALE_UP and the POST_ stages with no hook take no time: a poll never sees them.
    assert list(first) == ["SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT",
                           "PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP",
                           "SUCCESSFUL"], first
    assert sorted(app.production_weights()) == [0, 100]


def test_the_canary_share_holds_for_the_canary_bake(canary: Config, clock: Manual) -> None:
    app = App(canary)
    _timeline(app, app.deploy("v1"), clock)
    deploy = canary.apps["web"].deploy
    arn = app.deploy("v2")
    while app.record(arn).get("lifecycleStage") != "PRODUCTION_TRAFFIC_SHIFT":
        clock.seconds += 1
    share = app.record(arn)["targetServiceRevision"]["requestedProductionTrafficWeight"]
    assert share == deploy.canary_percent
    clock.seconds += deploy.canary_bake_minutes * 60 - 10  # not yet
    assert app.record(arn)["targetServiceRevision"]["requestedProductionTrafficWeight"] == share
    assert sorted(app.production_weights()) == sorted([100 - round(share), round(share)])
    clock.seconds += 20
    assert app.record(arn)["targetServiceRevision"]["requestedProductionTrafficWeight"] == 100


def test_an_unanswered_pause_hook_times_out_and_ecs_takes_its_action(smoked: Config,
                                                                    clock: Manual) -> None:
    app = App(smoked)
    v1 = app.deploy("v1")
    while app.record(v1)["status"] == "IN_PROGRESS":  # the first deployment's hook: CONTINUE
        for hook in app.record(v1).get("lifecycleHookDetails", []):
            if hook["status"] == "AWAITING_ACTION":
                app.ecs.continue_service_deployment(serviceDeploymentArn=v1,
                                                    hookId=hook["hookId"], action="CONTINUE")
        clock.seconds += 5
    assert app.record(v1)["status"] == "SUCCESSFUL"
    arn = app.deploy("v2")
    while app.record(arn).get("lifecycleStage") != "POST_TEST_TRAFFIC_SHIFT":
        clock.seconds += 1
    (hook,) = app.record(arn)["lifecycleHookDetails"]
    assert (hook["status"], hook["timeoutAction"]) == ("AWAITING_ACTION", "ROLLBACK")
    timeout = smoked.apps["web"].deploy.smoke_timeout_minutes + 5  # SMOKE_HOOK_MARGIN_MINUTES
    assert (hook["expiresAt"] - CLOCK.stamp()).total_seconds() == pytest.approx(timeout * 60,
                                                                                abs=2)
    clock.seconds += timeout * 60 - 5
    assert app.record(arn)["lifecycleHookDetails"][0]["status"] == "AWAITING_ACTION", \
        "held until its timeout"
    assert app.record(arn)["lifecycleStage"] == "POST_TEST_TRAFFIC_SHIFT"
    clock.seconds += 10
    record = app.record(arn)
    assert record["lifecycleHookDetails"][0]["status"] == "TIMED_OUT"
    assert record["status"] == "ROLLBACK_IN_PROGRESS"
    assert "timed out" in record["rollback"]["reason"]
    assert sorted(app.production_weights()) == [0, 100]
    _, final = _timeline(app, arn, clock)
    assert final["status"] == "ROLLBACK_SUCCESSFUL"
    late = app.ecs.exceptions.InvalidParameterException
    with pytest.raises(late):
        app.ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"],
                                            action="CONTINUE")


def test_a_continue_answer_lets_the_stage_end_when_it_is_given(smoked: Config,
                                                               clock: Manual) -> None:
    app = App(smoked)
    v1 = app.deploy("v1")
    while app.record(v1)["status"] == "IN_PROGRESS":
        for hook in app.record(v1).get("lifecycleHookDetails", []):
            if hook["status"] == "AWAITING_ACTION":
                app.ecs.continue_service_deployment(serviceDeploymentArn=v1,
                                                    hookId=hook["hookId"], action="CONTINUE")
        clock.seconds += 5
    arn = app.deploy("v2")
    while app.record(arn).get("lifecycleStage") != "POST_TEST_TRAFFIC_SHIFT":
        clock.seconds += 1
    clock.seconds += 7 * 60  # the smoke test takes 7 minutes
    assert app.record(arn)["lifecycleStage"] == "POST_TEST_TRAFFIC_SHIFT"
    (hook,) = app.record(arn)["lifecycleHookDetails"]
    app.ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"],
                                        action="CONTINUE")
    record = app.record(arn)
    assert record["lifecycleHookDetails"][0]["status"] == "SUCCEEDED"
    assert record["lifecycleStage"] == "PRODUCTION_TRAFFIC_SHIFT", "it moves on at once"


@pytest.fixture()
def linear(monkeypatch: pytest.MonkeyPatch) -> Iterator[Config]:
    yield from _platform(monkeypatch, ("strategy: rolling", "strategy: linear"))


def test_a_linear_deploy_with_default_steps_completes_within_deploys_own_wait(
        linear: Config) -> None:
    """deploy, as the CLI wires it, on the same clock as ECS: ten 10% steps, six minutes
    apart, and the final bake, all inside the wait deploy picks without --timeout."""
    from dockyard.aws.storage import Registry
    from dockyard.deploy.app import AppDeployer
    from dockyard.deploy.image import pin_image
    from dockyard.deploy.rollout import RolloutWatch
    from dockyard.deploy.stages import StageWatch
    from dockyard.deploy.timing import wait_seconds
    from dockyard.errors import ExitCode
    from tests.fakes import FakeClock, Notes

    fake, notes = FakeClock(), Notes()
    CLOCK.drive(fake.now)
    try:
        app = App(linear)
        deployer = AppDeployer(linear, app.services, RolloutWatch(app.services, fake, notes),
                               notes, stages=StageWatch(app.services, fake, notes))
        wait = wait_seconds(linear.apps["web"])

        def deploy(tag: str) -> tuple[int, float]:
            boto3.client("ecr", region_name=REGION).put_image(
                repositoryName="acme/web", imageTag=tag, imageManifest=image_manifest(tag, []))
            image = pin_image(tag, project="acme", app="web", registry=app.target.registry,
                              lookup=Registry(boto3.client("ecr", region_name=REGION)))
            began = fake.now()
            result = deployer.deploy(app.target, image, {}, wait=True, timeout=wait)
            return result.exit_code, fake.now() - began

        assert deploy("v1")[0] == ExitCode.OK
        code, took = deploy("v2")
    finally:
        CLOCK.drive(None)
    steps = [e.production_percent for e in notes.deployments if e.kind == "traffic"]
    assert code == ExitCode.OK, notes[-5:]
    assert steps[-10:] == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    deploy_settings = linear.apps["web"].deploy
    assert took >= 9 * deploy_settings.step_bake_minutes * 60 + deploy_settings.bake_minutes * 60
    assert took < wait, f"{took / 60:.0f} min of ECS's time, inside the {wait / 60:.0f} min wait"
    print(f"linear with default steps: {took / 60:.1f} min of ECS's time; wait {wait / 60:.0f} min")



def test_a_rule_the_infrastructure_role_may_not_modify_fails_the_deployment(
        canary: Config, clock: Manual) -> None:
    import json

    app = App(canary)
    _timeline(app, app.deploy("v1"), clock)
    role = app.target.infrastructure_role.rsplit("/", 1)[-1]
    iam = boto3.client("iam", region_name=REGION)
    (name,) = iam.list_role_policies(RoleName=role)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
    if isinstance(document, str):  # moto hands back the document as CloudFormation gave it
        import ast

        document = ast.literal_eval(document)
    document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != "ShiftTraffic"]
    iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(document))
    before = app.production_weights()
    _, record = _timeline(app, app.deploy("v2"), clock)
    assert record["status"] == "ROLLBACK_SUCCESSFUL", record
    assert "could not modify listener rule" in record["rollback"]["reason"]
    assert "elasticloadbalancing:ModifyRule" in record["rollback"]["reason"]
    assert app.production_weights() == before, "production never moved"


def test_a_strategy_switch_waits_for_the_deployment_under_way_then_applies_to_the_next(
        canary: Config, clock: Manual) -> None:
    from botocore.exceptions import ClientError

    app = App(canary)
    _timeline(app, app.deploy("v1"), clock)
    v1 = app.services.describe(app.target.cluster, "web")
    assert v1 is not None
    arn = app.deploy("v2")
    clock.seconds += 120  # mid-canary
    with pytest.raises(ClientError, match="cannot change from CANARY to ROLLING") as refused:
        app.services._client.update_service(**update_request(
            canary, app.target, v1.task_definition, strategy="rolling"))
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
    assert app.record(arn)["status"] == "IN_PROGRESS", "the canary goes on, untouched"
    assert app.ecs.describe_services(cluster=app.target.cluster, services=["web"])[
        "services"][0]["deploymentConfiguration"]["strategy"] == "CANARY"
    _timeline(app, arn, clock)
    # Once it has ended, one UpdateService switches to ROLLING and its deployment is rolling.
    app.services.update(update_request(canary, app.target, v1.task_definition,
                                       strategy="rolling"))
    (latest, *_) = app.ecs.list_service_deployments(cluster=app.target.cluster,
                                                    service="web")["serviceDeployments"]
    first, record = _timeline(app, latest["serviceDeploymentArn"], clock)
    assert record["status"] == "SUCCESSFUL"
    assert "lifecycleStage" not in record and set(first) == {"", "SUCCESSFUL"}, first
    assert first["SUCCESSFUL"] < 3 * 60, "tasks start, pass health checks, the old drain"
