"""What every part of the ECS player shares: ids, service events, the fake images' marks, and
the durations of what ECS and Elastic Load Balancing do, in virtual seconds (clock.py)."""

from __future__ import annotations

import itertools
import json
from typing import Any

from devtools.ecs.clock import CLOCK

CRASH = "dev.dockyard.fake/crash"  # the image's tasks exit at once: the circuit breaker trips
HANG = "dev.dockyard.fake/hang"  # the image's tasks never pass a health check, never exit
RUN_FAILS = "dev.dockyard.fake/run-fails"  # one-off commands of the image fail (fake_kaniko)
FAILURE_THRESHOLD = 3  # the circuit breaker's minimum

# A Fargate task from RunTask or a scheduler's placement to RUNNING: image pull, network
# interface, container start. AWS publishes no figure; about a minute is what its own guidance
# plans for (docs/aws-assumptions.md, "task start").
TASK_START_SECONDS = 60.0
# ECS moving a listener rule's weights with its infrastructure role (ModifyRule), and ELB
# applying them. Not documented; seconds (docs/aws-assumptions.md, "traffic shift").
RULE_SHIFT_SECONDS = 5.0
# A PAUSE hook's timeout when its configuration names none (ECS API Reference,
# DeploymentLifecycleHookTimeoutConfiguration: "Default: 1440 (24 hours)", action ROLLBACK).
HOOK_TIMEOUT_MINUTES = 1440.0

ids = itertools.count(1)


def now() -> float:
    """Virtual seconds (clock.py)."""
    return CLOCK.now()


def event(service: Any, message: str, at: float | None = None) -> None:
    """A service event, newest first, as DescribeServices lists them."""
    service.events.insert(0, {"id": f"dockyard-fake-{next(ids)}", "createdAt": CLOCK.stamp(at),
                              "message": f"(service {service.name}) {message}"})


def health_seconds(group: Any) -> float:
    """How long a new target takes to be healthy: HealthyThresholdCount consecutive checks,
    HealthCheckIntervalSeconds apart (User Guide for Application Load Balancers, "Health checks
    for your target groups")."""
    if group is None:
        return 0.0
    return float(group.health_check_interval_seconds) * int(group.healthy_threshold_count)


def drain_seconds(group: Any) -> float:
    """How long a deregistered target keeps its connections: the target group's
    deregistration_delay.timeout_seconds, 300 unless set (User Guide for Application Load
    Balancers, "Deregistration delay"). ECS stops the task after it."""
    if group is None:
        return 0.0
    return float((getattr(group, "attributes", None) or {}).get(
        "deregistration_delay.timeout_seconds", 300))


def image_marks(backend: Any, task_definition_arn: str) -> set[str]:
    """The fake marks of the image a task definition runs (through moto's ECR)."""
    annotations = _annotations(backend, task_definition_arn)
    return {mark for mark in (CRASH, HANG, RUN_FAILS) if mark in annotations}


def image_lacks(backend: Any, task_definition_arn: str) -> set[str]:
    """The commands the image a task definition runs lacks (devtools/images.py)."""
    from devtools.images import LACKS

    return set(str(_annotations(backend, task_definition_arn).get(LACKS, "")).split())


def _annotations(backend: Any, task_definition_arn: str) -> dict[str, Any]:
    """The annotations of the image a task definition runs (through moto's ECR)."""
    from moto.ecr.models import ecr_backends

    definition = backend.describe_task_definition(task_definition_arn)
    image = definition.container_definitions[0].get("image", "")
    name, _, digest = image.partition("@")
    if not digest or ".dkr.ecr." not in name:
        return {}
    repository = name.split("/", 1)[1]
    ecr = ecr_backends[backend.account_id][backend.region_name]
    repo = ecr.repositories.get(repository)
    for stored in (repo.images if repo else []):
        if stored.image_digest == digest:
            return dict(json.loads(stored.image_manifest).get("annotations", {}))
    return {}
