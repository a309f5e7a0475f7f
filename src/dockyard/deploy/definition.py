"""What a deploy asks ECS for: the task definition revision and the service, from dockyard.yml
and the stacks' outputs. Pure: no AWS calls here."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dockyard.config.kinds import behind_load_balancer
from dockyard.config.models import AppDeploy, Config, Strategy
from dockyard.errors import DockyardError, ExitCode
from dockyard.names import APP_TAG, TAG_KEY, Out, app_stack_key, registry_host

APP_TAG_KEY = APP_TAG
LOG_STREAM_PREFIX = "app"
# Long enough for an app to start and pass a few health checks before the load balancer's
# verdict counts against the deployment.
HEALTH_CHECK_GRACE_SECONDS = 60
DEPLOYMENT_CONFIGURATION: dict[str, Any] = {
    "deploymentCircuitBreaker": {"enable": True, "rollback": True},
    "minimumHealthyPercent": 100,
    "maximumPercent": 200,
}


@dataclass(frozen=True)
class AppTarget:
    """Where an app runs: the builder stack's cluster and subnets, the app stack's load
    balancer target, security group, roles and log group."""

    app: str
    cluster: str
    subnets: list[str]
    assign_public_ip: bool
    security_group: str
    target_group: str
    execution_role: str
    task_role: str
    log_group: str
    url: str
    registry: str
    # Secrets Manager names -> ARNs, as the app stack resolved them at `up`.
    secret_arns: dict[str, str] = field(default_factory=dict)
    # The port the app stack's target group and security group serve (None: a stack from
    # before dockyard wrote it; its port is then the config's).
    port: int | None = None
    # The app stack's CloudWatch alarms that fail a deployment (apps.<name>.alarms).
    alarms: list[str] = field(default_factory=list)
    # A progressive app stack's (apps.<name>.deploy.strategy other than rolling): what ECS
    # shifts traffic with. Empty for a rolling app's stack.
    alternate_target_group: str = ""
    production_rule: str = ""
    test_rule: str = ""
    infrastructure_role: str = ""
    test_header_value: str = ""  # what the test rule wants in X-Dockyard-Test

    @property
    def account(self) -> str:
        """The AWS account, from the cluster ARN."""
        return self.cluster.split(":")[4]

    @property
    def partition(self) -> str:
        """``aws`` (or ``aws-cn``, ``aws-us-gov``), from the cluster ARN."""
        return self.cluster.split(":")[1]


def target_from_outputs(cfg: Config, app: str, builder: dict[str, str],
                        app_outputs: dict[str, str]) -> AppTarget:
    """An app's target, from the two stacks' outputs."""
    cluster = builder[Out.CLUSTER_ARN]
    account = cluster.split(":")[4]
    return AppTarget(
        app=app, cluster=cluster, subnets=[s for s in builder.get(Out.SUBNETS, "").split(",") if s],
        assign_public_ip=builder.get(Out.ASSIGN_PUBLIC_IP, "ENABLED") == "ENABLED",
        security_group=app_outputs[Out.SECURITY_GROUP_ID],
        target_group=app_outputs.get(Out.TARGET_GROUP_ARN, ""),
        execution_role=app_outputs[Out.EXECUTION_ROLE_ARN],
        task_role=app_outputs[Out.TASK_ROLE_ARN],
        log_group=app_outputs[Out.LOG_GROUP_NAME], url=app_outputs.get(Out.URL, ""),
        registry=registry_host(account, cfg.region),
        secret_arns=json.loads(app_outputs.get(Out.SECRET_ARNS) or "{}"),
        port=int(app_outputs[Out.CONTAINER_PORT]) if app_outputs.get(Out.CONTAINER_PORT)
        else None,
        alarms=[a for a in app_outputs.get(Out.ALARM_NAMES, "").split(",") if a],
        alternate_target_group=app_outputs.get(Out.ALTERNATE_TARGET_GROUP_ARN, ""),
        production_rule=app_outputs.get(Out.PRODUCTION_RULE_ARN, ""),
        test_rule=app_outputs.get(Out.TEST_RULE_ARN, ""),
        infrastructure_role=app_outputs.get(Out.INFRASTRUCTURE_ROLE_ARN, ""),
        test_header_value=app_outputs.get(Out.TEST_HEADER_VALUE, ""))


ECS_STRATEGY: dict[Strategy, str] = {"rolling": "ROLLING", "blue-green": "BLUE_GREEN",
                                     "canary": "CANARY", "linear": "LINEAR"}
# ECS waits this much longer than the smoke test's own timeout at the paused stage before it
# rolls the deployment back by itself (a dockyard that died mid-deploy leaves no deployment
# paused for the 24 hours ECS would wait by default).
SMOKE_HOOK_MARGIN_MINUTES = 5
SMOKE_STAGE = "POST_TEST_TRAFFIC_SHIFT"


def hook_timeout_minutes(deploy: AppDeploy) -> int:
    """How long ECS holds the smoke test's PAUSE hook before it rolls the deployment back."""
    return deploy.smoke_timeout_minutes + SMOKE_HOOK_MARGIN_MINUTES


