"""An app's task count: fixed (``apps.<name>.count``), or kept between ``scale.min`` and
``scale.max`` by Application Auto Scaling's target tracking (``apps.<name>.scale``).

The scalable target and its policies live in the app's stack, registered only once the
service exists: RegisterScalableTarget refuses a service that does not ("ECS service doesn't
exist", Application Auto Scaling API Reference), and deploys create services. So the first
deploy starts ``scale.min`` tasks and the next ``up`` registers the scaler; ``status`` and the
deploy say so until then.

``dockyard scale APP`` changes the count until the next deploy (fixed count: every deploy
sends it) or the range until the next ``up`` (which registers dockyard.yml's range again:
CloudFormation would not, as it changes only what its template changed). Registering clamps
the running count into the range (RegisterScalableTarget: "If it's below the minimum
capacity or above the maximum capacity, Application Auto Scaling adjusts the capacity").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dockyard.aws.errors import AwsPreconditionError, translated
from dockyard.config.models import Config
from dockyard.errors import DockyardError, ExitCode, UsageError

NAMESPACE = "ecs"
DIMENSION = "ecs:service:DesiredCount"


def resource_id(cluster: str, app: str) -> str:
    """The scalable target's ResourceId: ``service/<cluster name>/<service name>`` (the
    cluster's name, never its ARN)."""
    return f"service/{cluster.rsplit('/', 1)[-1]}/{app}"


@dataclass(frozen=True)
class Range:
    """A registered scalable target's range."""

    min: int
    max: int


class Scaling:
    """The Application Auto Scaling calls of an app's count."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def registered(self, cluster: str, app: str) -> Range | None:
        """The app's registered range, or None when no scalable target is registered."""
        with translated(f"read {app}'s scaling"):
            found = self._client.describe_scalable_targets(
                ServiceNamespace=NAMESPACE, ResourceIds=[resource_id(cluster, app)],
                ScalableDimension=DIMENSION).get("ScalableTargets", [])
        return Range(int(found[0]["MinCapacity"]), int(found[0]["MaxCapacity"])) \
            if found else None

    def register(self, cluster: str, app: str, low: int, high: int) -> None:
        """Register the range (the target exists: only min and max change)."""
        with translated(f"set {app}'s scaling range"):
            self._client.register_scalable_target(
                ServiceNamespace=NAMESPACE, ResourceId=resource_id(cluster, app),
                ScalableDimension=DIMENSION, MinCapacity=low, MaxCapacity=high)


def check_range(cfg: Config, app: str, registered: Range | None, low: int | None,
                high: int | None) -> Range:
    """The range ``scale --min/--max`` asks for, against dockyard.yml and what is
    registered."""
    scale = cfg.apps[app].scale
    if scale is None:
        raise UsageError(f"--min/--max: apps.{app} has a fixed count, not scale",
                         hint=f"`dockyard scale {app} N` sets its count; or give apps.{app}."
                              "scale in dockyard.yml and `dockyard up`")
    if registered is None:
        raise not_registered(app)
    wanted = Range(registered.min if low is None else low,
                   registered.max if high is None else high)
    if wanted.min > wanted.max:
        raise UsageError(f"--min {wanted.min} is above --max {wanted.max}")
    return wanted


def not_registered(app: str) -> DockyardError:
    """Scaling is declared but the service's scalable target is not registered yet."""
    return AwsPreconditionError(
        f"{app}'s scaling is not registered yet: Application Auto Scaling registers a "
        "service once it exists",
        hint=f"dockyard up --only app-{app} (after {app}'s first deploy)")


def check_count(cfg: Config, app: str, count: int, registered: Range | None) -> None:
    """``scale APP N``: a fixed-count app takes any N; a scaled one only N inside its
    registered range (the scaler moves it from there)."""
    if cfg.apps[app].scale is None:
        return
    if registered is None:
        raise not_registered(app)
    if not registered.min <= count <= registered.max:
        raise DockyardError(
            f"{count} is outside {app}'s scaling range {registered.min}-{registered.max}: "
            "Application Auto Scaling would move it back",
            hint=f"dockyard scale {app} --min/--max to change the range",
            exit_code=ExitCode.USAGE)
