"""Plays ECS's deployment logic in moto, which records services but never rolls them.

moto keeps one deployment per service and never advances it, so nothing would ever complete,
fail or roll back. :func:`patch_ecs` adds what ECS does, in moto's own process:

- CreateService and an UpdateService with a new task definition start a deployment (PRIMARY,
  rolloutState IN_PROGRESS); the one before becomes ACTIVE.
- Each DescribeServices call moves every running deployment one step: its tasks start, then
  either it COMPLETES (older deployments drain away) or, when its image is marked as
  crashing, its tasks fail, the circuit breaker marks it FAILED and a rollback deployment to
  the last completed task definition starts.
- ListServiceDeployments and DescribeServiceRevisions answer from that history.
- A service behind a load balancer has its tasks' addresses registered in the target group as
  they start, and the target group reports their health as Elastic Load Balancing does
  (User Guide for Application Load Balancers, "Health checks for your target groups": state
  ``initial`` with Elb.RegistrationInProgress, then ``healthy``, or ``unhealthy`` with
  Target.ResponseCodeMismatch "Health checks failed with these codes: [503]" for a hanging
  image); targets of a drained or failed deployment are deregistered (ECS Developer Guide,
  "Use load balancing to distribute Amazon ECS service traffic"). moto's CloudFormation drops
  a service's LoadBalancers; they are kept here.
- An UpdateService that changes only the desired count starts no deployment (ECS API
  Reference, UpdateService: a new deployment comes with a new task definition, network or
  platform settings, or forceNewDeployment); the scheduler starts or stops tasks of the
  current one, seen over the next DescribeServices calls (pending first, then running).

- A service whose deploymentConfiguration.strategy is BLUE_GREEN, CANARY or LINEAR is deployed
  stage by stage, as ECS does (ECS Developer Guide, "Amazon ECS blue/green deployments",
  "Amazon ECS linear deployments", "Amazon ECS canary deployments"; API Reference,
  ServiceDeployment.lifecycleStage): one stage per DescribeServices or
  DescribeServiceDeployments call, the new revision's tasks in the target group the old one
  is not on, the test rule moved to it at TEST_TRAFFIC_SHIFT, the production rule's weights
  moved at once, canaryPercent first or stepPercent at a time, then bake and clean-up; the
  production target group swaps when it succeeds. A PAUSE hook holds its stage
  (lifecycleHookDetails AWAITING_ACTION) until ContinueServiceDeployment; a deployment alarm
  in ALARM, a crashing image, or a ROLLBACK answer moves the traffic back, with
  ROLLBACK_SUCCESSFUL and the reason (rollback.reason, alarms.triggeredAlarmNames). Requests
  are refused as ECS refuses them: a progressive strategy without a load balancer's
  advancedConfiguration (alternate target group, production rule, role), BLUE_GREEN without
  bakeTimeInMinutes (DeploymentConfiguration), a role that does not exist.

An image is "crashing" when its ECR manifest carries the annotation ``CRASH`` (fake_kaniko
adds it for a build with ``--build-arg FAKE_APP_CRASH=1``), and "hanging" (never healthy,
never failed) with ``HANG``.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any

CRASH = "dev.dockyard.fake/crash"
HANG = "dev.dockyard.fake/hang"
RUN_FAILS = "dev.dockyard.fake/run-fails"  # one-off commands of the image fail (fake_kaniko)
FAILURE_THRESHOLD = 3  # the circuit breaker's minimum

_ids = itertools.count(1)
_ORIGINAL: dict[str, Any] = {}  # moto's own handlers that the patches call


def patch_ecs() -> None:
    """Teach moto's ECS to roll deployments (idempotent)."""
    from moto.ecs import models, responses

    backend = models.EC2ContainerServiceBackend
    if getattr(backend.update_service, "_dockyard_patched", False):
        return
    create, update, describe = (backend.create_service, backend.update_service,
                                backend.describe_services)
    _ORIGINAL["create_service_response"] = responses.EC2ContainerServiceResponse.create_service

    def create_service(self: Any, *args: Any, **kwargs: Any) -> Any:
        service = create(self, *args, **kwargs)
        service.deployments = []
        _start(self, service, str(service.task_definition), rollback_of=None)
        return service

    def update_service(self: Any, properties: dict[str, Any]) -> Any:
        new = properties.get("task_definition")
        force = properties.get("force_new_deployment")
        current = self._get_service(properties.get("cluster", "default"),
                                    properties["service"].split("/")[-1])
        before = (current.running_count, current.pending_count)
        kept = (getattr(current, "deployment_configuration", None),
                getattr(current, "load_balancers", None))
        service = update(self, dict(properties))
        if properties.get("deployment_configuration") is not None:
            service.deployment_configuration = properties["deployment_configuration"]
        try:
            _check_strategy(self, service)
        except Exception:
            service.deployment_configuration, service.load_balancers = kept
            raise
        if new or force:
            arn = self.describe_task_definition(service.task_definition).arn
            _start(self, service, arn, rollback_of=None)
        elif properties.get("desired_count") is not None:
            # moto jumps the counts to the new desired count; the scheduler takes its time
            service.running_count, service.pending_count = before
            _scale(service, int(properties["desired_count"]))
        return service

    def describe_services(self: Any, cluster: str, names: list[str]) -> Any:
        found, failures = describe(self, cluster, names)
        for service in found:
            _advance(self, service)
        return found, failures

    _patch_load_balancing(models)
    for function in (create_service, update_service, describe_services):
        setattr(function, "_dockyard_patched", True)  # noqa: B010
    backend.create_service = create_service
    backend.update_service = update_service
    backend.describe_services = describe_services
    answers = responses.EC2ContainerServiceResponse
    answers.create_service = _create_service_response
    answers.list_service_deployments = _list_service_deployments
    answers.describe_service_revisions = _describe_service_revisions
    answers.describe_service_deployments = _describe_service_deployments
    answers.continue_service_deployment = _continue_service_deployment


