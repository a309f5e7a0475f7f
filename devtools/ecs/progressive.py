"""Blue-green, canary and linear deployments, stage by stage, for as long as ECS holds each.

A service whose deploymentConfiguration.strategy is BLUE_GREEN, CANARY or LINEAR is deployed
through ECS's lifecycle stages (ECS Developer Guide, "Amazon ECS blue/green deployments",
"Amazon ECS linear deployments", "Amazon ECS canary deployments"; API Reference,
ServiceDeployment.lifecycleStage), each lasting what it lasts on ECS, in virtual time
(clock.py):

- SCALE_UP: the new revision's tasks start (TASK_START_SECONDS) in the target group the old
  one is not on; POST_SCALE_UP: they pass its health checks (health_seconds);
- TEST_TRAFFIC_SHIFT: the test rule is moved to them (RULE_SHIFT_SECONDS);
- PRODUCTION_TRAFFIC_SHIFT: the production rule's weights move at once (blue-green), the
  canaryPercent first and the rest after canaryBakeTimeInMinutes (canary), or stepPercent at a
  time with stepBakeTimeInMinutes between steps (linear);
- BAKE_TIME: bakeTimeInMinutes, the old revision still up; CLEAN_UP: the old tasks leave their
  target group and stop after its deregistration delay (drain_seconds). The new revision's
  group is then the production one.

A PAUSE hook holds its stage (lifecycleHookDetails AWAITING_ACTION, expiresAt) until
ContinueServiceDeployment answers it, or until its timeoutInMinutes pass: then its status is
TIMED_OUT and ECS takes its timeout action (Developer Guide, "Pause hooks for Amazon ECS
service deployments"; API Reference, DeploymentLifecycleHookTimeoutConfiguration: default 1440
minutes, ROLLBACK). A deployment alarm in ALARM, a crashing image, or a ROLLBACK (an answer or a
timeout) moves the traffic back at once, with ROLLBACK_SUCCESSFUL after the new tasks have
drained, and the reason (rollback.reason, alarms.triggeredAlarmNames).

Requests are refused as ECS refuses them: a progressive strategy without a load balancer's
advancedConfiguration (alternate target group, production rule, role), BLUE_GREEN without
bakeTimeInMinutes (DeploymentConfiguration), a role that does not exist or whose trust does not
let ECS assume it.
"""

from __future__ import annotations

import json
import math
from typing import Any

from devtools.ecs import balancing, rolling
from devtools.ecs.clock import CLOCK
from devtools.ecs.common import (
    CRASH,
    FAILURE_THRESHOLD,
    HANG,
    HOOK_TIMEOUT_MINUTES,
    RULE_SHIFT_SECONDS,
    TASK_START_SECONDS,
    drain_seconds,
    event,
    health_seconds,
    ids,
)

PROGRESSIVE = ("BLUE_GREEN", "CANARY", "LINEAR")
ROLLED_BACK_BY_HOOK = "Service deployment rolled back because a lifecycle hook answered ROLLBACK."
ROLLED_BACK_BY_TIMEOUT = ("Service deployment rolled back because a lifecycle hook timed out "
                          "(its timeout action is ROLLBACK).")


def strategy(service: Any) -> str:
    """The service's deployment strategy (ROLLING when none is set)."""
    return str((getattr(service, "deployment_configuration", None) or {}).get("strategy")
               or "ROLLING")


def check_strategy(backend: Any, service: Any) -> None:
    """Refuse what ECS refuses of a progressive strategy (API Reference, CreateService and
    UpdateService: DeploymentConfiguration.bakeTimeInMinutes "You must provide this parameter
    when you use the BLUE_GREEN deployment strategy"; AdvancedConfiguration; the role must
    exist for ECS to assume it)."""
    from moto.ecs.exceptions import InvalidParameterException
    from moto.iam.models import iam_backends

    settings = getattr(service, "deployment_configuration", None) or {}
    chosen = strategy(service)
    if chosen == "ROLLING":
        return
    if chosen not in PROGRESSIVE:
        raise InvalidParameterException(f"Invalid deployment strategy: {chosen}.")
    if chosen == "BLUE_GREEN" and settings.get("bakeTimeInMinutes") is None:
        raise InvalidParameterException(
            "bakeTimeInMinutes is required for the BLUE_GREEN deployment strategy.")
    balancers = getattr(service, "load_balancers", None) or []
    if not balancers:
        raise InvalidParameterException(
            f"The {chosen} deployment strategy requires a load balancer.")
    roles = iam_backends[backend.account_id]["global"].roles.values()
    for balancer in balancers:
        advanced = balancer.get("advancedConfiguration") or {}
        missing = [k for k in ("alternateTargetGroupArn", "productionListenerRule", "roleArn")
                   if not advanced.get(k)]
        if missing:
            raise InvalidParameterException(
                f"advancedConfiguration.{missing[0]} is required for the {chosen} deployment "
                "strategy.")
        role = next((role for role in roles if role.arn == advanced["roleArn"]), None)
        if role is None:
            raise InvalidParameterException(
                f"Unable to assume role {advanced['roleArn']}: it does not exist.")
        if not ecs_may_assume(role.assume_role_policy_document):
            raise InvalidParameterException(
                f"Amazon ECS was unable to assume role {advanced['roleArn']}: its trust policy "
                "does not allow ecs.amazonaws.com sts:AssumeRole without conditions.")


