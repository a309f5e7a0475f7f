"""The ECS API calls moto lacks or answers without deployments: CreateService's refusals,
ListServiceDeployments, DescribeServiceDeployments, DescribeServiceRevisions and
ContinueServiceDeployment, answered from the deployments this player keeps."""

from __future__ import annotations

from typing import Any

from devtools.ecs import progressive, rolling

ORIGINAL: dict[str, Any] = {}  # moto's own handlers that these call


def describe_service_deployments(self: Any) -> Any:
    from moto.core.responses import ActionResult

    wanted = self._get_param("serviceDeploymentArns") or []
    found = []
    for service in list(self.ecs_backend.services.values()):
        entries = [h for h in getattr(service, "dockyard_history", [])
                   if h["serviceDeploymentArn"] in wanted]
        if entries:
            rolling.advance(self.ecs_backend, service)
            found += [progressive.public(h) for h in entries]
    return ActionResult({"serviceDeployments": found, "failures": [
        {"arn": arn, "reason": "MISSING"} for arn in wanted
        if arn not in {f["serviceDeploymentArn"] for f in found}]})


def continue_service_deployment(self: Any) -> Any:
    from moto.core.responses import ActionResult
    from moto.ecs.exceptions import InvalidParameterException

    arn, hook_id = self._get_param("serviceDeploymentArn"), self._get_param("hookId")
    action = self._get_param("action") or "CONTINUE"
    for service in list(self.ecs_backend.services.values()):
        rolling.advance(self.ecs_backend, service)  # a hook past its timeout has timed out
        for entry in getattr(service, "dockyard_history", []):
            if entry["serviceDeploymentArn"] != arn or not any(
                    h["hookId"] == hook_id for h in entry.get("lifecycleHookDetails", [])):
                continue
            if not progressive.answer(entry, hook_id, action):
                raise InvalidParameterException(
                    f"The lifecycle hook {hook_id} is not awaiting action.")
            return ActionResult({"serviceDeploymentArn": arn})
    raise InvalidParameterException(
        f"No paused lifecycle hook {hook_id} in service deployment {arn}.")


def create_service(self: Any) -> Any:
    """CreateService keeps what moto drops, and refuses what ECS refuses."""
    result = ORIGINAL["create_service_response"](self)
    service = self.ecs_backend._get_service(self._get_param("cluster", "default"),
                                            self._get_param("serviceName"))
    for param, attribute in (("deploymentConfiguration", "deployment_configuration"),
                             ("healthCheckGracePeriodSeconds",
                              "health_check_grace_period_seconds"),
                             ("loadBalancers", "load_balancers"),
                             ("enableExecuteCommand", "enable_execute_command")):
        if self._get_param(param) is not None:
            setattr(service, attribute, self._get_param(param))
    try:
        progressive.check_strategy(self.ecs_backend, service)
    except Exception:
        self.ecs_backend.services.pop(f"{service.cluster_name}:{service.name}", None)
        raise
    chosen = progressive.strategy(service)
    if chosen != "ROLLING":
        # The first deployment of a new service has no revision to move traffic from, yet
        # ECS still takes it through its lifecycle stages and hooks (hashicorp/terraform-
        # provider-aws#43434 waits for a new blue-green service's hooks to complete): its tasks
        # go to the production target group, and a PAUSE hook holds it as any other.
        (deployment,) = service.deployments
        progressive.begin(self.ecs_backend, service, deployment["dockyard"]["history"], chosen,
                          first=True)
    return result


def list_service_deployments(self: Any) -> Any:
    from moto.core.responses import ActionResult

    service = self.ecs_backend._get_service(self._get_param("cluster", "default"),
                                            self._get_param("service"))
    rolling.advance(self.ecs_backend, service)
    wanted = self._get_param("status") or []
    history = [h for h in reversed(getattr(service, "dockyard_history", []))
               if not wanted or h["status"] in wanted]
    return ActionResult({"serviceDeployments": [
        {k: v for k, v in h.items() if k != "taskDefinition" and not k.startswith("dockyard")
         and k not in ("lifecycleHookDetails", "deploymentConfiguration")}
        for h in history]})


def describe_service_revisions(self: Any) -> Any:
    from moto.core.responses import ActionResult

    wanted = set(self._get_param("serviceRevisionArns") or [])
    revisions = [_revision(h) for service in self.ecs_backend.services.values()
                 for h in getattr(service, "dockyard_history", [])
                 if h["targetServiceRevisionArn"] in wanted]
    return ActionResult({"serviceRevisions": revisions, "failures": []})


def _revision(entry: dict[str, Any]) -> dict[str, Any]:
    """A service revision as DescribeServiceRevisions answers it: the load balancers it was
    deployed with, and in resolvedConfiguration the target group its tasks are in and the
    production rule (API Reference, ServiceRevision, ResolvedConfiguration,
    ServiceRevisionLoadBalancer: "which target groups serve traffic")."""
    balancers = entry.get("dockyard_load_balancers") or []
    revision: dict[str, Any] = {
        "serviceRevisionArn": entry["targetServiceRevisionArn"],
        "serviceArn": entry["serviceArn"], "clusterArn": entry["clusterArn"],
        "taskDefinition": entry["taskDefinition"], "createdAt": entry["createdAt"],
        "loadBalancers": balancers}
    if entry.get("dockyard_group"):
        rule = next(((lb.get("advancedConfiguration") or {}).get("productionListenerRule")
                     for lb in balancers), None)
        revision["resolvedConfiguration"] = {"loadBalancers": [
            {"targetGroupArn": entry["dockyard_group"],
             **({"productionListenerRule": rule} if rule else {})}]}
    return revision


def stop_service_deployment(self: Any) -> Any:
    """StopServiceDeployment with stopType ROLLBACK: an ongoing deployment rolls back to the
    previous revision (API Reference, StopServiceDeployment; Developer Guide, "Stopping Amazon
    ECS service deployments": IN_PROGRESS moves to ROLLBACK_REQUESTED, then the rollback
    starts). A finished one is refused (the error code is assumed)."""
    from moto.core.responses import ActionResult
    from moto.ecs.exceptions import InvalidParameterException

    arn = self._get_param("serviceDeploymentArn")
    for service in list(self.ecs_backend.services.values()):
        for deployment in list(service.deployments):
            entry = (deployment.get("dockyard") or {}).get("history")
            if entry is None or entry["serviceDeploymentArn"] != arn:
                continue
            if entry["status"] not in ("PENDING", "IN_PROGRESS"):
                break
            reason = "Service deployment rolled back because StopServiceDeployment asked for it."
            for hook in entry.get("lifecycleHookDetails", []):
                if hook["status"] == "AWAITING_ACTION":
                    hook["status"] = "FAILED"
            if entry.get("dockyard_stages") is not None:
                progressive.roll_back(self.ecs_backend, service, deployment, rolling.now(),
                                      reason=reason)
            else:
                rolling.fail(self.ecs_backend, service, deployment, rolling.now(),
                             reason=reason)
            return ActionResult({"serviceDeploymentArn": arn})
    raise InvalidParameterException(f"The service deployment {arn} is not ongoing.")