def _describe_service_deployments(self: Any) -> Any:
    from moto.core.responses import ActionResult

    wanted = self._get_param("serviceDeploymentArns") or []
    found = []
    for service in list(self.ecs_backend.services.values()):
        entries = [h for h in getattr(service, "dockyard_history", [])
                   if h["serviceDeploymentArn"] in wanted]
        if entries:
            _advance(self.ecs_backend, service)
            found += [_service_deployment(h) for h in entries]
    return ActionResult({"serviceDeployments": found, "failures": [
        {"arn": arn, "reason": "MISSING"} for arn in wanted
        if arn not in {f["serviceDeploymentArn"] for f in found}]})

def _continue_service_deployment(self: Any) -> Any:
    from moto.core.responses import ActionResult
    from moto.ecs.exceptions import InvalidParameterException

    arn, hook_id = self._get_param("serviceDeploymentArn"), self._get_param("hookId")
    action = self._get_param("action") or "CONTINUE"
    for service in list(self.ecs_backend.services.values()):
        for entry in getattr(service, "dockyard_history", []):
            hook = next((h for h in entry.get("lifecycleHookDetails", [])
                         if h["hookId"] == hook_id), None)
            if entry["serviceDeploymentArn"] != arn or hook is None:
                continue
            if hook["status"] != "AWAITING_ACTION":
                raise InvalidParameterException(
                    f"The lifecycle hook {hook_id} is not awaiting action.")
            hook["status"] = "SUCCEEDED" if action == "CONTINUE" else "FAILED"
            entry["dockyard_answer"] = action
            return ActionResult({"serviceDeploymentArn": arn})
    raise InvalidParameterException(
        f"No paused lifecycle hook {hook_id} in service deployment {arn}.")

def _create_service_response(self: Any) -> Any:
    """CreateService keeps what moto drops, and refuses what ECS refuses."""
    result = _ORIGINAL["create_service_response"](self)
    service = self.ecs_backend._get_service(self._get_param("cluster", "default"),
                                            self._get_param("serviceName"))
    for param, attribute in (("deploymentConfiguration", "deployment_configuration"),
                             ("healthCheckGracePeriodSeconds",
                              "health_check_grace_period_seconds"),
                             ("loadBalancers", "load_balancers")):
        if self._get_param(param) is not None:
            setattr(service, attribute, self._get_param(param))
    try:
        _check_strategy(self.ecs_backend, service)
    except Exception:
        self.ecs_backend.services.pop(f"{service.cluster_name}:{service.name}", None)
        raise
    strategy = _strategy(service)
    if strategy != "ROLLING":
        # The first deployment of a new service has no revision to move traffic from, yet
        # ECS still takes it through its lifecycle stages and hooks (hashicorp/terraform-
        # provider-aws#43434 waits for a new blue-green service's hooks to complete): its tasks
        # go to the production target group, and a PAUSE hook holds it as any other.
        (deployment,) = service.deployments
        _begin_stages(service, deployment["dockyard"]["history"], strategy, first=True)
    return result