def deployment_configuration(cfg: Config, target: AppTarget,
                             strategy: Strategy | None = None) -> dict[str, Any]:
    """The deployment's settings: the strategy (dockyard.yml's, or ``strategy`` for this deploy
    only) with its timings, the circuit breaker, and the app stack's alarms (when it has none,
    the alarms are switched off, so one removed from dockyard.yml stops counting). Either one
    failing the deployment makes ECS roll it back (ECS API Reference, DeploymentConfiguration,
    DeploymentAlarms, DeploymentCircuitBreaker). A smoke test is a PAUSE hook after test
    traffic has moved: dockyard runs it, then continues or rolls back
    (ContinueServiceDeployment)."""
    deploy = cfg.apps[target.app].deploy
    strategy = strategy or deploy.strategy
    settings: dict[str, Any] = {
        **DEPLOYMENT_CONFIGURATION, "strategy": ECS_STRATEGY[strategy],
        "alarms": {"alarmNames": list(target.alarms), "enable": bool(target.alarms),
                   "rollback": bool(target.alarms)}}
    if strategy == "rolling":
        return settings
    settings["bakeTimeInMinutes"] = deploy.bake_minutes
    if strategy == "canary":
        settings["canaryConfiguration"] = {"canaryPercent": deploy.canary_percent,
                                           "canaryBakeTimeInMinutes": deploy.canary_bake_minutes}
    elif strategy == "linear":
        settings["linearConfiguration"] = {"stepPercent": deploy.step_percent,
                                           "stepBakeTimeInMinutes": deploy.step_bake_minutes}
    settings["lifecycleHooks"] = [{
        "targetType": "PAUSE", "lifecycleStages": [SMOKE_STAGE],
        "timeoutConfiguration": {
            "timeoutInMinutes": hook_timeout_minutes(deploy),
            "action": "ROLLBACK"}}] if deploy.smoke_test else []
    return settings


def check_strategy(cfg: Config, target: AppTarget, strategy: Strategy | None) -> Strategy:
    """The strategy of this deploy; refuses a progressive one the app stack is not ready for."""
    chosen = strategy or cfg.apps[target.app].deploy.strategy
    if chosen != "rolling" and not behind_load_balancer(cfg.apps[target.app]):
        raise DockyardError(
            f"a {chosen} deploy moves load balancer traffic, and {target.app} is a "
            f"{cfg.apps[target.app].kind} that takes none: it deploys rolling",
            hint=f"dockyard deploy {target.app} without --strategy",
            exit_code=ExitCode.USAGE)
    if chosen != "rolling" and not (target.alternate_target_group and target.production_rule
                                    and target.test_rule and target.infrastructure_role):
        key = app_stack_key(target.app)
        raise DockyardError(
            f"a {chosen} deploy needs the second target group, the test rule and the role ECS "
            f"shifts traffic with, and {cfg.stack_name(key)} has none",
            hint=f"set apps.{target.app}.deploy.strategy: {chosen} in dockyard.yml, run "
                 f"`dockyard up --only {key}`, then deploy",
            exit_code=ExitCode.AWS_PRECONDITION)
    return chosen


def served_port(cfg: Config, target: AppTarget) -> int:
    """The app's port, as its stack serves it; refuses a dockyard.yml that says otherwise
    (the stack must be updated first, or the load balancer would send traffic to a port the
    new tasks do not listen on)."""
    wanted = cfg.apps[target.app].listen_port
    if target.port is not None and target.port != wanted:
        raise DockyardError(
            f"apps.{target.app}.port is {wanted} in dockyard.yml but the app stack serves "
            f"{target.port}: deploying now would send traffic to a port nothing listens on",
            hint=f"dockyard up --only {app_stack_key(target.app)} first, then deploy",
            exit_code=ExitCode.AWS_PRECONDITION)
    return wanted


