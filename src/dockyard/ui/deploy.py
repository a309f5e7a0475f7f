"""How deploys, rollbacks, an app's status and its log lines read, as text and as JSON."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dockyard.names import short_arn
from dockyard.ui.text import columns

if TYPE_CHECKING:
    from dockyard.aws.services import ServiceDeployment
    from dockyard.aws.storage import LogEvent
    from dockyard.deploy.app import DeployResult
    from dockyard.deploy.status import AppStatus



def result_document(result: DeployResult) -> dict[str, Any]:
    """One JSON document a pipeline can act on."""
    outcome = result.outcome
    return {
        "ok": result.exit_code == 0,
        "exit_code": int(result.exit_code),
        "action": result.action,
        "app": result.app,
        "url": result.url,
        "image": result.image or None,
        "task_definition": result.task_definition,
        "revision": short_arn(result.task_definition),
        "deployment_id": result.deployment_id,
        "service_created": result.created,
        "waited": outcome is not None,
        "outcome": outcome.verdict if outcome else "started",
        "reason": outcome.reason if outcome else "",
        "restored_task_definition": (outcome.restored or None) if outcome else None,
        "counts": ({"desired": outcome.last.desired, "running": outcome.last.running,
                    "pending": outcome.last.pending, "failed": outcome.last.failed}
                   if outcome and outcome.last else None),
    }


def result_text(result: DeployResult) -> str:
    """The result as aligned lines (stdout)."""
    outcome = result.outcome
    rows = [["app", result.app], ["revision", short_arn(result.task_definition)],
            ["deployment", result.deployment_id],
            ["outcome", outcome.verdict if outcome else "started (not waited for)"]]
    if result.image:
        rows.insert(1, ["image", result.image])
    if outcome and outcome.restored:
        rows.append(["running now", short_arn(outcome.restored)])
    if result.url:
        rows.append(["url", result.url])
    return "\n".join(columns(rows, indent=0))


def failure_message(result: DeployResult) -> tuple[str, str]:
    """The error line and hint for a deploy or rollback that did not complete."""
    outcome = result.outcome
    assert outcome is not None
    action = "deployment" if result.action == "follow" else result.action
    what = f"{action} of {result.app} ({short_arn(result.task_definition)})"
    if outcome.verdict == "superseded":
        return (f"{what} did not finish: {outcome.reason}",
                f"`dockyard status {result.app} --wait` follows the deployment that replaced it")
    if outcome.verdict == "timed_out":
        return (f"{what} did not finish: {outcome.reason}",
                f"ECS goes on with deployment {result.deployment_id}; `dockyard status "
                f"{result.app}` shows where it stands, `dockyard status {result.app} --wait` "
                "follows it to its end")
    if outcome.restored:
        back = f"ECS rolls the service back to {short_arn(outcome.restored)}"
    elif result.created:
        back = "there was no earlier deployment to roll back to"
    else:
        back = "ECS is rolling the service back to its last completed deployment"
    reason = outcome.reason or "the deployment failed"
    return f"{what} failed: {reason}", f"{back}; dockyard logs {result.app} --since 15m shows why"


def status_document(status: AppStatus) -> dict[str, Any]:
    """An app's service as one JSON document."""
    service = status.service
    return {
        "app": status.target.app,
        "url": status.target.url,
        "deployed": service is not None,
        "service": None if service is None else {
            "name": service.name, "arn": service.arn, "status": service.status,
            "desired": service.desired, "running": service.running, "pending": service.pending,
            "task_definition": service.task_definition, "image": status.image,
            "deployments": [{
                "id": d.deployment_id, "status": d.status, "rollout_state": d.rollout_state,
                "rollout_reason": d.rollout_reason, "task_definition": d.task_definition,
                "desired": d.desired, "running": d.running, "pending": d.pending,
                "failed": d.failed, "created_at": d.created_at,
            } for d in service.deployments],
            "tasks": [{"id": t.task_id, "deployment_id": deployment, "status": t.last_status,
                       "started_at": t.started_at, "capacity": t.capacity_provider}
                      for deployment, t in status.tasks],
            "events": [{"at": e.created_at, "message": e.message} for e in service.events[:5]],
            "foreign_target_groups": status.foreign_target_groups,
            "scaling": None if status.scale_declared is None else {
                "configured": dict(zip(("min", "max"), status.scale_declared, strict=True)),
                "registered": None if status.scale_registered is None else dict(
                    zip(("min", "max"), status.scale_registered, strict=True))},
            "ongoing": None if status.ongoing is None else {
                "arn": status.ongoing.arn, "status": status.ongoing.status,
                "stage": status.ongoing.stage,
                "production_weight": status.ongoing.production_weight,
                "test_weight": status.ongoing.test_weight,
                "paused": bool(status.ongoing.paused)},
        },
    }


