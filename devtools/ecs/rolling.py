"""Deployments as the ECS scheduler rolls them, in virtual time (clock.py).

CreateService and an UpdateService with a new task definition start a deployment (PRIMARY,
rolloutState IN_PROGRESS); the one before becomes ACTIVE. A rolling deployment's tasks are
placed at once and take TASK_START_SECONDS to run; they are registered in the service's target
groups as they start and are healthy after the group's health checks pass (HealthyThresholdCount
checks, HealthCheckIntervalSeconds apart); the older deployments' tasks are then deregistered
and stopped after the group's deregistration delay, and the deployment COMPLETES (ECS Developer
Guide, "Deploy Amazon ECS services by replacing tasks"; "Use load balancing to distribute
Amazon ECS service traffic"). When its image crashes, its tasks fail as they start, the
circuit breaker marks it FAILED, and a rollback deployment to the last completed task
definition starts ("How the Amazon ECS deployment circuit breaker detects failures"); a
deployment alarm in ALARM does the same ("How CloudWatch alarms detect Amazon ECS deployment
failures").

An UpdateService that changes only the desired count starts no deployment (ECS API Reference,
UpdateService: a new deployment comes with a new task definition, network or platform settings,
or forceNewDeployment); the scheduler starts or stops tasks of the current one.
"""

from __future__ import annotations

import math
from typing import Any

from devtools.ecs import balancing, progressive, tasks
from devtools.ecs.clock import CLOCK
from devtools.ecs.common import (
    CRASH,
    FAILURE_THRESHOLD,
    HANG,
    TASK_START_SECONDS,
    drain_seconds,
    event,
    health_seconds,
    ids,
    image_marks,
    now,
)


def start(backend: Any, service: Any, task_definition: str, rollback_of: dict[str, Any] | None,
          at: float | None = None) -> dict[str, Any]:
    """A new PRIMARY deployment of ``task_definition`` from virtual time ``at`` (now); the
    current ones become ACTIVE."""
    at = now() if at is None else at
    if rollback_of is None:
        _stop_under_way(backend, service, at)
    for deployment in service.deployments:
        if deployment["status"] == "PRIMARY":
            deployment["status"] = "ACTIVE"
    number = next(ids)
    deployment_id = f"ecs-svc/{number:019d}"
    stamp = CLOCK.stamp(at)
    deployment = {
        "id": deployment_id, "status": "PRIMARY", "taskDefinition": task_definition,
        "desiredCount": service.desired_count, "pendingCount": 0, "runningCount": 0,
        "failedTasks": 0, "createdAt": stamp, "updatedAt": stamp, "launchType": "FARGATE",
        "rolloutState": "IN_PROGRESS",
        "rolloutStateReason": "ECS deployment " + deployment_id + " in progress.",
        "dockyard": {"step": 0, "due": at, "marks": image_marks(backend, task_definition),
                     "history": rollback_of}}
    service.deployments.insert(0, deployment)
    service.task_definition = task_definition
    if rollback_of is None:
        arn_tail = f"{service.cluster_name}/{service.name}"
        prefix = f"arn:aws:ecs:{backend.region_name}:{backend.account_id}"
        entry = {"serviceDeploymentArn": f"{prefix}:service-deployment/{arn_tail}/{number}",
                 "serviceArn": service.arn, "clusterArn": service.cluster_arn,
                 "createdAt": stamp, "startedAt": stamp,
                 "targetServiceRevisionArn": f"{prefix}:service-revision/{arn_tail}/{number}",
                 "status": "IN_PROGRESS", "taskDefinition": task_definition,
                 "dockyard_load_balancers": [dict(lb) for lb in
                                             getattr(service, "load_balancers", None) or []]}
        if not hasattr(service, "dockyard_history"):
            service.dockyard_history = []
        service.dockyard_history.append(entry)
        deployment["dockyard"]["history"] = entry
        service.current_service_deployment = entry["serviceDeploymentArn"]
        strategy = progressive.strategy(service)
        if strategy != "ROLLING" and len(service.deployments) > 1:
            progressive.begin(backend, service, entry, strategy)
    event(service, f"has begun deployment {deployment_id}.", at)
    return deployment