def _list_service_deployments(self: Any) -> Any:
    from moto.core.responses import ActionResult

    service = self.ecs_backend._get_service(self._get_param("cluster", "default"),
                                            self._get_param("service"))
    wanted = self._get_param("status") or []
    history = [h for h in reversed(getattr(service, "dockyard_history", []))
               if not wanted or h["status"] in wanted]
    return ActionResult({"serviceDeployments": [
        {k: v for k, v in h.items() if k != "taskDefinition"} for h in history]})

def _describe_service_revisions(self: Any) -> Any:
    from moto.core.responses import ActionResult

    wanted = set(self._get_param("serviceRevisionArns") or [])
    revisions = [{"serviceRevisionArn": h["targetServiceRevisionArn"],
                  "serviceArn": h["serviceArn"], "clusterArn": h["clusterArn"],
                  "taskDefinition": h["taskDefinition"], "createdAt": h["createdAt"]}
                 for service in self.ecs_backend.services.values()
                 for h in getattr(service, "dockyard_history", [])
                 if h["targetServiceRevisionArn"] in wanted]
    return ActionResult({"serviceRevisions": revisions, "failures": []})


def _patch_load_balancing(models: Any) -> None:
    """Keep a CloudFormation service's LoadBalancers; let target groups report the health this
    player sets."""
    from moto.elbv2 import models as elbv2

    from_cloudformation = models.Service.create_from_cloudformation_json.__func__

    def create_from_cloudformation_json(cls: Any, resource_name: str, cloudformation_json: Any,
                                        *args: Any, **kwargs: Any) -> Any:
        service = from_cloudformation(cls, resource_name, cloudformation_json, *args, **kwargs)
        service.load_balancers = [
            {"targetGroupArn": lb.get("TargetGroupArn"), "containerName": lb.get("ContainerName"),
             "containerPort": int(lb.get("ContainerPort", 0))}
            for lb in cloudformation_json.get("Properties", {}).get("LoadBalancers", [])]
        return service

    models.Service.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)
    health_for = elbv2.FakeTargetGroup.health_for

    def reported_health(self: Any, target: dict[str, Any], ec2_backend: Any) -> Any:
        played = getattr(self, "dockyard_health", {}).get(target["Id"])
        if played is None:
            return health_for(self, target, ec2_backend)
        return elbv2.FakeHealthStatus(target["Id"], self.targets[target["Id"]]["Port"],
                                      self.health_check_port, *played)

    elbv2.FakeTargetGroup.health_for = reported_health


_addresses = itertools.count(10)
HEALTH = {
    "initial": ("initial", "Elb.RegistrationInProgress", "Target registration is in progress"),
    "healthy": ("healthy", None, None),
    "unhealthy": ("unhealthy", "Target.ResponseCodeMismatch",
                  "Health checks failed with these codes: [503]"),
}


def _target_groups(backend: Any, service: Any, *,
                   alternates: bool = False) -> list[tuple[Any, int]]:
    """The service's target groups (with ``alternates``, a progressive strategy's too)."""
    from moto.elbv2.models import elbv2_backends

    elb = elbv2_backends[backend.account_id][backend.region_name]
    found = []
    for lb in getattr(service, "load_balancers", []) or []:
        arns = [lb.get("targetGroupArn")]
        if alternates:
            arns.append((lb.get("advancedConfiguration") or {}).get("alternateTargetGroupArn"))
        for arn in arns:
            group = elb.target_groups.get(arn)
            if group is not None:
                found.append((group, int(lb.get("containerPort") or group.port or 80)))
    return found


def _register(backend: Any, service: Any, deployment: dict[str, Any], count: int) -> None:
    """The deployment's tasks, registered in the service's target groups as ``initial``."""
    addresses = [f"10.0.1.{next(_addresses) % 250 + 2}" for _ in range(count)]
    deployment["dockyard"]["targets"] = addresses
    for group, port in _target_groups(backend, service):
        group.register([{"Id": a, "Port": port} for a in addresses])
        played = group.__dict__.setdefault("dockyard_health", {})
        played.update(dict.fromkeys(addresses, HEALTH["initial"]))


def _health(backend: Any, service: Any, deployment: dict[str, Any], state: str) -> None:
    for group, _ in _target_groups(backend, service):
        played = group.__dict__.setdefault("dockyard_health", {})
        played.update(dict.fromkeys(deployment["dockyard"].get("targets", []), HEALTH[state]))


def _deregister(backend: Any, service: Any, deployment: dict[str, Any]) -> None:
    addresses = deployment.get("dockyard", {}).get("targets", [])
    for group, _ in _target_groups(backend, service, alternates=True):
        for address in addresses:
            if address in group.targets:
                group.deregister([{"Id": address}])
            group.__dict__.get("dockyard_health", {}).pop(address, None)


