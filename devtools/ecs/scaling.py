"""Application Auto Scaling for ECS services, played on the virtual clock (moto registers
targets and policies but never scales anything).

What is played, and where AWS says so:
- RegisterScalableTarget clamps the service's desired count into [min, max] ("If it's below
  the minimum capacity or above the maximum capacity, Application Auto Scaling adjusts the
  capacity", API Reference, RegisterScalableTarget); min and max are required for a new
  target (same page); the ECS service must exist (moto checks it).
- PutScalingPolicy without a scalable target fails with ObjectNotFoundException (API
  Reference, PutScalingPolicy, Errors).
- DeregisterScalableTarget "deletes the scaling policies ... associated with it" (API
  Reference); moto leaves them.
- Target tracking (Application Auto Scaling User Guide, "Target tracking scaling policies"):
  the metric is evaluated each minute; the service scales out when it has been above the
  target for 3 minutes, and in when it has been below 90% of the target for 15 (the alarms
  target tracking creates: AlarmHigh 3 of 3 datapoints, AlarmLow 15 of 15, "How target
  tracking works"), to the capacity that brings the metric to the target (proportional:
  ``ceil(running * metric / target)``), never outside [min, max]. With several policies it
  scales out if any wants more and in only if every one wants less ("Multiple target tracking
  policies"). Cooldowns: after a scale-out no other scale-out for ScaleOutCooldown (default
  300 s for ECS), no scale-in for ScaleInCooldown after a scale-in; a policy with
  DisableScaleIn never scales in.
- Scale-in is suspended while a deployment is in progress; scale-out goes on (ECS Developer
  Guide, "Troubleshooting service auto scaling").

The metric a policy tracks comes from the service's load, which tests set with
:func:`set_load` ("the emulator raises its metric"): a total over the service (CPU or memory
percent summed over its tasks, requests per minute, response time times tasks), divided by
the running tasks, as a per-task average is. Nothing here is published to CloudWatch.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from typing import Any

from devtools.ecs import rolling
from devtools.ecs.common import event, now

MINUTE = 60.0
HIGH_MINUTES = 3
LOW_MINUTES = 15
LOW_FRACTION = 0.9
DEFAULT_COOLDOWN = 300.0
_KINDS = {"ECSServiceAverageCPUUtilization": "cpu",
          "ECSServiceAverageMemoryUtilization": "memory",
          "RequestCountPerTarget": "requests", "TargetResponseTime": "response_time",
          "ALBRequestCountPerTarget": "requests"}


@dataclass
class _State:
    """What the evaluator remembers of one scalable target."""

    checked_until: float
    high: dict[str, int] = field(default_factory=dict)  # policy -> minutes above target
    low: dict[str, int] = field(default_factory=dict)  # policy -> minutes below 90%
    last_out: float = -math.inf
    last_in: float = -math.inf


_LOAD: dict[tuple[str, str, str], dict[str, float]] = {}
_STATE: dict[tuple[str, ...], _State] = {}  # by target (its ARN: one registration)


def set_load(cluster: str, service: str, *, account: str = "123456789012",
             region: str = "ap-southeast-2", **totals: float) -> None:
    """The service's load from now on: ``cpu``, ``memory`` (percent summed over its tasks),
    ``requests`` (per minute), ``response_time`` (seconds times tasks)."""
    _LOAD.setdefault((account, region, f"service/{cluster}/{service}"), {}).update(totals)


def reset() -> None:
    """Forget every load and evaluation (a fresh account)."""
    _LOAD.clear()
    _STATE.clear()


def _backend(account: str, region: str) -> Any:
    from moto.applicationautoscaling.models import applicationautoscaling_backends

    return applicationautoscaling_backends[account][region]


def clamp(ecs: Any, target: Any) -> None:
    """RegisterScalableTarget's adjustment of the current capacity into [min, max]."""
    _, cluster, name = target.resource_id.split("/")
    service = ecs.services.get(f"{cluster}:{name}")
    if service is None or service.status != "ACTIVE":
        return
    wanted = min(max(service.desired_count, target.min_capacity), target.max_capacity)
    if wanted != service.desired_count:
        _set_desired(service, wanted, f"clamped into [{target.min_capacity}, "
                                      f"{target.max_capacity}] by RegisterScalableTarget")


def _set_desired(service: Any, desired: int, cause: str) -> None:
    service.desired_count = desired
    rolling.scale(service, desired)
    event(service, f"desired count set to {desired} by Application Auto Scaling ({cause}).")


