"""How long a deploy takes, by strategy: the one set of numbers behind the plan's estimate, the
wait of ``deploy`` (without --timeout) and the STS session that has to outlast that wait.

ECS holds each stage of a blue-green, canary or linear deployment for as long as its
deployment configuration says (ECS Developer Guide, "Amazon ECS blue/green deployments",
"canary deployments", "linear deployments"): the canary's bake, each linear step's bake, the
final bake; a PAUSE hook holds its stage until it is answered. A wait shorter than that gives
up on a deployment that is doing exactly what it was told to (exit 124), so the wait is
derived from the same settings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dockyard.config.models import App, Strategy

# The new revision's tasks start on Fargate, pass the target group's health checks, and the
# old ones drain: a few minutes in practice, before and after the traffic moves.
START_MINUTES = 5
# What the wait adds to a deployment's own length: ECS's start and clean-up vary.
WAIT_MARGIN_MINUTES = 10
# The fewest failed tasks that trip the circuit breaker (ECS API Reference,
# DeploymentCircuitBreaker: half the desired count, at least 3), and a Fargate task's start.
BREAKER_TASKS, TASK_START_MINUTES = 3, 1


def start_minutes(app: App) -> float:
    """How long a rolling start can take before ECS gives its verdict. Behind the load
    balancer, its health checks decide within START_MINUTES; an app without one (a worker) is
    judged by its health_command, and a revision that never passes it fails only once the
    circuit breaker has seen enough tasks go unhealthy, each after its start period and the
    failed checks (one after another, at the worst)."""
    from dockyard.config.kinds import behind_load_balancer
    from dockyard.deploy.definition import HEALTH_CHECK

    if behind_load_balancer(app) or not app.health_command:
        return START_MINUTES
    unhealthy = (HEALTH_CHECK["startPeriod"] + HEALTH_CHECK["retries"] *
                 HEALTH_CHECK["interval"]) / 60
    return max(START_MINUTES, math.ceil(BREAKER_TASKS * (TASK_START_MINUTES + unhealthy)))


@dataclass(frozen=True)
class DeployTime:
    """A deploy's length in minutes, part by part (a part is 0 when the strategy has none)."""

    strategy: Strategy
    start: float
    smoke: float
    shifting: float  # the canary's bake, or the bakes between linear steps
    bake: float

    @property
    def minutes(self) -> float:
        """The whole deploy."""
        return self.start + self.smoke + self.shifting + self.bake

    def parts(self) -> str:
        """``start 5, smoke test up to 10, canary bake 10, bake 5``."""
        names = (("start", self.start), ("smoke test up to", self.smoke),
                 ("canary bake" if self.strategy == "canary" else "step bakes", self.shifting),
                 ("bake", self.bake))
        return ", ".join(f"{name} {value:g}" for name, value in names if value)


def deploy_time(app: App, strategy: Strategy | None = None, *,
                smoke: str = "whole") -> DeployTime:
    """How long a deploy of ``app`` with ``strategy`` (dockyard.yml's when None) lasts: with
    the smoke test's ``whole`` timeout (the longest it can take), or a ``typical`` half."""
    deploy = app.deploy
    strategy = strategy or deploy.strategy
    if strategy == "rolling":
        return DeployTime(strategy, start_minutes(app), 0, 0, 0)
    shifting = 0.0
    if strategy == "canary":
        shifting = deploy.canary_bake_minutes
    elif strategy == "linear":
        shifting = (linear_steps(deploy.step_percent) - 1) * deploy.step_bake_minutes
    test = 0.0
    if deploy.smoke_test:
        test = deploy.smoke_timeout_minutes / (2 if smoke == "typical" else 1)
    return DeployTime(strategy, START_MINUTES, test, shifting, deploy.bake_minutes)


def linear_steps(step_percent: float) -> int:
    """How many traffic moves a linear deployment makes: the last one may be smaller."""
    return math.ceil(100 / step_percent - 1e-9)


def wait_seconds(app: App, strategy: Strategy | None = None) -> float:
    """How long ``deploy`` waits without --timeout: the longest the deploy can take, and a
    margin."""
    return (deploy_time(app, strategy).minutes + WAIT_MARGIN_MINUTES) * 60


def longest_wait_seconds(app: App) -> float:
    """The longest wait any deploy of ``app`` may need: its stack serves every progressive
    strategy when it serves one (``deploy --strategy`` picks one for a single deploy)."""
    if not app.deploy.progressive:
        return wait_seconds(app, "rolling")
    return max(wait_seconds(app, s) for s in ("blue-green", "canary", "linear"))