def _now() -> datetime:
    return datetime.now(UTC)


def _event(service: Any, message: str) -> None:
    service.events.insert(0, {"id": f"dockyard-fake-{next(_ids)}", "createdAt": _now(),
                              "message": f"(service {service.name}) {message}"})


def image_marks(backend: Any, task_definition_arn: str) -> set[str]:
    """The fake annotations of the image a task definition runs (through moto's ECR)."""
    from moto.ecr.models import ecr_backends

    definition = backend.describe_task_definition(task_definition_arn)
    image = definition.container_definitions[0].get("image", "")
    name, _, digest = image.partition("@")
    if not digest or ".dkr.ecr." not in name:
        return set()
    repository = name.split("/", 1)[1]
    ecr = ecr_backends[backend.account_id][backend.region_name]
    repo = ecr.repositories.get(repository)
    for stored in (repo.images if repo else []):
        if stored.image_digest == digest:
            annotations = json.loads(stored.image_manifest).get("annotations", {})
            return {mark for mark in (CRASH, HANG, RUN_FAILS) if mark in annotations}
    return set()


def _start(backend: Any, service: Any, task_definition: str, rollback_of: dict[str, Any] | None
           ) -> None:
    """A new PRIMARY deployment of ``task_definition``; the current ones become ACTIVE."""
    for deployment in service.deployments:
        if deployment["status"] == "PRIMARY":
            deployment["status"] = "ACTIVE"
    number = next(_ids)
    deployment_id = f"ecs-svc/{number:019d}"
    now = _now()
    service.deployments.insert(0, {
        "id": deployment_id, "status": "PRIMARY", "taskDefinition": task_definition,
        "desiredCount": service.desired_count, "pendingCount": 0, "runningCount": 0,
        "failedTasks": 0, "createdAt": now, "updatedAt": now, "launchType": "FARGATE",
        "rolloutState": "IN_PROGRESS",
        "rolloutStateReason": "ECS deployment " + deployment_id + " in progress.",
        "dockyard": {"step": 0, "marks": image_marks(backend, task_definition),
                     "history": rollback_of}})
    service.task_definition = task_definition
    if rollback_of is None:
        arn_tail = f"{service.cluster_name}/{service.name}"
        prefix = f"arn:aws:ecs:{backend.region_name}:{backend.account_id}"
        entry = {"serviceDeploymentArn": f"{prefix}:service-deployment/{arn_tail}/{number}",
                 "serviceArn": service.arn, "clusterArn": service.cluster_arn,
                 "createdAt": now, "startedAt": now,
                 "targetServiceRevisionArn": f"{prefix}:service-revision/{arn_tail}/{number}",
                 "status": "IN_PROGRESS", "taskDefinition": task_definition}
        if not hasattr(service, "dockyard_history"):
            service.dockyard_history = []
        service.dockyard_history.append(entry)
        service.deployments[0]["dockyard"]["history"] = entry
        service.current_service_deployment = entry["serviceDeploymentArn"]
        strategy = _strategy(service)
        if strategy != "ROLLING" and len(service.deployments) > 1:
            _begin_stages(service, entry, strategy)
    _event(service, f"has begun deployment {deployment_id}.")


def _advance(backend: Any, service: Any) -> None:
    """One step of every deployment still rolling out."""
    for deployment in list(service.deployments):
        state = deployment.get("dockyard")
        if state is not None and state.get("scaling"):
            _settle(service, deployment)
            continue
        entry = (state or {}).get("history") or {}
        if entry.get("dockyard_stages") is not None and entry["status"] in (
                "IN_PROGRESS", "ROLLBACK_IN_PROGRESS"):
            _next_stage(backend, service, deployment)
            continue
        if state is None or deployment["rolloutState"] != "IN_PROGRESS":
            continue
        state["step"] += 1
        deployment["updatedAt"] = _now()
        desired = deployment["desiredCount"]
        if state["step"] == 1:
            deployment["pendingCount"] = desired
            _event(service, f"has started {desired} tasks.")
            _register(backend, service, deployment, desired)
        elif tripped := _alarms_in_alarm(backend, service):
            # ECS watches the deployment's alarms while it rolls out: one in ALARM fails it,
            # and with rollback on, ECS returns to the last completed deployment (ECS developer
            # guide, "How CloudWatch alarms detect Amazon ECS deployment failures").
            _deregister(backend, service, deployment)
            _fail(backend, service, deployment,
                  reason=f"alarm(s) {', '.join(tripped)} in ALARM state")
        elif HANG in state["marks"]:
            _health(backend, service, deployment, "unhealthy")
            continue
        elif CRASH in state["marks"]:
            _deregister(backend, service, deployment)
            _fail(backend, service, deployment)
        else:
            _health(backend, service, deployment, "healthy")
            for drained in service.deployments:
                if drained is not deployment:
                    _deregister(backend, service, drained)
            _complete(service, deployment, desired)
    primary = next((d for d in service.deployments if d["status"] == "PRIMARY"), None)
    if primary:
        service.running_count = sum(d["runningCount"] for d in service.deployments)
        service.pending_count = sum(d["pendingCount"] for d in service.deployments)
        service.task_definition = primary["taskDefinition"]