def patch() -> None:
    """RegisterScalableTarget clamps and needs min and max for a new target,
    PutScalingPolicy needs a target, DeregisterScalableTarget takes the policies along."""
    from moto.applicationautoscaling.exceptions import AWSValidationException
    from moto.applicationautoscaling.models import ApplicationAutoscalingBackend
    from moto.core.exceptions import JsonRESTError

    backend = ApplicationAutoscalingBackend
    register, put = backend.register_scalable_target, backend.put_scaling_policy
    deregister = backend.deregister_scalable_target

    def register_scalable_target(self: Any, *args: Any, **kwargs: Any) -> Any:
        given = inspect.signature(register).bind(self, *args, **kwargs).arguments
        if not self._scalable_target_exists(given["r_id"], given["dimension"]) and (
                given.get("min_capacity") is None or given.get("max_capacity") is None):
            raise AWSValidationException("MinCapacity and MaxCapacity are required when "
                                         "registering a new scalable target.")
        namespace = given["namespace"]
        target = register(self, *args, **kwargs)
        if int(target.min_capacity or 0) > int(target.max_capacity or 0):
            raise AWSValidationException("Minimum capacity cannot be greater than maximum "
                                         "capacity")
        if namespace == "ecs":
            clamp(self.ecs_backend, target)
        return target

    def put_scaling_policy(self: Any, *args: Any, **kwargs: Any) -> Any:
        given = inspect.signature(put).bind(self, *args, **kwargs).arguments
        if not self._scalable_target_exists(given["resource_id"], given["scalable_dimension"]):
            raise JsonRESTError("ObjectNotFoundException",
                                f"No scalable target registered for service namespace: "
                                f"{given['service_namespace']}, resource ID: "
                                f"{given['resource_id']}, scalable dimension: "
                                f"{given['scalable_dimension']}")
        return put(self, *args, **kwargs)

    def deregister_scalable_target(self: Any, namespace: str, r_id: str,
                                   dimension: str) -> None:
        deregister(self, namespace, r_id, dimension)
        for key, policy in list(self.policies.items()):
            if policy.resource_id == r_id and policy.scalable_dimension == dimension:
                policy.delete_alarms(self.account_id, self.region_name)
                del self.policies[key]

    backend.register_scalable_target = register_scalable_target
    backend.put_scaling_policy = put_scaling_policy
    backend.deregister_scalable_target = deregister_scalable_target


def evaluate(account: str, region: str, ecs: Any) -> None:
    """Play every ECS scalable target of the account's region up to now, a minute at a
    time."""
    try:
        backend = _backend(account, region)
    except KeyError:
        return
    for target in list(backend.targets.get("ecs:service:DesiredCount", {}).values()):
        key = (account, region, target.resource_id)
        _, cluster, name = target.resource_id.split("/")
        service = ecs.services.get(f"{cluster}:{name}")
        if service is None or service.status != "ACTIVE":
            continue
        state = _STATE.setdefault((*key, target.arn), _State(checked_until=now()))
        policies = [p for p in backend.policies.values()
                    if p.resource_id == target.resource_id
                    and p.policy_type == "TargetTrackingScaling"]
        while state.checked_until + MINUTE <= now():
            state.checked_until += MINUTE
            _minute(key, target, service, policies, state)


def _minute(key: tuple[str, str, str], target: Any, service: Any, policies: list[Any],
            state: _State) -> None:
    at = state.checked_until
    votes = [_vote(policy, service, _LOAD.get(key, {}), state) for policy in policies]
    outs = [(n, c) for kind, n, c in votes if kind == "out"]
    current = service.desired_count
    if outs:
        desired = min(target.max_capacity, max(n for n, _ in outs))
        if desired > current and at - state.last_out >= max(c for _, c in outs):
            state.last_out = at
            _set_desired(service, desired, "a target tracking policy's metric is above target")
        return
    if not votes or any(kind != "in" for kind, _, _ in votes):
        return  # scale in only when every policy wants less
    if any(d.get("rolloutState") == "IN_PROGRESS" for d in service.deployments):
        return  # scale-in is suspended while a deployment is under way
    desired = max(target.min_capacity, *(n for _, n, _ in votes))
    if desired < current and at - state.last_in >= max(c for _, _, c in votes):
        state.last_in = at
        _set_desired(service, desired, "every target tracking policy's metric is below target")


def _vote(policy: Any, service: Any, load: dict[str, float],
          state: _State) -> tuple[str, int, float]:
    """One policy's minute: ``out`` or ``in`` (with the count it wants and its cooldown) once
    its alarm has held long enough, else ``hold``."""
    config = policy.target_tracking_scaling_policy_configuration or {}
    kind, wanted = _kind(config), float(config.get("TargetValue") or 0)
    name = policy.policy_name
    if kind is None or wanted <= 0 or kind not in load:
        state.high[name] = state.low[name] = 0
        return "hold", 0, 0.0  # insufficient data: no scaling either way
    running = max(service.running_count, 1)
    metric = load[kind] / running
    needed = math.ceil(running * metric / wanted)
    above = metric > wanted
    below = metric < LOW_FRACTION * wanted and not config.get("DisableScaleIn")
    state.high[name] = state.high.get(name, 0) + 1 if above else 0
    state.low[name] = state.low.get(name, 0) + 1 if below else 0
    if state.high[name] >= HIGH_MINUTES:
        return "out", needed, float(config.get("ScaleOutCooldown", DEFAULT_COOLDOWN))
    if state.low[name] >= LOW_MINUTES:
        return "in", needed, float(config.get("ScaleInCooldown", DEFAULT_COOLDOWN))
    return "hold", 0, 0.0


def _kind(config: dict[str, Any]) -> str | None:
    predefined = (config.get("PredefinedMetricSpecification") or {}).get(
        "PredefinedMetricType")
    if predefined:
        return _KINDS.get(predefined)
    custom = config.get("CustomizedMetricSpecification") or {}
    names = [custom.get("MetricName")] + [
        ((q.get("MetricStat") or {}).get("Metric") or {}).get("MetricName")
        for q in custom.get("Metrics") or []]
    return next((_KINDS[n] for n in names if n in _KINDS), None)
