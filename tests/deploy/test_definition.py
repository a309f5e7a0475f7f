"""What a deploy asks ECS for, read from the request documents themselves."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.validate import ParamValidator

from dockyard.config import Config
from dockyard.deploy.definition import (
    AppTarget,
    create_request,
    target_from_outputs,
    task_definition,
    update_request,
)
from dockyard.errors import DockyardError, ExitCode
from tests.conftest import example_config

IMAGE = "123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/acme/web@sha256:" + "ab" * 32
BUILDER = {"ClusterArn": "arn:aws:ecs:ap-southeast-2:123456789012:cluster/acme",
           "Subnets": "subnet-a,subnet-b", "AssignPublicIp": "ENABLED"}
APP = {"SecurityGroupId": "sg-app", "TargetGroupArn": "arn:aws:elasticloadbalancing:tg/web",
       "ExecutionRoleArn": "arn:aws:iam::123456789012:role/acme-app-web-ExecutionRole",
       "TaskRoleArn": "arn:aws:iam::123456789012:role/acme-app-web-TaskRole",
       "LogGroupName": "/dockyard/acme/apps/web", "Url": "https://web.example.com/"}
SECRET_ARN = "arn:aws:secretsmanager:ap-southeast-2:123456789012:secret:acme/web/db-AbCdEf"


def _with_env_and_secrets() -> tuple[Config, AppTarget]:
    cfg = example_config(("      LOG_LEVEL: info", "      MODE: production\n      A_FIRST: '1'"),
                         ("secrets: {}", "secrets: {DATABASE_URL: acme/web/db, "
                                         "API_TOKEN: 'ssm:/acme/web/api-token', "
                                         f"RAW: '{SECRET_ARN}:password::'}}"))
    return cfg, target_from_outputs(cfg, "web", BUILDER, APP)


def _valid(operation: str, request: dict[str, object]) -> None:
    """The request matches ECS's own API model (what boto3 would send)."""
    model = botocore.session.get_session().get_service_model("ecs")
    report = ParamValidator().validate(request, model.operation_model(operation).input_shape)
    assert not report.has_errors(), report.generate_report()


def test_the_task_definition_pins_the_image_and_follows_the_config() -> None:
    cfg, target = _with_env_and_secrets()
    definition = task_definition(cfg, target, IMAGE, {"acme/web/db": SECRET_ARN})
    _valid("RegisterTaskDefinition", definition)
    (container,) = definition["containerDefinitions"]
    assert container["image"] == IMAGE
    assert container["portMappings"] == [{"containerPort": 5001, "protocol": "tcp"}]
    assert (definition["cpu"], definition["memory"]) == ("256", "512")
    assert definition["family"] == "acme-web"
    assert definition["requiresCompatibilities"] == ["FARGATE"]
    assert definition["executionRoleArn"] == APP["ExecutionRoleArn"]
    assert definition["taskRoleArn"] == APP["TaskRoleArn"]
    assert container["environment"] == [{"name": "A_FIRST", "value": "1"},
                                        {"name": "MODE", "value": "production"}]
    assert container["logConfiguration"] == {"logDriver": "awslogs", "options": {
        "awslogs-group": "/dockyard/acme/apps/web", "awslogs-region": "ap-southeast-2",
        "awslogs-stream-prefix": "app"}}
    assert {"key": "dockyard:name", "value": "acme"} in definition["tags"]
    # read-only root, /tmp a scratch volume of the task's storage
    assert container["readonlyRootFilesystem"] is True
    assert container["mountPoints"] == [{"sourceVolume": "tmp", "containerPath": "/tmp",
                                         "readOnly": False}]
    assert definition["volumes"] == [{"name": "tmp"}]
    writable = example_config(("health_check: /", "health_check: /\n    read_only_root: false"))
    opted_out = task_definition(writable, target, IMAGE, {})
    _valid("RegisterTaskDefinition", opted_out)
    assert "readonlyRootFilesystem" not in opted_out["containerDefinitions"][0]
    assert "volumes" not in opted_out