def _scale(service: Any, desired: int) -> None:
    """A new desired count for the current deployment: its tasks follow over the next steps."""
    primary = next((d for d in service.deployments if d["status"] == "PRIMARY"), None)
    if primary is None:
        return
    primary["desiredCount"] = desired
    if primary["rolloutState"] == "COMPLETED" and primary["runningCount"] != desired:
        primary.setdefault("dockyard", {})["scaling"] = True


def _settle(service: Any, deployment: dict[str, Any]) -> None:
    """One step of a completed deployment moving to its desired count."""
    desired, running = deployment["desiredCount"], deployment["runningCount"]
    if desired > running and deployment["pendingCount"] == 0:
        deployment["pendingCount"] = desired - running
        _event(service, f"has started {desired - running} tasks.")
        return
    if desired < running:
        _event(service, f"has stopped {running - desired} running tasks.")
    deployment.update(pendingCount=0, runningCount=desired)
    deployment["dockyard"].pop("scaling", None)
    _event(service, "has reached a steady state.")


def _complete(service: Any, deployment: dict[str, Any], desired: int) -> None:
    deployment.update(pendingCount=0, runningCount=desired, rolloutState="COMPLETED",
                      rolloutStateReason=f"ECS deployment {deployment['id']} completed.")
    service.deployments[:] = [d for d in service.deployments if d is deployment]
    history = deployment["dockyard"]["history"]
    if history is not None:
        rolled_back = history["status"] == "ROLLBACK_IN_PROGRESS"
        history.update(status="ROLLBACK_SUCCESSFUL" if rolled_back else "SUCCESSFUL",
                       finishedAt=_now())
    _event(service, "has reached a steady state.")


def _alarms_in_alarm(backend: Any, service: Any) -> list[str]:
    """The service's deployment alarms that CloudWatch has in ALARM (moto's alarms, which a
    test sets with SetAlarmState)."""
    from moto.cloudwatch.models import cloudwatch_backends

    settings = (getattr(service, "deployment_configuration", None) or {}).get("alarms") or {}
    if not settings.get("enable"):
        return []
    watch = cloudwatch_backends[backend.account_id][backend.region_name]
    names = set(settings.get("alarmNames") or [])
    return sorted(a.name for a in watch.get_alarms_by_state_value("ALARM") if a.name in names)


def _fail(backend: Any, service: Any, deployment: dict[str, Any], *,
          reason: str = "") -> None:
    why = reason or "tasks failed to start"
    deployment.update(pendingCount=0, runningCount=0,
                      failedTasks=0 if reason else FAILURE_THRESHOLD, rolloutState="FAILED",
                      rolloutStateReason=f"ECS deployment {deployment['id']} failed: {why}."
                      if reason else "ECS deployment circuit breaker: tasks failed to start.")
    _event(service, f"(deployment {deployment['id']}) deployment failed: {why}.")
    history = deployment["dockyard"]["history"]
    completed = [h for h in getattr(service, "dockyard_history", [])
                 if h["status"] == "SUCCESSFUL"]
    if not completed:
        if history is not None:
            history.update(status="ROLLBACK_FAILED", finishedAt=_now())
        return
    target = completed[-1]["taskDefinition"]
    if history is not None:
        history["status"] = "ROLLBACK_IN_PROGRESS"
    _event(service, f"(deployment {deployment['id']}) rolling back to {target.rsplit('/', 1)[-1]}.")
    _start(backend, service, target, rollback_of=history)


# -- blue-green, canary and linear ---------------------------------------------------------------

PROGRESSIVE = ("BLUE_GREEN", "CANARY", "LINEAR")
ROLLED_BACK_BY_HOOK = "Service deployment rolled back because a lifecycle hook answered ROLLBACK."


def _strategy(service: Any) -> str:
    return str((getattr(service, "deployment_configuration", None) or {}).get("strategy")
               or "ROLLING")


