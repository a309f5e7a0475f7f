"""The kinds of app (``apps.<name>.kind``) and the fields each one reads.

A ``web`` app is an ECS service behind the shared load balancer at ``https://<host>.<domain>``:
it has a port, a host rule, a target group, deployment alarms on the load balancer's metrics
and any deployment strategy. A ``worker`` is a service with none of that: a queue consumer or
any long-running process that takes no traffic, so it has no port, no host, no target group
and no load balancer metrics; ECS rolls it (the circuit breaker stops a deployment whose
tasks fail to start or, with a ``health_command``, fail it) and it scales on CPU and memory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from dockyard.config.crossfield import cross_error
from dockyard.rules import shown

if TYPE_CHECKING:
    from dockyard.config.models import App, Config, JenkinsJob

Kind = Literal["web", "worker"]

# What only an app behind the load balancer reads, and why a worker has none of it.
WEB_ONLY: dict[str, str] = {
    "port": "it listens on no port the load balancer sends to",
    "host": "it has no host name",
    "priority": "it has no listener rule",
    "health_check": "the load balancer checks nothing (health_command checks a worker)",
    "alarms": "its deployment alarms read the load balancer's metrics",
}
# Targets that read the load balancer's metrics.
WEB_ONLY_SCALE = ("requests_per_target", "response_time_ms")


def behind_load_balancer(app: App) -> bool:
    """Whether the app has a port, a host rule and target groups on the shared load balancer."""
    return app.kind == "web"


def check_kinds(cfg: Config) -> None:
    """A web app names its port; a worker sets none of what only the load balancer reads
    and deploys rolling (the other strategies move load balancer traffic)."""
    for name, app in cfg.apps.items():
        if app.kind == "web":
            if app.port is None:
                raise cross_error(("apps", name, "port"), "a web app needs the port its "
                                  "container listens on (kind: worker for an app that serves "
                                  "no traffic)")
            continue
        for field, why in WEB_ONLY.items():
            if field in app.model_fields_set:
                raise cross_error(("apps", name, field), f"a {app.kind} takes no traffic from "
                                  f"the load balancer, so {why}: leave {field} out, or make "
                                  "the app kind: web")
        if app.deploy.progressive:
            raise cross_error(("apps", name, "deploy", "strategy"), f"a {app.kind} deploys "
                              f"rolling: {app.deploy.strategy} moves load balancer traffic, "
                              f"and a {app.kind} takes none")
        for field in WEB_ONLY_SCALE:
            if app.scale is not None and getattr(app.scale, field) is not None:
                raise cross_error(("apps", name, "scale", field), f"a {app.kind} has no load "
                                  "balancer metrics to scale on: use cpu_percent or "
                                  "memory_percent")


def check_image_from(cfg: Config) -> None:
    """``image_from`` names another app that builds its own images."""
    for name, app in cfg.apps.items():
        source = app.image_from
        if source is None:
            continue
        if source == name or source not in cfg.apps:
            others = ", ".join(sorted(set(cfg.apps) - {name})) or "none"
            raise cross_error(("apps", name, "image_from"), f"{shown(source)} is not another "
                              f"app of dockyard.yml (apps: {others})")
        if cfg.apps[source].image_from is not None:
            raise cross_error(("apps", name, "image_from"), f"{source} takes its images from "
                              f"{cfg.apps[source].image_from}: name that app instead")
        # The job that builds the images decides what code runs with this app's roles and
        # secrets: it must be the job that deploys this app, and no other.
        builder, deployer = cfg.deploying_job(source), cfg.deploying_job(name)
        if (builder and builder.name) != (deployer and deployer.name):
            raise cross_error(("apps", name, "job"), f"it runs {source}'s images, which "
                              f"{_who(builder)} builds, so {_who(builder)} must deploy it too "
                              f"(now {_who(deployer)}): set apps.{name}.job the same")


def _who(job: JenkinsJob | None) -> str:
    return f"job {job.name}" if job else "only the operator"