def test_secrets_reach_the_container_only_as_arns() -> None:
    cfg, target = _with_env_and_secrets()
    definition = task_definition(cfg, target, IMAGE, {"acme/web/db": SECRET_ARN})
    (container,) = definition["containerDefinitions"]
    assert container["secrets"] == [
        {"name": "API_TOKEN",
         "valueFrom": "arn:aws:ssm:ap-southeast-2:123456789012:parameter/acme/web/api-token"},
        {"name": "DATABASE_URL", "valueFrom": SECRET_ARN},
        {"name": "RAW", "valueFrom": f"{SECRET_ARN}:password::"},
    ]
    values = {e["value"] for e in container["environment"]}
    assert not any("acme/web/db" in v or "api-token" in v for v in values)


def test_the_service_rolls_back_on_failure_and_keeps_full_capacity() -> None:
    cfg = example_config()
    target = target_from_outputs(cfg, "web", BUILDER, APP)
    arn = "arn:aws:ecs:ap-southeast-2:123456789012:task-definition/acme-web:3"
    create = create_request(cfg, target, arn)
    _valid("CreateService", create)
    assert create["deploymentConfiguration"] == {
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "minimumHealthyPercent": 100, "maximumPercent": 200, "strategy": "ROLLING",
        "alarms": {"alarmNames": [], "enable": False, "rollback": False}}, "a stack of old"
    assert create["launchType"] == "FARGATE"
    assert create["loadBalancers"] == [{"targetGroupArn": APP["TargetGroupArn"],
                                        "containerName": "web", "containerPort": 5001}]
    assert create["networkConfiguration"]["awsvpcConfiguration"] == {
        "subnets": ["subnet-a", "subnet-b"], "securityGroups": ["sg-app"],
        "assignPublicIp": "ENABLED"}
    assert create["healthCheckGracePeriodSeconds"] >= 30
    assert create["enableExecuteCommand"] is False
    update = update_request(cfg, target, arn)
    assert update["enableExecuteCommand"] is False, "a deploy turns off what was turned on by hand"
    _valid("UpdateService", update)
    assert update["taskDefinition"] == arn
    assert update["deploymentConfiguration"] == create["deploymentConfiguration"]
    assert update["desiredCount"] == cfg.apps["web"].count
    alarmed = target_from_outputs(cfg, "web", BUILDER, {**APP, "AlarmNames":
                                                        "acme-web-error-rate,acme-web-slow"})
    with_alarms = update_request(cfg, alarmed, arn)
    _valid("UpdateService", with_alarms)
    assert with_alarms["deploymentConfiguration"]["alarms"] == {
        "alarmNames": ["acme-web-error-rate", "acme-web-slow"], "enable": True,
        "rollback": True}, "the app stack's alarms fail the deployment and roll it back"
    assert update["loadBalancers"] == create["loadBalancers"], \
        "every deploy puts the service's load balancer back as the app stack has it"
    assert "loadBalancers" not in update_request(cfg, target, arn, with_load_balancer=False)


def test_a_port_the_app_stack_does_not_serve_is_refused_before_anything_changes() -> None:
    cfg = example_config()
    served = target_from_outputs(cfg, "web", BUILDER, {**APP, "ContainerPort": "5001"})
    assert task_definition(cfg, served, IMAGE, {})["containerDefinitions"][0][
        "portMappings"] == [{"containerPort": 5001, "protocol": "tcp"}]
    stale = target_from_outputs(cfg, "web", BUILDER, {**APP, "ContainerPort": "8080"})
    with pytest.raises(DockyardError, match=r"apps.web.port is 5001 in dockyard.yml but the "
                                            r"app stack serves 8080") as caught:
        task_definition(cfg, stale, IMAGE, {})
    assert caught.value.exit_code == ExitCode.AWS_PRECONDITION
    assert caught.value.hint == "dockyard up --only app-web first, then deploy"


@pytest.mark.parametrize(("archs", "expected"), [("[arm64]", "ARM64"), ("[amd64]", "X86_64"),
                                                 ("[amd64, arm64]", "X86_64")])
def test_the_cpu_architecture_follows_what_the_builder_builds(archs: str, expected: str) -> None:
    cfg = example_config(("architectures: [amd64]", f"architectures: {archs}"))
    target = target_from_outputs(cfg, "web", BUILDER, APP)
    definition = task_definition(cfg, target, IMAGE, {})
    assert definition["runtimePlatform"]["cpuArchitecture"] == expected