def ecs_may_assume(document: Any) -> bool:
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


def begin(backend: Any, service: Any, entry: dict[str, Any], chosen: str, *,
          first: bool = False) -> None:
    """The stages ahead of a progressive deployment, with its production traffic steps and the
    bake after each (the ``first`` deployment of a service has one target group: nothing
    moves)."""
    settings = service.deployment_configuration
    if chosen == "CANARY":
        canary = settings.get("canaryConfiguration") or {}
        shifts = [float(canary.get("canaryPercent", 5.0)), 100.0]
        pause = float(canary.get("canaryBakeTimeInMinutes", 10)) * 60
    elif chosen == "LINEAR":
        linear = settings.get("linearConfiguration") or {}
        step = float(linear.get("stepPercent", 10.0))
        shifts = sorted({min(100.0, round(step * n, 1)) for n in range(1, int(100 // step) + 2)})
        pause = float(linear.get("stepBakeTimeInMinutes", 6)) * 60
    else:
        shifts, pause = [100.0], 0.0
    if first:
        shifts = [100.0]
    stages = ["PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT",
              "POST_TEST_TRAFFIC_SHIFT", *(["PRODUCTION_TRAFFIC_SHIFT"] * len(shifts)),
              "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"]
    hooks = {stage: hook for hook in settings.get("lifecycleHooks") or []
             if hook.get("targetType") == "PAUSE" for stage in hook.get("lifecycleStages", [])}
    entry.update(dockyard_stages=stages, dockyard_shifts=shifts, dockyard_shift_pause=pause,
                 dockyard_hooks=hooks, lifecycleHookDetails=[], dockyard_weight=0.0,
                 dockyard_test_weight=0.0, deploymentConfiguration=settings)
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


def play(backend: Any, service: Any, deployment: dict[str, Any], moment: float) -> None:
    """Every stage of a progressive deployment (or of its rollback) due by ``moment``."""
    entry = deployment["dockyard"]["history"]
    state = deployment["dockyard"]
    while entry["status"] in ("IN_PROGRESS", "ROLLBACK_IN_PROGRESS"):
        if entry["status"] == "IN_PROGRESS" and _stopped(backend, service, deployment, moment):
            continue
        if state["due"] > moment:
            return
        at = state["due"]
        deployment["updatedAt"] = CLOCK.stamp(at)
        if entry["status"] == "ROLLBACK_IN_PROGRESS":
            _rolled_back(backend, service, deployment, at)
        elif entry["dockyard_stages"]:
            _enter(backend, service, deployment, entry["dockyard_stages"].pop(0), at)
        else:
            _finish(service, deployment, at)


def _stopped(backend: Any, service: Any, deployment: dict[str, Any], moment: float) -> bool:
    """Whether something stops the deployment where it is by ``moment``: an alarm in ALARM, a
    hook's ROLLBACK (answered or timed out); a hook awaiting its answer holds it (its stage
    ends no earlier than the answer)."""
    entry, state = deployment["dockyard"]["history"], deployment["dockyard"]
    stage = entry.get("lifecycleStage")
    if stage not in (None, "PRE_SCALE_UP") and (
            tripped := rolling.alarms_in_alarm(backend, service)):
        entry["alarms"] = {"status": "TRIGGERED", "alarmNames": tripped,
                           "triggeredAlarmNames": tripped}
        roll_back(backend, service, deployment, moment,
                  reason=f"Service deployment rolled back because alarm(s) "
                         f"{', '.join(tripped)} went into ALARM.")
        return True
    hook = next((h for h in entry["lifecycleHookDetails"]
                 if h["status"] == "AWAITING_ACTION"), None)
    answer = entry.pop("dockyard_answer", None)
    if answer is not None:
        action, answered = answer
        if action == "ROLLBACK":
            roll_back(backend, service, deployment, answered, reason=ROLLED_BACK_BY_HOOK)
            return True
        state["due"] = max(state["stage_end"], answered)
        return False
    if hook is None:
        return False
    if moment < hook["dockyard_expires"]:
        return False  # held until answered or timed out
    hook["status"] = "TIMED_OUT"
    expired = hook["dockyard_expires"]
    event(service, f"(deployment {deployment['id']}) lifecycle hook {hook['hookId']} timed "
                   f"out: {hook['timeoutAction']}.", expired)
    if hook["timeoutAction"] == "ROLLBACK":
        roll_back(backend, service, deployment, expired, reason=ROLLED_BACK_BY_TIMEOUT)
        return True
    state["due"] = max(state["stage_end"], expired)
    return False


def answer(entry: dict[str, Any], hook_id: str, action: str) -> bool:
    """ContinueServiceDeployment: the hook ``hook_id`` of the deployment ``entry`` answered
    now; False when it is not awaiting an answer."""
    hook = next((h for h in entry.get("lifecycleHookDetails", []) if h["hookId"] == hook_id),
                None)
    if hook is None or hook["status"] != "AWAITING_ACTION" or \
            CLOCK.now() >= hook["dockyard_expires"]:
        return False
    hook["status"] = "SUCCEEDED" if action == "CONTINUE" else "FAILED"
    entry["dockyard_answer"] = (action, CLOCK.now())
    return True


def _enter(backend: Any, service: Any, deployment: dict[str, Any], stage: str,
           at: float) -> None:
    """The deployment enters ``stage`` at ``at``: what ECS does there, and when it is over."""
    entry, state = deployment["dockyard"]["history"], deployment["dockyard"]
    entry["lifecycleStage"] = stage
    live, new, production, test = entry["dockyard_groups"]
    new_group = balancing.group(backend, new)
    desired = deployment["desiredCount"]
    lasts = 0.0
    if stage == "SCALE_UP":
        deployment["pendingCount"] = desired
        event(service, f"has started {desired} tasks.", at)
        balancing.register(deployment, [(new_group, new_group.port or 80)]
                           if new_group is not None else [], desired)
        lasts = TASK_START_SECONDS * (FAILURE_THRESHOLD if CRASH in state["marks"] else 1)
    elif stage == "POST_SCALE_UP":
        if CRASH in state["marks"]:
            deployment["failedTasks"] = FAILURE_THRESHOLD
            roll_back(backend, service, deployment, at,
                      reason="Service deployment rolled back because the circuit breaker "
                             "threshold was exceeded.")
            return
        deployment.update(pendingCount=0, runningCount=desired)
        lasts = health_seconds(new_group)
    elif stage in ("TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT") and \
            (refusal := _modify_refused(service, test if stage == "TEST_TRAFFIC_SHIFT"
                                        else production)):
        roll_back(backend, service, deployment, at, reason=refusal)
        return
    elif stage == "TEST_TRAFFIC_SHIFT":
        if HANG in state["marks"]:  # never healthy: ECS never moves traffic to it
            balancing.set_health(deployment, [new_group] if new_group else [], "unhealthy")
            entry["lifecycleStage"] = "POST_SCALE_UP"
            state["due"] = math.inf
            return
        balancing.set_health(deployment, [new_group] if new_group else [], "healthy")
        entry["dockyard_test_weight"] = 100.0
        balancing.set_weights(backend, test, {live: 0, new: 100})
        lasts = RULE_SHIFT_SECONDS
    elif stage == "PRODUCTION_TRAFFIC_SHIFT":
        weight = entry["dockyard_shifts"].pop(0)
        entry["dockyard_weight"] = weight
        balancing.set_weights(backend, production, {live: 100 - weight, new: weight})
        event(service, f"(deployment {deployment['id']}) moved {weight:g}% of production "
                       "traffic to the new service revision.", at)
        lasts = RULE_SHIFT_SECONDS + (entry["dockyard_shift_pause"]
                                      if entry["dockyard_shifts"] else 0.0)
    elif stage == "BAKE_TIME":
        lasts = float(entry["deploymentConfiguration"].get("bakeTimeInMinutes") or 0) * 60
    elif stage == "CLEAN_UP":
        old = balancing.group(backend, live)
        for drained in service.deployments:
            if drained is not deployment:
                balancing.deregister(drained, balancing.known_groups(backend, service))
        lasts = drain_seconds(old) if live != new else 0.0
    state["due"] = state["stage_end"] = at + lasts
    hook = entry["dockyard_hooks"].get(stage)
    if hook is not None:
        timeout = hook.get("timeoutConfiguration") or {}
        expires = at + float(timeout.get("timeoutInMinutes") or HOOK_TIMEOUT_MINUTES) * 60
        entry["lifecycleHookDetails"].append({
            "hookId": f"ecs-pause-{next(ids)}", "targetType": "PAUSE",
            "status": "AWAITING_ACTION", "timeoutAction": timeout.get("action") or "ROLLBACK",
            "expiresAt": CLOCK.stamp(expires), "dockyard_expires": expires})
        state["due"] = math.inf  # until answered or timed out
        event(service, f"(deployment {deployment['id']}) paused at {stage}.", at)


def _modify_refused(service: Any, rule_arn: str) -> str:
    """Why ECS's infrastructure role may not move ``rule_arn``'s weights ("" when it may):
    ECS calls ModifyRule as that role (Developer Guide, "Amazon ECS infrastructure IAM role for
    load balancers"), so the role's policies decide (IAM User Guide, "Policy evaluation
    logic"). What ECS then reports is not documented: the deployment fails and rolls back."""
    from devtools.strict.authz import role_policies
    from devtools.strict.policy import evaluate

    if not rule_arn:
        return ""
    role = next(((lb.get("advancedConfiguration") or {}).get("roleArn", "")
                 for lb in getattr(service, "load_balancers", None) or []), "")
    if not role:
        return ""
    decision = evaluate(role_policies(role), "elasticloadbalancing:ModifyRule", rule_arn, {})
    if decision.allowed:
        return ""
    return (f"Service deployment rolled back because Amazon ECS could not modify listener rule "
            f"{rule_arn} with role {role}: not authorized to perform "
            f"elasticloadbalancing:ModifyRule ({decision.reason}).")


def _finish(service: Any, deployment: dict[str, Any], at: float) -> None:
    """All traffic is on the new revision: its target group becomes the production one."""
    entry = deployment["dockyard"]["history"]
    service.dockyard_live_group = entry["dockyard_groups"][1]
    entry.pop("lifecycleStage", None)
    if entry.get("alarms"):
        entry["alarms"]["status"] = "MONITORING_COMPLETE"
    rolling.complete(service, deployment, deployment["desiredCount"], at)


def roll_back(backend: Any, service: Any, deployment: dict[str, Any], at: float, *,
              reason: str) -> None:
    """Traffic goes back to the old revision, which never stopped (ROLLBACK_IN_PROGRESS); the
    new revision's tasks drain and stop."""
    entry = deployment["dockyard"]["history"]
    live, new, production, test = entry["dockyard_groups"]
    balancing.set_weights(backend, production, {live: 100, new: 0})
    balancing.set_weights(backend, test, {live: 100, new: 0})
    entry.update(status="ROLLBACK_IN_PROGRESS", statusReason=reason,
                 rollback={"reason": reason, "startedAt": CLOCK.stamp(at)})
    entry["dockyard_weight"] = 0.0
    deployment.update(rolloutState="FAILED", rolloutStateReason=reason)
    deployment["dockyard"]["due"] = at + RULE_SHIFT_SECONDS + (
        drain_seconds(balancing.group(backend, new)) if live != new else 0.0)
    event(service, f"(deployment {deployment['id']}) deployment failed: {reason}", at)


def _rolled_back(backend: Any, service: Any, deployment: dict[str, Any], at: float) -> None:
    entry = deployment["dockyard"]["history"]
    balancing.deregister(deployment, balancing.known_groups(backend, service))
    entry.pop("lifecycleStage", None)
    if len(service.deployments) == 1:  # a first deployment: nothing to go back to
        entry.update(status="ROLLBACK_FAILED", finishedAt=CLOCK.stamp(at))
        deployment.update(runningCount=0, pendingCount=0)
        return
    service.deployments[:] = [d for d in service.deployments if d is not deployment]
    previous = service.deployments[0] if service.deployments else None
    if previous is not None:
        previous["status"] = "PRIMARY"
        service.task_definition = previous["taskDefinition"]
    entry.update(status="ROLLBACK_SUCCESSFUL", finishedAt=CLOCK.stamp(at))
    event(service, "has reached a steady state.", at)


def public(entry: dict[str, Any]) -> dict[str, Any]:
    """A history entry as DescribeServiceDeployments answers it."""
    shown = {k: v for k, v in entry.items() if k != "taskDefinition"
             and not k.startswith("dockyard")}
    if "lifecycleHookDetails" in shown:
        shown["lifecycleHookDetails"] = [
            {k: v for k, v in h.items() if not k.startswith("dockyard")}
            for h in entry["lifecycleHookDetails"]]
    # DescribeServiceDeployments names the revision inside targetServiceRevision (API
    # Reference, ServiceDeployment); ListServiceDeployments' brief has targetServiceRevisionArn.
    shown.pop("targetServiceRevisionArn", None)
    shown["targetServiceRevision"] = {"arn": entry["targetServiceRevisionArn"]}
    weight = entry.get("dockyard_weight")
    if weight is not None:
        shown["targetServiceRevision"].update(
            requestedProductionTrafficWeight=weight,
            requestedTestTrafficWeight=entry.get("dockyard_test_weight", 0.0))
    return shown