def load_balancer(cfg: Config, target: AppTarget, strategy: Strategy) -> dict[str, Any]:
    """The service's load balancer: the app stack's target group, to the app's port; for a
    progressive strategy also the alternate target group, the production and test rules and
    the role ECS moves their weights with (ECS API Reference, AdvancedConfiguration)."""
    balancer: dict[str, Any] = {"targetGroupArn": target.target_group,
                                "containerName": target.app,
                                "containerPort": served_port(cfg, target)}
    if strategy != "rolling":
        balancer["advancedConfiguration"] = {
            "alternateTargetGroupArn": target.alternate_target_group,
            "productionListenerRule": target.production_rule,
            "testListenerRule": target.test_rule, "roleArn": target.infrastructure_role}
    return balancer


def family(cfg: Config, app: str) -> str:
    """The task definition family of an app: ``<name>-<app>``."""
    return f"{cfg.name}-{app}"


def secret_value_from(ref: str, target: AppTarget, region: str,
                      arn_of: dict[str, str]) -> str:
    """ECS's ``valueFrom`` for a secret declared in dockyard.yml: an ARN, always.

    An ``ssm:/path`` becomes the parameter's ARN; a Secrets Manager name becomes the ARN the
    app stack resolved for it (``arn_of``), since ECS does not accept a secret's bare name.
    """
    if ref.startswith("ssm:"):
        path = ref.removeprefix("ssm:").lstrip("/")
        return f"arn:{target.partition}:ssm:{region}:{target.account}:parameter/{path}"
    if ref.startswith("arn:"):
        return ref
    if ref not in arn_of:
        raise DockyardError(f"apps.{target.app}.secrets: the app stack does not know the secret "
                            f"{ref} yet", hint=f"run: dockyard up --only app-{target.app}")
    return arn_of[ref]


def check_secrets(cfg: Config, target: AppTarget,
                  exists: Callable[[str], bool | None]) -> None:
    """Before anything is registered: each Secrets Manager secret the app names exists
    (``exists``: None when this identity may not look), and the app stack knows the ARN of
    each named one. Otherwise the deploy would register a revision whose tasks never start,
    or point at ``up``, which would then say the secret is missing."""
    from dockyard.aws.errors import AwsPreconditionError
    from dockyard.aws.secrets import create_command

    for key, ref in sorted(cfg.apps[target.app].secrets.items()):
        if ref.startswith("ssm:"):
            continue
        field = f"apps.{target.app}.secrets.{key}"
        if exists(ref) is False and ref.startswith("arn:"):
            raise AwsPreconditionError(f"{field}: no secret has the ARN {ref}",
                                       hint="fix the ARN in dockyard.yml (a secret created "
                                            "again gets a new ARN), or name the secret instead")
        if exists(ref) is False:
            raise AwsPreconditionError(
                f"{field}: the secret {ref} does not exist in {cfg.region}",
                hint=f"create it: {create_command(cfg.region, ref)}, then let the app stack "
                     f"resolve it: dockyard up --only app-{target.app}")
        if not ref.startswith("arn:") and ref not in target.secret_arns:
            raise AwsPreconditionError(
                f"{field}: the app stack does not know the secret {ref} yet",
                hint=f"run: dockyard up --only app-{target.app} (it resolves the secret's ARN; "
                     f"if the secret does not exist yet, first: "
                     f"{create_command(cfg.region, ref)})")


SCRATCH_VOLUME = "tmp"
# apps.<name>.health_command's timings (seconds): checked every 30, a task unhealthy after 3
# failures running, none counted in the first minute (ECS API Reference, HealthCheck).
HEALTH_CHECK = {"interval": 30, "timeout": 5, "retries": 3, "startPeriod": 60}


def task_definition(cfg: Config, target: AppTarget, image: str,
                    arn_of: dict[str, str]) -> dict[str, Any]:
    """The RegisterTaskDefinition request of one deploy of ``target.app`` running ``image``."""
    app = cfg.apps[target.app]
    architecture = "ARM64" if cfg.builder.architectures == ["arm64"] else "X86_64"
    container: dict[str, Any] = {
        "name": target.app,
        "image": image,
        "essential": True,
        "portMappings": [{"containerPort": served_port(cfg, target), "protocol": "tcp"}]
        if behind_load_balancer(app) else [],
        "environment": [{"name": k, "value": v} for k, v in sorted(app.env.items())],
        "secrets": [{"name": k, "valueFrom": secret_value_from(v, target, cfg.region, arn_of)}
                    for k, v in sorted(app.secrets.items())],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": target.log_group, "awslogs-region": cfg.region,
            "awslogs-stream-prefix": LOG_STREAM_PREFIX}},
    }
    if app.command:
        container["command"] = list(app.command)
    if app.read_only_root:
        # Writable only where a program expects scratch space: /tmp, a volume of the task's
        # ephemeral storage (ECS API Reference, ContainerDefinition.readonlyRootFilesystem;
        # a Fargate volume without a host path is task storage, "Fargate task storage").
        container["readonlyRootFilesystem"] = True
        container["mountPoints"] = [{"sourceVolume": SCRATCH_VOLUME, "containerPath": "/tmp",
                                     "readOnly": False}]
    if app.exec:
        # ECS Exec's agent starts processes in the container: an init process reaps them
        # (ECS Developer Guide, ECS Exec considerations, initProcessEnabled).
        container["linuxParameters"] = {"initProcessEnabled": True}
    if app.health_command:
        # ECS runs it in the container; a task unhealthy 3 times running is replaced, and
        # failures in the first minute do not count (ECS API Reference, HealthCheck).
        container["healthCheck"] = {"command": ["CMD-SHELL", app.health_command],
                                    **HEALTH_CHECK}
    return {
        "family": family(cfg, target.app),
        "taskRoleArn": target.task_role,
        "executionRoleArn": target.execution_role,
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": str(app.cpu),
        "memory": str(app.memory),
        "runtimePlatform": {"operatingSystemFamily": "LINUX", "cpuArchitecture": architecture},
        "containerDefinitions": [container],
        **({"volumes": [{"name": SCRATCH_VOLUME}]} if app.read_only_root else {}),
        "tags": _tags(cfg, target.app),
    }