def test_private_subnets_get_no_public_ip() -> None:
    cfg = example_config()
    target = target_from_outputs(cfg, "web", {**BUILDER, "AssignPublicIp": "DISABLED"}, APP)
    request = create_request(cfg, target, "arn:td")
    assert request["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == \
        "DISABLED"


def test_a_health_command_becomes_the_containers_health_check() -> None:
    cfg = example_config(("    health_check: /",
                          "    health_check: /\n"
                          "    health_command: curl -fsS http://localhost:5001/healthz"))
    target = target_from_outputs(cfg, "web", BUILDER, APP)
    definition = task_definition(cfg, target, IMAGE, {})
    _valid("RegisterTaskDefinition", definition)
    (container,) = definition["containerDefinitions"]
    assert container["healthCheck"] == {
        "command": ["CMD-SHELL", "curl -fsS http://localhost:5001/healthz"],
        "interval": 30, "timeout": 5, "retries": 3, "startPeriod": 60}
    plain = task_definition(example_config(), target, IMAGE, {})
    assert "healthCheck" not in plain["containerDefinitions"][0], "none unless asked"


PROGRESSIVE = {**APP,
               "AlternateTargetGroupArn": "arn:aws:elasticloadbalancing:ap-southeast-2:"
                                          "123456789012:targetgroup/acme-web-b/2",
               "ProductionRuleArn": "arn:aws:elasticloadbalancing:ap-southeast-2:123456789012:"
                                    "listener-rule/app/acme/1/2/3",
               "TestRuleArn": "arn:aws:elasticloadbalancing:ap-southeast-2:123456789012:"
                              "listener-rule/app/acme/1/2/4",
               "InfrastructureRoleArn": "arn:aws:iam::123456789012:role/acme-app-web-Infra"}


@pytest.mark.parametrize(("strategy", "expected"), [
    ("blue-green", {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 5}),
    ("canary", {"strategy": "CANARY", "bakeTimeInMinutes": 5,
                "canaryConfiguration": {"canaryPercent": 12.5, "canaryBakeTimeInMinutes": 10}}),
    ("linear", {"strategy": "LINEAR", "bakeTimeInMinutes": 5,
                "linearConfiguration": {"stepPercent": 10.0, "stepBakeTimeInMinutes": 6}}),
])
def test_a_progressive_strategy_sends_its_timings_the_rules_and_a_smoke_test_pause(
        strategy: str, expected: dict[str, object]) -> None:
    cfg = example_config(("strategy: rolling", f"strategy: {strategy}\n"
                          "      canary_percent: 12.5\n"
                          "      smoke_test: curl -fsS $DOCKYARD_TEST_URL"))
    target = target_from_outputs(cfg, "web", BUILDER, PROGRESSIVE)
    arn = "arn:aws:ecs:ap-southeast-2:123456789012:task-definition/acme-web:3"
    for operation, request in (("CreateService", create_request(cfg, target, arn)),
                               ("UpdateService", update_request(cfg, target, arn))):
        _valid(operation, request)
        settings = request["deploymentConfiguration"]
        assert {k: v for k, v in settings.items() if k in expected} == expected
        assert not {"canaryConfiguration", "linearConfiguration"} - set(expected) & set(settings)
        assert settings["lifecycleHooks"] == [{
            "targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
            "timeoutConfiguration": {"timeoutInMinutes": 15, "action": "ROLLBACK"}}]
        assert request["loadBalancers"][0]["advancedConfiguration"] == {
            "alternateTargetGroupArn": PROGRESSIVE["AlternateTargetGroupArn"],
            "productionListenerRule": PROGRESSIVE["ProductionRuleArn"],
            "testListenerRule": PROGRESSIVE["TestRuleArn"],
            "roleArn": PROGRESSIVE["InfrastructureRoleArn"]}


def test_a_one_time_strategy_overrides_dockyard_yml_and_needs_the_stack_ready() -> None:
    cfg = example_config()
    ready = target_from_outputs(cfg, "web", BUILDER, PROGRESSIVE)
    request = update_request(cfg, ready, "arn:td", strategy="blue-green")
    _valid("UpdateService", request)
    assert request["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"
    assert request["deploymentConfiguration"]["lifecycleHooks"] == [], "no smoke test set"
    rolling_stack = target_from_outputs(cfg, "web", BUILDER, APP)
    with pytest.raises(DockyardError, match="a canary deploy needs the second target group") \
            as caught:
        update_request(cfg, rolling_stack, "arn:td", strategy="canary")
    assert caught.value.exit_code == ExitCode.AWS_PRECONDITION
    assert "dockyard up --only app-web" in (caught.value.hint or "")


def test_ecs_exec_follows_dockyard_yml_in_every_deploy() -> None:
    cfg = example_config(("    port: 5001\n", "    port: 5001\n    exec: true\n"
                                               "    read_only_root: false\n"))
    target = target_from_outputs(cfg, "web", BUILDER, APP)
    arn = "arn:aws:ecs:ap-southeast-2:123456789012:task-definition/acme-web:3"
    create, update = create_request(cfg, target, arn), update_request(cfg, target, arn)
    _valid("CreateService", create)
    _valid("UpdateService", update)
    assert (create["enableExecuteCommand"], update["enableExecuteCommand"]) == (True, True)
    definition = task_definition(cfg, target, IMAGE, {})
    _valid("RegisterTaskDefinition", definition)
    (container,) = definition["containerDefinitions"]
    assert container["linuxParameters"] == {"initProcessEnabled": True}
    plain = task_definition(example_config(), target, IMAGE, {})
    assert "linuxParameters" not in plain["containerDefinitions"][0]


def test_with_scale_a_new_service_starts_at_min_and_deploys_leave_the_count_alone() -> None:
    cfg = example_config(("    count: 1\n", "    scale: {min: 2, max: 5, cpu_percent: 50}\n"))
    target = target_from_outputs(cfg, "web", BUILDER, APP)
    arn = "arn:aws:ecs:ap-southeast-2:123456789012:task-definition/acme-web:3"
    assert create_request(cfg, target, arn)["desiredCount"] == 2
    update = update_request(cfg, target, arn)
    _valid("UpdateService", update)
    assert "desiredCount" not in update, "the scaler's count stands"
    assert update_request(example_config(), target_from_outputs(
        example_config(), "web", BUILDER, APP), arn)["desiredCount"] == 1


def test_a_worker_has_no_port_no_load_balancer_and_its_own_command() -> None:
    cfg = example_config(("apps:\n", "apps:\n  queue:\n    kind: worker\n"
                                     "    command: [python, -m, worker]\n"
                                     "    health_command: test -f /tmp/alive\n"))
    outputs = {k: v.replace("web", "queue") for k, v in APP.items()
               if k not in ("TargetGroupArn", "Url")}
    target = target_from_outputs(cfg, "queue", BUILDER, outputs)
    assert (target.target_group, target.url) == ("", "")
    definition = task_definition(cfg, target, IMAGE, {})
    _valid("RegisterTaskDefinition", definition)
    (container,) = definition["containerDefinitions"]
    assert container["portMappings"] == []
    assert container["command"] == ["python", "-m", "worker"]
    assert container["healthCheck"]["command"] == ["CMD-SHELL", "test -f /tmp/alive"]
    arn = "arn:aws:ecs:ap-southeast-2:123456789012:task-definition/acme-queue:1"
    created = create_request(cfg, target, arn)
    _valid("CreateService", created)
    assert created["loadBalancers"] == [] and "healthCheckGracePeriodSeconds" not in created
    updated = update_request(cfg, target, arn)
    _valid("UpdateService", updated)
    assert updated["loadBalancers"] == [], "an empty list removes a load balancer it had"
    with pytest.raises(DockyardError) as refused:
        create_request(cfg, target, arn, strategy="canary")
    assert refused.value.exit_code == ExitCode.USAGE
    assert "queue is a worker that takes none: it deploys rolling" in str(refused.value)
    rollback = update_request(cfg, target, arn, with_load_balancer=False)
    assert "loadBalancers" not in rollback