def _check_strategy(backend: Any, service: Any) -> None:
    """Refuse what ECS refuses of a progressive strategy (API Reference, CreateService and
    UpdateService: DeploymentConfiguration.bakeTimeInMinutes "You must provide this parameter
    when you use the BLUE_GREEN deployment strategy"; AdvancedConfiguration; the role must
    exist for ECS to assume it)."""
    from moto.ecs.exceptions import InvalidParameterException
    from moto.iam.models import iam_backends

    settings = getattr(service, "deployment_configuration", None) or {}
    strategy = _strategy(service)
    if strategy == "ROLLING":
        return
    if strategy not in PROGRESSIVE:
        raise InvalidParameterException(f"Invalid deployment strategy: {strategy}.")
    if strategy == "BLUE_GREEN" and settings.get("bakeTimeInMinutes") is None:
        raise InvalidParameterException(
            "bakeTimeInMinutes is required for the BLUE_GREEN deployment strategy.")
    balancers = getattr(service, "load_balancers", None) or []
    if not balancers:
        raise InvalidParameterException(
            f"The {strategy} deployment strategy requires a load balancer.")
    roles = iam_backends[backend.account_id]["global"].roles.values()
    for balancer in balancers:
        advanced = balancer.get("advancedConfiguration") or {}
        missing = [k for k in ("alternateTargetGroupArn", "productionListenerRule", "roleArn")
                   if not advanced.get(k)]
        if missing:
            raise InvalidParameterException(
                f"advancedConfiguration.{missing[0]} is required for the {strategy} deployment "
                "strategy.")
        role = next((role for role in roles if role.arn == advanced["roleArn"]), None)
        if role is None:
            raise InvalidParameterException(
                f"Unable to assume role {advanced['roleArn']}: it does not exist.")
        if not _ecs_may_assume(role.assume_role_policy_document):
            raise InvalidParameterException(
                f"Amazon ECS was unable to assume role {advanced['roleArn']}: its trust policy "
                "does not allow ecs.amazonaws.com sts:AssumeRole without conditions.")


def _ecs_may_assume(document: Any) -> bool:
    """Whether ECS can assume an infrastructure role with this trust policy. AWS documents the
    trust as ecs.amazonaws.com, sts:AssumeRole and no condition (ECS Developer Guide, "Amazon
    ECS infrastructure IAM role for load balancers"); it does not document which condition
    keys ECS sends, so a statement with a condition is not counted on."""
    text = document if isinstance(document, str) else json.dumps(document)
    try:
        statements = json.loads(text).get("Statement", [])
    except ValueError:
        from urllib.parse import unquote

        statements = json.loads(unquote(text)).get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        principals = (statement.get("Principal") or {}).get("Service", [])
        actions = statement.get("Action", [])
        principals = [principals] if isinstance(principals, str) else principals
        actions = [actions] if isinstance(actions, str) else actions
        if statement.get("Effect") == "Allow" and "ecs.amazonaws.com" in principals and \
                "sts:AssumeRole" in actions and not statement.get("Condition"):
            return True
    return False


