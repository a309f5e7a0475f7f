"""``dockyard scale APP [N] [--min M] [--max X]``: an app's task count, now."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from dockyard.cli.common import common_options, events_option, wiring
from dockyard.cli.deploy import app_target
from dockyard.cli.values import Whole
from dockyard.errors import DockyardError, ExitCode, UsageError

if TYPE_CHECKING:
    from dockyard.aws.services import ServiceState
    from dockyard.cli.wiring import Wiring
    from dockyard.deploy.scaling import Range


@click.command()
@click.argument("app")
@click.argument("count", required=False, type=Whole(0, 100))
@click.option("--min", "low", type=Whole(1, 100), help="The fewest tasks the scaler keeps.")
@click.option("--max", "high", type=Whole(1, 100), help="The most tasks the scaler starts.")
@click.option("--no-wait", is_flag=True, help="Change it and return without waiting for tasks.")
@events_option
@common_options
def scale(app: str, count: int | None, low: int | None, high: int | None,
          no_wait: bool) -> int:
    """Show APP's task count, or change it now.

    An app with a fixed count (apps.APP.count): COUNT sets it until the next deploy, which
    sets dockyard.yml's again. An app with scale (Application Auto Scaling): --min and --max
    change its range until the next `dockyard up` (tasks outside it are started or stopped at
    once), and COUNT, inside the range, sets the count the scaler goes on from. Waits (up to
    10 minutes) until that many tasks run, unless --no-wait.

        dockyard scale web           # desired, running, and the range
        dockyard scale web 3
        dockyard scale web --min 2 --max 8
    """
    from dockyard.deploy import scaling
    from dockyard.deploy.targets import check_app

    wired = wiring()
    if wired.pipeline_build is not None:
        raise DockyardError("dockyard scale is for people: a pipeline's deploys set the count "
                            "dockyard.yml gives", exit_code=ExitCode.USAGE)
    check_app(wired.cfg, app)
    if count is not None and (low is not None or high is not None):
        raise UsageError("give COUNT or --min/--max, not both")
    target = app_target(wired, app)
    cluster = target.cluster
    state = _service(wired, cluster, app)
    declared = wired.cfg.apps[app].scale
    registered = wired.scaling.registered(cluster, app) if declared else None
    if low is not None or high is not None:
        wanted = scaling.check_range(wired.cfg, app, registered, low, high)
        wired.scaling.register(cluster, app, wanted.min, wanted.max)
        wired.progress.note("scale", f"{app}'s range is now {wanted.min}-{wanted.max} tasks "
                                     "until the next `dockyard up`")
        registered = wanted
        goal = min(max(state.desired, wanted.min), wanted.max)
    elif count is not None:
        scaling.check_count(wired.cfg, app, count, registered)
        wired.services.update({"cluster": cluster, "service": app, "desiredCount": count})
        until = "the scaler changes it" if declared else "the next deploy"
        wired.progress.note("scale", f"{app}: {state.desired} -> {count} tasks until {until}")
        goal = count
    else:
        goal = None
    if goal is not None and not no_wait:
        # A scaled app's count may move while it waits: it waits for the tasks to match it.
        state = _wait(wired, cluster, app, None if declared else goal)
    else:
        state = _service(wired, cluster, app)
    document = _document(wired, app, state, registered)
    wired.result(document, _line(document))
    return ExitCode.OK


def _service(wired: Wiring, cluster: str, app: str) -> ServiceState:
    from dockyard.aws.errors import AwsPreconditionError

    state = wired.services.describe(cluster, app)
    if state is None or state.status != "ACTIVE":
        raise AwsPreconditionError(f"{app} has no service yet",
                                   hint=f"dockyard deploy {app} --image ... creates it")
    return state


def _wait(wired: Wiring, cluster: str, app: str, goal: int | None) -> ServiceState:
    """Until ``goal`` tasks run (or, with None, as many as are desired)."""
    from dockyard.polling import Poll, WaitTimeoutError, poll_until

    said: list[str] = []

    def fetch() -> ServiceState:
        state = _service(wired, cluster, app)
        line = f"{state.running} of {state.desired} tasks running" + (
            f", {state.pending} starting" if state.pending else "")
        if not said or said[-1] != line:
            said.append(line)
            wired.progress.note("scale", line)
        return state

    wanted = f"{goal} tasks" if goal is not None else "its desired count"
    poll = Poll(f"{app} to run {wanted}", interval=10, timeout=600, first=2)
    try:
        return poll_until(fetch, lambda s: s.running == s.desired and not s.pending and (
            goal is None or s.desired == goal), poll, wired.clock)
    except WaitTimeoutError:
        latest = _service(wired, cluster, app)
        events = "; ".join(e.message for e in latest.events[:3])
        raise DockyardError(
            f"{app} did not reach {wanted} within 10 minutes ({latest.running} running, "
            f"{latest.pending} starting)", hint=f"ECS says: {events}" if events else
            f"dockyard status {app}", exit_code=ExitCode.TIMEOUT) from None


def _document(wired: Wiring, app: str, state: ServiceState,
              registered: Range | None) -> dict[str, Any]:
    declared = wired.cfg.apps[app].scale
    document: dict[str, Any] = {
        "app": app, "desired": state.desired, "running": state.running,
        "pending": state.pending}
    if declared is None:
        document["configured"] = {"count": wired.cfg.apps[app].count}
    else:
        document["configured"] = {"min": declared.min, "max": declared.max}
        document["min"] = registered.min if registered else None
        document["max"] = registered.max if registered else None
    return document


def _line(document: dict[str, Any]) -> str:
    text = f"{document['app']}: {document['running']} of {document['desired']} tasks running"
    if document["pending"]:
        text += f", {document['pending']} starting"
    configured = document["configured"]
    if "count" in configured:
        if configured["count"] != document["desired"]:
            text += f" (dockyard.yml says {configured['count']}; the next deploy sets that)"
        return text
    if document["min"] is None:
        return text + (f"; scaling {configured['min']}-{configured['max']} not registered yet "
                       f"(dockyard up --only app-{document['app']})")
    text += f"; scales {document['min']}-{document['max']}"
    if (document["min"], document["max"]) != (configured["min"], configured["max"]):
        text += (f" (dockyard.yml says {configured['min']}-{configured['max']}; the next "
                 "`up` sets that)")
    return text