def status_text(status: AppStatus) -> str:
    """An app's service as aligned lines."""
    service = status.service
    head = f"{status.target.app}   {status.target.url or '(no URL: it takes no traffic)'}"
    if service is None:
        return (f"{head}\n\nnot deployed yet: no service {status.target.app} in "
                f"{short_arn(status.target.cluster)}\n")
    lines = [head, "", f"Service {service.name}: {service.status}, {service.running}/"
             f"{service.desired} running, {service.pending} pending"]
    if status.scale_declared is not None:
        lines.append(f"Scaling {_scaling_text(status)}")
    if status.image:
        lines.append(f"Image   {status.image}")
    for group in status.foreign_target_groups:
        name = group.rsplit(":", 1)[-1].removeprefix("targetgroup/")
        lines.append(f"WARNING the service sends its tasks to {name}, which is not "
                     f"{status.target.app}'s target group: it takes that host's traffic. The "
                     f"next `dockyard deploy {status.target.app}` puts its own group back.")
    if status.ongoing is not None:
        lines.append(f"Stage   {ongoing_text(status.ongoing)}")
    lines += ["", "Deployments"]
    lines += columns([[d.deployment_id, d.status, d.rollout_state or "-",
                       short_arn(d.task_definition),
                       f"{d.running}/{d.desired} running, {d.pending} pending, {d.failed} failed",
                       _when(d.created_at)] for d in service.deployments])
    if status.tasks:
        lines += ["", "Tasks"]
        lines += columns([[t.task_id, t.last_status, deployment, t.capacity_provider or "-",
                           _when(t.started_at)] for deployment, t in status.tasks])
    if service.events:
        lines += ["", "Recent events"]
        lines += [f"  {_when(e.created_at)}  {e.message}" for e in service.events[:5]]
    return "\n".join(lines) + "\n"


def _scaling_text(status: AppStatus) -> str:
    assert status.scale_declared is not None
    low, high = status.scale_declared
    app = status.target.app
    if status.scale_registered is None:
        return (f"{low}-{high} tasks once registered: `dockyard up --only app-{app}` (the "
                "service exists now)")
    text = "{}-{} tasks (Application Auto Scaling)".format(*status.scale_registered)
    if status.scale_registered != status.scale_declared:
        text += f"; dockyard.yml says {low}-{high}, which the next `up` sets"
    return text


def ongoing_text(ongoing: ServiceDeployment) -> str:
    """Where a deployment under way stands: its stage, what that means, its traffic."""
    from dockyard.deploy.stages import STAGES

    text = f"{ongoing.stage or ongoing.status}"
    if ongoing.stage in STAGES:
        text += f" ({STAGES[ongoing.stage]})"
    if ongoing.production_weight is not None:
        text += f", {ongoing.production_weight:g}% of production traffic on the new revision"
    if ongoing.paused:
        text += ", paused for its smoke test"
    return text


def log_line(event: LogEvent) -> str:
    """One log line, prefixed with the task that wrote it."""
    return f"[{event.task_id[:8]}] {event.message}"


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