def _begin_stages(service: Any, entry: dict[str, Any], strategy: str, *,
                  first: bool = False) -> None:
    """The stages ahead of a progressive deployment, with its production traffic steps (the
    ``first`` deployment of a service has one target group: nothing moves)."""
    settings = service.deployment_configuration
    if strategy == "CANARY":
        canary = settings.get("canaryConfiguration") or {}
        shifts = [float(canary.get("canaryPercent", 5.0)), 100.0]
    elif strategy == "LINEAR":
        step = float((settings.get("linearConfiguration") or {}).get("stepPercent", 10.0))
        shifts = [min(100.0, round(step * n, 1)) for n in range(1, int(100 // step) + 2)]
        shifts = sorted(set(shifts))
    else:
        shifts = [100.0]
    if first:
        shifts = [100.0]
    stages = ["PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT",
              "POST_TEST_TRAFFIC_SHIFT", *(["PRODUCTION_TRAFFIC_SHIFT"] * len(shifts)),
              "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"]
    paused = {stage for hook in settings.get("lifecycleHooks") or []
              if hook.get("targetType") == "PAUSE" for stage in hook.get("lifecycleStages", [])}
    entry.update(dockyard_stages=stages, dockyard_shifts=shifts, dockyard_paused=paused,
                 lifecycleHookDetails=[], dockyard_weight=0.0, dockyard_test_weight=0.0,
                 deploymentConfiguration=settings)
    groups = _groups(service)
    if first and groups is not None:
        live, _, production, test = groups
        groups = (live, live, production, test)
    entry["dockyard_groups"] = groups


def _groups(service: Any) -> tuple[str, str, str, str] | None:
    """(production group, group for the new revision, production rule, test rule)."""
    balancers = getattr(service, "load_balancers", None) or []
    if not balancers:
        return None
    advanced = balancers[0].get("advancedConfiguration") or {}
    primary, alternate = balancers[0]["targetGroupArn"], advanced["alternateTargetGroupArn"]
    live = getattr(service, "dockyard_live_group", primary)
    other = alternate if live == primary else primary
    return live, other, advanced["productionListenerRule"], \
        advanced.get("testListenerRule") or ""


def _set_weights(backend: Any, rule_arn: str, weights: dict[str, float]) -> None:
    """What the infrastructure role's ModifyRule does: the rule forwards by these weights."""
    from moto.elbv2.models import elbv2_backends

    if not rule_arn or len(weights) < 2:  # a first deployment: one group, nothing moves
        return
    elb = elbv2_backends[backend.account_id][backend.region_name]
    for rule in elb.describe_rules(None, [rule_arn]):
        for action in rule.actions:
            if action.type == "forward" and "ForwardConfig" in action.data:
                action.data["ForwardConfig"]["TargetGroups"] = [
                    {"TargetGroupArn": arn, "Weight": round(weight)}
                    for arn, weight in weights.items()]
                action.ForwardConfig = action.data["ForwardConfig"]


def _held(backend: Any, service: Any, deployment: dict[str, Any],
          entry: dict[str, Any]) -> bool:
    """What keeps a progressive deployment from its next stage: the end of a rollback, a PAUSE
    hook awaiting its answer, a ROLLBACK answer, an alarm in ALARM, tasks that crash or hang."""
    if entry["status"] == "ROLLBACK_IN_PROGRESS":
        _rolled_back(backend, service, deployment, entry)
        return True
    stage = entry.get("lifecycleStage")
    if stage in entry["dockyard_paused"] and not entry.get("dockyard_answer"):
        if not entry["lifecycleHookDetails"]:
            entry["lifecycleHookDetails"] = [{
                "hookId": f"hook-{next(_ids)}", "targetType": "PAUSE",
                "status": "AWAITING_ACTION", "timeoutAction": "ROLLBACK",
                "expiresAt": _now()}]
            _event(service, f"(deployment {deployment['id']}) paused at {stage}.")
        return True
    if entry.pop("dockyard_answer", None) == "ROLLBACK":
        _roll_back(backend, service, deployment, entry, reason=ROLLED_BACK_BY_HOOK)
        return True
    if stage not in (None, "PRE_SCALE_UP") and (tripped := _alarms_in_alarm(backend, service)):
        entry["alarms"] = {"status": "TRIGGERED", "alarmNames": tripped,
                           "triggeredAlarmNames": tripped}
        _roll_back(backend, service, deployment, entry,
                   reason=f"Service deployment rolled back because alarm(s) "
                          f"{', '.join(tripped)} went into ALARM.")
        return True
    marks = deployment["dockyard"]["marks"]
    if stage == "SCALE_UP" and HANG in marks:
        _health(backend, service, deployment, "unhealthy")
        return True
    if stage == "SCALE_UP" and CRASH in marks:
        deployment["failedTasks"] = FAILURE_THRESHOLD
        _roll_back(backend, service, deployment, entry,
                   reason="Service deployment rolled back because the circuit breaker "
                          "threshold was exceeded.")
        return True
    return False


def _next_stage(backend: Any, service: Any, deployment: dict[str, Any]) -> None:
    """One stage of a progressive deployment (or the end of its rollback)."""
    entry = deployment["dockyard"]["history"]
    deployment["updatedAt"] = _now()
    if _held(backend, service, deployment, entry):
        return
    stages = entry["dockyard_stages"]
    if not stages:
        _finish(backend, service, deployment, entry)
        return
    stage = stages.pop(0)
    entry["lifecycleStage"] = stage
    live, new, production, test = entry["dockyard_groups"]
    desired = deployment["desiredCount"]
    if stage == "SCALE_UP":
        deployment["pendingCount"] = desired
        _event(service, f"has started {desired} tasks.")
        _register_in(backend, deployment, new, desired)
    elif stage == "POST_SCALE_UP":
        _played_health(backend, deployment, new, "healthy")
        deployment.update(pendingCount=0, runningCount=desired)
    elif stage == "TEST_TRAFFIC_SHIFT":
        entry["dockyard_test_weight"] = 100.0
        _set_weights(backend, test, {live: 0, new: 100})
    elif stage == "PRODUCTION_TRAFFIC_SHIFT":
        weight = entry["dockyard_shifts"].pop(0)
        entry["dockyard_weight"] = weight
        _set_weights(backend, production, {live: 100 - weight, new: weight})
        _event(service, f"(deployment {deployment['id']}) moved {weight:g}% of production "
                        "traffic to the new service revision.")
    elif stage == "CLEAN_UP":
        for drained in service.deployments:
            if drained is not deployment:
                _deregister(backend, service, drained)


def _register_in(backend: Any, deployment: dict[str, Any], group_arn: str, count: int) -> None:
    from moto.elbv2.models import elbv2_backends

    group = elbv2_backends[backend.account_id][backend.region_name].target_groups.get(group_arn)
    addresses = [f"10.0.1.{next(_addresses) % 250 + 2}" for _ in range(count)]
    deployment["dockyard"]["targets"] = addresses
    if group is not None:
        group.register([{"Id": a, "Port": group.port or 80} for a in addresses])
        group.__dict__.setdefault("dockyard_health", {}).update(
            dict.fromkeys(addresses, HEALTH["initial"]))


def _played_health(backend: Any, deployment: dict[str, Any], group_arn: str, state: str) -> None:
    from moto.elbv2.models import elbv2_backends

    group = elbv2_backends[backend.account_id][backend.region_name].target_groups.get(group_arn)
    if group is not None:
        group.__dict__.setdefault("dockyard_health", {}).update(
            dict.fromkeys(deployment["dockyard"].get("targets", []), HEALTH[state]))


def _finish(backend: Any, service: Any, deployment: dict[str, Any],
            entry: dict[str, Any]) -> None:
    """All traffic is on the new revision: its target group becomes the production one."""
    service.dockyard_live_group = entry["dockyard_groups"][1]
    entry.pop("lifecycleStage", None)
    if entry.get("alarms"):
        entry["alarms"]["status"] = "MONITORING_COMPLETE"
    _complete(service, deployment, deployment["desiredCount"])


def _roll_back(backend: Any, service: Any, deployment: dict[str, Any], entry: dict[str, Any],
               *, reason: str) -> None:
    """Traffic goes back to the old revision, which never stopped (ROLLBACK_IN_PROGRESS)."""
    live, new, production, test = entry["dockyard_groups"]
    _set_weights(backend, production, {live: 100, new: 0})
    _set_weights(backend, test, {live: 100, new: 0})
    entry.update(status="ROLLBACK_IN_PROGRESS", statusReason=reason,
                 rollback={"reason": reason, "startedAt": _now()})
    entry["dockyard_weight"] = 0.0
    deployment.update(rolloutState="FAILED", rolloutStateReason=reason)
    _event(service, f"(deployment {deployment['id']}) deployment failed: {reason}")


def _rolled_back(backend: Any, service: Any, deployment: dict[str, Any],
                 entry: dict[str, Any]) -> None:
    _deregister(backend, service, deployment)
    if len(service.deployments) == 1:  # a first deployment: nothing to go back to
        entry.update(status="ROLLBACK_FAILED", finishedAt=_now())
        entry.pop("lifecycleStage", None)
        deployment.update(runningCount=0, pendingCount=0)
        return
    service.deployments[:] = [d for d in service.deployments if d is not deployment]
    previous = service.deployments[0] if service.deployments else None
    if previous is not None:
        previous["status"] = "PRIMARY"
        service.task_definition = previous["taskDefinition"]
    entry.update(status="ROLLBACK_SUCCESSFUL", finishedAt=_now())
    entry.pop("lifecycleStage", None)
    _event(service, "has reached a steady state.")


def _service_deployment(entry: dict[str, Any]) -> dict[str, Any]:
    """A history entry as DescribeServiceDeployments answers it."""
    public = {k: v for k, v in entry.items() if k != "taskDefinition"
              and not k.startswith("dockyard")}
    # DescribeServiceDeployments names the revision inside targetServiceRevision (API
    # Reference, ServiceDeployment); ListServiceDeployments' brief has targetServiceRevisionArn.
    public.pop("targetServiceRevisionArn", None)
    public["targetServiceRevision"] = {"arn": entry["targetServiceRevisionArn"]}
    weight = entry.get("dockyard_weight")
    if weight is not None:
        public["targetServiceRevision"].update(
            requestedProductionTrafficWeight=weight,
            requestedTestTrafficWeight=entry.get("dockyard_test_weight", 0.0))
    return public