def create_request(cfg: Config, target: AppTarget, task_definition_arn: str,
                   strategy: Strategy | None = None) -> dict[str, Any]:
    """The CreateService request of an app's first deploy."""
    app = cfg.apps[target.app]
    strategy = check_strategy(cfg, target, strategy)
    return {
        "cluster": target.cluster,
        "serviceName": target.app,
        "taskDefinition": task_definition_arn,
        "desiredCount": app.initial_count,
        "launchType": "FARGATE",
        "platformVersion": "LATEST",
        "networkConfiguration": {"awsvpcConfiguration": {
            "subnets": target.subnets, "securityGroups": [target.security_group],
            "assignPublicIp": "ENABLED" if target.assign_public_ip else "DISABLED"}},
        **_balancing(cfg, target, strategy),
        "deploymentConfiguration": deployment_configuration(cfg, target, strategy),
        "deploymentController": {"type": "ECS"},
        "propagateTags": "SERVICE",
        "enableECSManagedTags": True,
        "enableExecuteCommand": app.exec,
        "tags": _tags(cfg, target.app),
    }


def update_request(cfg: Config, target: AppTarget, task_definition_arn: str, *,
                   with_load_balancer: bool = True,
                   strategy: Strategy | None = None) -> dict[str, Any]:
    """The UpdateService request of a later deploy (or a rollback): the new revision, the
    configured count (none with scale: the scaler's stands), the circuit breaker put back if
    someone turned it off, and the load balancer as the app stack has it, so the service
    cannot drift from its stack. A rollback leaves the load balancer as it is: the older
    revision was registered for it. ECS Exec follows dockyard.yml (apps.<name>.exec)."""
    strategy = check_strategy(cfg, target, strategy)
    request: dict[str, Any] = {
        "cluster": target.cluster,
        "service": target.app,
        "taskDefinition": task_definition_arn,
        "deploymentConfiguration": deployment_configuration(cfg, target, strategy),
        # Only tasks started after it changes have ECS Exec (or lose it); every deploy starts
        # new ones (ECS Developer Guide, "Monitor Amazon ECS containers with ECS Exec").
        "enableExecuteCommand": cfg.apps[target.app].exec,
    }
    if cfg.apps[target.app].scale is None:
        # With scale the scaler owns the count: sending one would reset it (ECS Developer
        # Guide, "Service auto scaling": a desired count set by hand is changed by the
        # policies, and one below the running tasks stops tasks first).
        request["desiredCount"] = cfg.apps[target.app].count
    balancing = _balancing(cfg, target, strategy)
    if not with_load_balancer:
        balancing.pop("loadBalancers", None)
    return request | balancing


def _balancing(cfg: Config, target: AppTarget, strategy: Strategy) -> dict[str, Any]:
    """The service's load balancer and the grace its health checks get; a worker has no load
    balancer (an empty list removes one a service had: ECS API Reference, UpdateService,
    loadBalancers) and no grace period: its health_command's own startPeriod gives the
    container its first minute."""
    if not behind_load_balancer(cfg.apps[target.app]):
        return {"loadBalancers": []}
    return {"loadBalancers": [load_balancer(cfg, target, strategy)],
            "healthCheckGracePeriodSeconds": HEALTH_CHECK_GRACE_SECONDS}


def _tags(cfg: Config, app: str) -> list[dict[str, str]]:
    return [{"key": TAG_KEY, "value": cfg.name}, {"key": APP_TAG_KEY, "value": app}]