ONGOING = ("PENDING", "IN_PROGRESS", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS")


def check_switch(service: Any, settings: dict[str, Any] | None) -> None:
    """Refuse an UpdateService that changes the deployment strategy while a deployment is
    under way. The strategy is the service's, read by each deployment it starts, so one
    UpdateService may switch it (API Reference, UpdateService: deploymentConfiguration;
    DeploymentConfiguration.strategy), but not mid-deployment: "If your service has an ongoing
    deployment, you can't migrate it to a rolling deployment", and to blue/green "Wait for all
    current deployments to complete" (Developer Guide, "Update the deployment strategy from
    Amazon ECS blue/green to rolling update", "... from rolling update to Amazon ECS
    blue/green"). The error code and message are assumed."""
    from moto.ecs.exceptions import InvalidParameterException

    if settings is None or not settings.get("strategy"):
        return
    before = progressive.strategy(service)
    if settings["strategy"] == before:
        return
    ongoing = [entry for entry in getattr(service, "dockyard_history", [])
               if entry["status"] in ONGOING]
    if ongoing:
        raise InvalidParameterException(
            f"The deployment strategy cannot change from {before} to {settings['strategy']} "
            f"while service deployment {ongoing[-1]['serviceDeploymentArn']} is ongoing. Wait "
            "for it to complete, or stop it.")


SUPERSEDED = "The service deployment was stopped: a newer deployment of the service started."


def _stop_under_way(backend: Any, service: Any, at: float) -> None:
    """A new deployment while another is under way stops that one: its service deployment
    ends STOPPED (ECS Developer Guide, "View service history using Amazon ECS service
    deployments": STOPPED is a completed state; which status a replaced deployment ends in is
    not documented, docs/aws-assumptions.md). A progressive one's traffic goes back to the
    live revision and its tasks stop; a rolling one's tasks are replaced as the new
    deployment's start."""
    for deployment in list(service.deployments):
        state = deployment.get("dockyard") or {}
        entry = state.get("history")
        if entry is None or entry["status"] != "IN_PROGRESS":
            continue
        entry.update(status="STOPPED", statusReason=SUPERSEDED, finishedAt=CLOCK.stamp(at))
        entry.pop("lifecycleStage", None)
        state["superseded"] = True
        event(service, f"(deployment {deployment['id']}) stopped: a newer deployment "
                       "started.", at)
        groups = entry.get("dockyard_groups")
        if entry.get("dockyard_stages") is not None and groups is not None:
            live, new, production, test = groups
            balancing.set_weights(backend, production, {live: 100, new: 0})
            balancing.set_weights(backend, test, {live: 100, new: 0})
            balancing.deregister(deployment, balancing.known_groups(backend, service))
            service.deployments[:] = [d for d in service.deployments if d is not deployment]


def advance(backend: Any, service: Any) -> None:
    """Play every deployment of ``service`` up to the clock's now."""
    moment = now()
    for deployment in list(service.deployments):
        state = deployment.get("dockyard")
        if state is None:
            continue
        if state.get("scaling"):
            _settle(service, deployment, moment)
            continue
        entry = state.get("history") or {}
        if entry.get("dockyard_stages") is not None and entry["status"] in (
                "IN_PROGRESS", "ROLLBACK_IN_PROGRESS"):
            progressive.play(backend, service, deployment, moment)
            continue
        if deployment["rolloutState"] == "IN_PROGRESS" and not state.get("superseded"):
            _roll(backend, service, deployment, moment)
    primary = next((d for d in service.deployments if d["status"] == "PRIMARY"), None)
    if primary:
        service.running_count = sum(d["runningCount"] for d in service.deployments)
        service.pending_count = sum(d["pendingCount"] for d in service.deployments)
        service.task_definition = primary["taskDefinition"]
    tasks.sync(backend, service)


def _roll(backend: Any, service: Any, deployment: dict[str, Any], moment: float) -> None:
    """A rolling deployment's steps that are due by ``moment``: tasks placed, running, healthy
    (the old ones leave the target groups), drained (COMPLETED)."""
    state = deployment["dockyard"]
    desired = deployment["desiredCount"]
    groups = balancing.service_groups(backend, service)
    if state["step"] >= 1 and (tripped := alarms_in_alarm(backend, service)):
        # ECS watches the deployment's alarms while it rolls out: one in ALARM fails it, and
        # with rollback on, ECS returns to the last completed deployment.
        balancing.deregister(deployment, [g for g, _ in groups])
        fail(backend, service, deployment, moment,
             reason=f"alarm(s) {', '.join(tripped)} in ALARM state")
        return
    while deployment["rolloutState"] == "IN_PROGRESS" and state["due"] <= moment:
        at, step = state["due"], state["step"]
        state["step"] += 1
        deployment["updatedAt"] = CLOCK.stamp(at)
        if step == 0:
            deployment["pendingCount"] = desired
            event(service, f"has started {desired} tasks.", at)
            balancing.register(deployment, groups, desired)
            state["due"] = at + TASK_START_SECONDS * (FAILURE_THRESHOLD if CRASH in
                                                      state["marks"] else 1)
        elif step == 1 and CRASH in state["marks"]:
            balancing.deregister(deployment, [g for g, _ in groups])
            fail(backend, service, deployment, at)
        elif step == 1:
            deployment.update(pendingCount=0, runningCount=desired)
            state["due"] = at + max((health_seconds(g) for g, _ in groups), default=0.0)
        elif state.get("unhealthy") or (step == 2 and HANG in state["marks"] and not groups
                                        and container_health_check(backend, deployment)):
            _fail_health_checks(backend, service, deployment, at)
        elif step == 2 and HANG in state["marks"] and groups:
            balancing.set_health(deployment, [g for g, _ in groups], "unhealthy")
            state["due"] = math.inf  # never healthy, never failed: a wait's timeout ends it
        elif step == 2:
            # The older tasks leave every group they are in, whichever group the listener
            # rules forward to: a rolling deployment registers its tasks in the service's
            # targetGroupArn alone (the harsher reading of what ECS does after a blue/green
            # deployment; docs/aws-assumptions.md).
            balancing.set_health(deployment, [g for g, _ in groups], "healthy")
            for drained in service.deployments:
                if drained is not deployment:
                    balancing.deregister(drained, balancing.known_groups(backend, service))
            older = len(service.deployments) > 1
            state["due"] = at + (max((drain_seconds(g) for g, _ in groups), default=0.0)
                                 if older else 0.0)
        else:
            if groups:
                service.dockyard_live_group = groups[0][0].arn
            complete(service, deployment, desired, at)


def _fail_health_checks(backend: Any, service: Any, deployment: dict[str, Any],
                        at: float) -> None:
    """With no load balancer the container's own health check is ECS's verdict: a task
    unhealthy `retries` times after its start period is replaced, and the circuit breaker
    counts it ("How the Amazon ECS deployment circuit breaker detects failures": stage 2 reads
    container health checks; ECS API Reference, HealthCheck). First the tasks go unhealthy
    until the breaker's threshold; then the deployment fails."""
    state = deployment["dockyard"]
    if not state.get("unhealthy"):
        state["unhealthy"] = True
        check = container_health_check(backend, deployment) or {}
        state["due"] = at + FAILURE_THRESHOLD * (TASK_START_SECONDS + unhealthy_seconds(check))
        return
    event(service, f"(deployment {deployment['id']}) tasks failed container health checks.",
          at)
    fail(backend, service, deployment, at)


def container_health_check(backend: Any, deployment: dict[str, Any]) -> dict[str, Any] | None:
    """The health check of the deployment's essential container, if its task definition has
    one."""
    definition = backend.describe_task_definition(deployment["taskDefinition"])
    check = (definition.container_definitions or [{}])[0].get("healthCheck")
    return dict(check) if check else None


def unhealthy_seconds(check: dict[str, Any]) -> float:
    """How long a container that never passes its health check takes to be UNHEALTHY: the
    start period (failures in it do not count), then `retries` checks `interval` apart (ECS
    API Reference, HealthCheck: defaults 0, 3 and 30)."""
    return float(check.get("startPeriod", 0)) + \
        int(check.get("retries", 3)) * float(check.get("interval", 30))


def scale(service: Any, desired: int) -> None:
    """A new desired count for the current deployment: its tasks follow as the scheduler
    places or stops them."""
    primary = next((d for d in service.deployments if d["status"] == "PRIMARY"), None)
    if primary is None:
        return
    primary["desiredCount"] = desired
    if primary["rolloutState"] == "COMPLETED" and primary["runningCount"] != desired:
        state = primary.setdefault("dockyard", {})
        state.update(scaling=True, due=now())


def _settle(service: Any, deployment: dict[str, Any], moment: float) -> None:
    """A completed deployment moving to its desired count: new tasks pending, then running
    TASK_START_SECONDS later; extra ones stop."""
    state = deployment["dockyard"]
    while state.get("scaling") and state["due"] <= moment:
        at = state["due"]
        desired, running = deployment["desiredCount"], deployment["runningCount"]
        if desired > running and deployment["pendingCount"] == 0:
            deployment["pendingCount"] = desired - running
            event(service, f"has started {desired - running} tasks.", at)
            state["due"] = at + TASK_START_SECONDS
            continue
        if desired < running:
            event(service, f"has stopped {running - desired} running tasks.", at)
        deployment.update(pendingCount=0, runningCount=desired)
        state.pop("scaling", None)
        event(service, "has reached a steady state.", at)


def complete(service: Any, deployment: dict[str, Any], desired: int, at: float) -> None:
    """The deployment is the service's only one, COMPLETED."""
    deployment.update(pendingCount=0, runningCount=desired, rolloutState="COMPLETED",
                      rolloutStateReason=f"ECS deployment {deployment['id']} completed.",
                      updatedAt=CLOCK.stamp(at))
    service.deployments[:] = [d for d in service.deployments if d is deployment]
    history = deployment["dockyard"]["history"]
    if history is not None:
        rolled_back = history["status"] == "ROLLBACK_IN_PROGRESS"
        history.update(status="ROLLBACK_SUCCESSFUL" if rolled_back else "SUCCESSFUL",
                       finishedAt=CLOCK.stamp(at))
    event(service, "has reached a steady state.", at)


def alarms_in_alarm(backend: Any, service: Any) -> list[str]:
    """The service's deployment alarms that CloudWatch has in ALARM (moto's alarms, which a
    test sets with SetAlarmState)."""
    from moto.cloudwatch.models import cloudwatch_backends

    settings = (getattr(service, "deployment_configuration", None) or {}).get("alarms") or {}
    if not settings.get("enable"):
        return []
    watch = cloudwatch_backends[backend.account_id][backend.region_name]
    names = set(settings.get("alarmNames") or [])
    return sorted(a.name for a in watch.get_alarms_by_state_value("ALARM") if a.name in names)


def fail(backend: Any, service: Any, deployment: dict[str, Any], at: float, *,
         reason: str = "") -> None:
    """The deployment FAILED (its tasks, or ``reason``); a rollback to the last completed task
    definition starts at once, if there is one."""
    why = reason or "tasks failed to start"
    deployment.update(pendingCount=0, runningCount=0,
                      failedTasks=0 if reason else FAILURE_THRESHOLD, rolloutState="FAILED",
                      rolloutStateReason=f"ECS deployment {deployment['id']} failed: {why}."
                      if reason else "ECS deployment circuit breaker: tasks failed to start.")
    event(service, f"(deployment {deployment['id']}) deployment failed: {why}.", at)
    history = deployment["dockyard"]["history"]
    completed = [h for h in getattr(service, "dockyard_history", [])
                 if h["status"] == "SUCCESSFUL"]
    if not completed:
        if history is not None:
            history.update(status="ROLLBACK_FAILED", finishedAt=CLOCK.stamp(at))
        return
    target = completed[-1]["taskDefinition"]
    if history is not None:
        history["status"] = "ROLLBACK_IN_PROGRESS"
    event(service, f"(deployment {deployment['id']}) rolling back to "
                   f"{target.rsplit('/', 1)[-1]}.", at)
    start(backend, service, target, rollback_of=history, at=at)
