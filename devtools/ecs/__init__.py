"""Plays ECS's deployment logic in moto, which records services but never rolls them, in ECS's
own time.

moto keeps one deployment per service and never advances it, so nothing would ever complete,
fail or roll back. :func:`patch_ecs` adds what ECS does, in moto's own process, split by
concern:

- clock.py: the virtual clock every duration is measured on (a documented speed-up factor);
- rolling.py: deployments started by CreateService and UpdateService, rolled by replacing
  tasks, failed by the circuit breaker or an alarm and rolled back; desired-count changes;
- progressive.py: blue-green, canary and linear deployments, stage by stage, PAUSE hooks and
  their timeouts, the production and alternate target groups as ECS leaves them;
- balancing.py: target registration, the health target groups report, rule weights;
- scaling.py: Application Auto Scaling's target tracking, on the service's load;
- tasks.py: the service's tasks as ListTasks and DescribeTasks show them, and ECS Exec;
- api.py: the ECS calls moto lacks (service deployments, revisions, hooks).

Time moves with the clock, not with calls: before any ECS or Elastic Load Balancing request
is answered, every deployment in that account and region is played up to now, so a read of a
listener rule sees the weights ECS would have set by then, however rarely anyone asks.

An image is "crashing" when its ECR manifest carries the annotation ``CRASH`` (fake_kaniko
adds it for a build with ``--build-arg FAKE_APP_CRASH=1``), and "hanging" (never healthy,
never failed) with ``HANG``. Every AWS behaviour played here, with its source, is listed in
docs/aws-assumptions.md.
"""

from __future__ import annotations

import threading
from typing import Any

from devtools.ecs import api, balancing, progressive, rolling, scaling, tasks
from devtools.ecs.clock import CLOCK, FACTOR_ENV, VirtualClock
from devtools.ecs.common import CRASH, FAILURE_THRESHOLD, HANG, RUN_FAILS, image_marks

__all__ = ["CLOCK", "CRASH", "FACTOR_ENV", "FAILURE_THRESHOLD", "HANG", "RUN_FAILS",
           "VirtualClock", "advance_region", "image_marks", "patch_ecs"]

_LOCK = threading.RLock()  # moto's server answers requests on many threads


def advance_region(account_id: str, region: str) -> None:
    """Play every deployment of the account's region up to the clock's now."""
    from moto.ecs.models import ecs_backends

    backend = ecs_backends[account_id][region]
    with _LOCK:
        for service in list(backend.services.values()):
            rolling.advance(backend, service)
        scaling.evaluate(account_id, region, backend)


def patch_ecs() -> None:
    """Teach moto's ECS to roll deployments (idempotent). Refuses a moto whose internals the
    patches rely on are missing (devtools/moto_internals.py)."""
    from moto.ecs import models, responses
    from moto.elbv2 import responses as elbv2_responses

    from devtools.moto_internals import require

    backend = models.EC2ContainerServiceBackend
    if getattr(backend.update_service, "_dockyard_patched", False):
        return
    require()
    create, update = backend.create_service, backend.update_service
    api.ORIGINAL["create_service_response"] = responses.EC2ContainerServiceResponse.create_service

    def create_service(self: Any, *args: Any, **kwargs: Any) -> Any:
        service = create(self, *args, **kwargs)
        service.deployments = []
        rolling.start(self, service, str(service.task_definition), rollback_of=None)
        return service

    def update_service(self: Any, properties: dict[str, Any]) -> Any:
        new = properties.get("task_definition")
        force = properties.get("force_new_deployment")
        current = self._get_service(properties.get("cluster", "default"),
                                    properties["service"].split("/")[-1])
        before = (current.running_count, current.pending_count)
        rolling.check_switch(current, properties.get("deployment_configuration"))
        kept = (getattr(current, "deployment_configuration", None),
                getattr(current, "load_balancers", None))
        service = update(self, dict(properties))
        if properties.get("enable_execute_command") is not None:  # moto drops it
            service.enable_execute_command = bool(properties["enable_execute_command"])
        if properties.get("deployment_configuration") is not None:
            service.deployment_configuration = properties["deployment_configuration"]
        try:
            progressive.check_strategy(self, service)
        except Exception:
            service.deployment_configuration, service.load_balancers = kept
            raise
        if new or force:
            arn = self.describe_task_definition(service.task_definition).arn
            rolling.start(self, service, arn, rollback_of=None)
        elif properties.get("desired_count") is not None:
            # moto jumps the counts to the new desired count; the scheduler takes its time
            service.running_count, service.pending_count = before
            rolling.scale(service, int(properties["desired_count"]))
        return service

    for function in (create_service, update_service):
        setattr(function, "_dockyard_patched", True)  # noqa: B010
    backend.create_service = create_service
    backend.update_service = update_service
    tasks.patch_delete(backend)
    balancing.patch_load_balancing()
    answers = responses.EC2ContainerServiceResponse
    answers.create_service = api.create_service
    answers.list_service_deployments = api.list_service_deployments
    answers.describe_service_revisions = api.describe_service_revisions
    answers.describe_service_deployments = api.describe_service_deployments
    answers.continue_service_deployment = api.continue_service_deployment
    answers.stop_service_deployment = api.stop_service_deployment
    answers.execute_command = tasks.execute_command
    _answer_in_time(answers, elbv2_responses.ELBV2Response)


def _answer_in_time(*handlers: Any) -> None:
    """ECS, Elastic Load Balancing and Application Auto Scaling (which scales here) answer as
    of now."""
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse

    scaling.patch()
    for handler in (*handlers, ApplicationAutoScalingResponse):
        _play_before_answering(handler)


def _play_before_answering(handler: Any) -> None:
    """Before the service's responder answers any call, play the deployments of the caller's
    account and region up to now (and hold other threads off while it answers)."""
    call_action = handler.call_action

    def played(self: Any) -> Any:
        with _LOCK:
            advance_region(self.current_account, self.region)
            return call_action(self)

    handler.call_action = played
