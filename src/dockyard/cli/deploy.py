"""``dockyard deploy`` and ``dockyard rollback``: roll an app's service and report the true
outcome; and the app halves of ``status APP`` and ``logs APP``."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from dockyard.cli.common import common_options, events_option, follow_until_ctrl_c, wiring
from dockyard.cli.values import NAME
from dockyard.errors import Cancelled, DockyardError, ExitCode

if TYPE_CHECKING:
    from dockyard.cli.wiring import Wiring
    from dockyard.config.models import Strategy
    from dockyard.deploy.app import AppDeployer, DeployResult
    from dockyard.deploy.definition import AppTarget
    from dockyard.deploy.stages import SmokeTest

_WAIT_HELP = "Wait for the deployment's outcome (--no-wait returns once it started)."
_TIMEOUT_HELP = ("Stop waiting after this long, like 45m (the deployment goes on; exit 124). "
                 "Default: as long as the app's strategy can take (its start, smoke test, "
                 "bakes, from dockyard.yml) and 10 min more.")


@click.command()
@click.argument("app")
@click.option("--image", "image", required=True, type=NAME, metavar="REF",
              help="What `dockyard build` printed (repo@sha256:...), or a tag of the app's "
                   "ECR repository (v1.2.0, web:v1.2.0), resolved to its digest first.")
@click.option("--strategy", type=click.Choice(["rolling", "blue-green", "canary", "linear"]),
              default=None, help="This deploy only: how traffic moves to the new revision "
                                 "(default: apps.APP.deploy.strategy in dockyard.yml). "
                                 "blue-green, canary and linear need the app stack to have "
                                 "been deployed with one of them.")
@click.option("--wait/--no-wait", default=True, show_default=True, help=_WAIT_HELP)
@click.option("--timeout", default=None, metavar="DURATION", help=_TIMEOUT_HELP)
@click.option("--supersede", is_flag=True,
              help="Start this deployment even while another of APP is under way (ECS stops "
                   "that one; the command following it reports it superseded). Without it, "
                   "deploy refuses (exit 3) and names the one under way.")
@events_option
@common_options
def deploy(app: str, image: str, strategy: Strategy | None, wait: bool,
           timeout: str | None, supersede: bool) -> int:
    """Roll APP's service to an image, pinned by digest, and wait for the outcome.

    Registers a task definition revision from dockyard.yml (port, size, env, secrets by
    reference, logs), creates the service on the first deploy or updates it, then follows
    the deployment this update started until ECS says COMPLETED or FAILED: a deployment the
    circuit breaker rolled back exits 4 even though the service is stable again. Exit 124
    when the deployment is still running at --timeout.

    With blue-green, canary or linear, each stage is reported as ECS reaches it (scale-up,
    test traffic, production traffic with its percentage, bake, clean-up); a smoke test set
    in dockyard.yml runs as a one-off task against the test endpoint before production
    traffic moves, and a failing one rolls the deployment back (exit 4). Without --timeout,
    deploy waits as long as the strategy's stages can take, and says how long.
    """
    from dockyard.deploy.definition import check_secrets
    from dockyard.deploy.image import check_findings, critical_findings, pin_image

    wired = wiring()
    seconds = _wait(wired, app, timeout, strategy, wait=wait)
    _refuse_unanswered_smoke(wired, app, strategy, wait=wait)
    wired.act_for_app(app, "deploy", seconds)
    target = app_target(wired, app)
    check_secrets(wired.cfg, target, wired.account.secret_exists)
    pinned = pin_image(image, project=wired.cfg.name, app=app, registry=target.registry,
                       lookup=wired.registry, repository=wired.cfg.repository_of(app))
    check_findings(pinned, project=wired.cfg.name, app=app,
                   mode=critical_findings(wired.cfg, app), lookup=wired.registry,
                   warn=lambda line: wired.progress.note("deploy", line),
                   repository=wired.cfg.repository_of(app))
    deployer = _deployer(wired)
    wired.progress.note("deploy", f"deploying {pinned.rsplit('/', 1)[-1]} to {app}")
    return _waited(wired, app, lambda: deployer.deploy(
        target, pinned, target.secret_arns, wait=wait, timeout=seconds, strategy=strategy,
        supersede=supersede))


@click.command()
@click.argument("app")
@click.option("--now", is_flag=True,
              help="Restore the last good revision at once: a rolling deployment even when "
                   "the app deploys blue-green, canary or linear (no test traffic, steps or "
                   "bake); a blue-green, canary or linear deployment under way is stopped "
                   "instead, and ECS moves its traffic back. The next deploy uses the app's "
                   "own strategy again.")
@click.option("--wait/--no-wait", default=True, show_default=True, help=_WAIT_HELP)
@click.option("--timeout", default=None, metavar="DURATION", help=_TIMEOUT_HELP)
@events_option
@common_options
def rollback(app: str, now: bool, wait: bool, timeout: str | None) -> int:
    """Roll APP back to the task definition of its last completed deployment.

    "Completed" is ECS's own record of deployments that succeeded, so a revision that was
    registered but never ran, or whose deployment was rolled back, is skipped. A second
    rollback does nothing and says so (exit 0, outcome "unchanged"): ECS's history shows the
    service already back on an earlier revision, or rolling back to it, whoever started it
    and from whichever machine. Same wait and exit codes as deploy; with --now the wait is a
    rolling deploy's.
    """
    wired = wiring()
    seconds = _wait(wired, app, timeout, "rolling" if now else None, wait=wait)
    if not now:
        _refuse_unanswered_smoke(wired, app, None, wait=wait)
    wired.act_for_app(app, "rollback", seconds)
    target = app_target(wired, app)
    return _waited(wired, app, lambda: _deployer(wired).rollback(
        target, wait=wait, timeout=seconds, now=now))


def _wait(wired: Wiring, app: str, timeout: str | None, strategy: Strategy | None, *,
          wait: bool) -> float:
    """How long to wait for the deployment: --timeout, or what the strategy needs (said)."""
    from dockyard.deploy.targets import check_app
    from dockyard.deploy.timing import WAIT_MARGIN_MINUTES, deploy_time, wait_seconds
    from dockyard.rules import parse_duration

    check_app(wired.cfg, app)
    if timeout is not None:
        return parse_duration(timeout)
    settings = wired.cfg.apps[app]
    seconds = wait_seconds(settings, strategy)
    if wait:
        length = deploy_time(settings, strategy)
        wired.progress.note("deploy", f"waiting up to {seconds / 60:g} min: a {length.strategy} "
                                      f"deploy of {app} takes up to {length.minutes:g} "
                                      f"({length.parts()}), and {WAIT_MARGIN_MINUTES} to spare")
    return seconds


def _refuse_unanswered_smoke(wired: Wiring, app: str, strategy: Strategy | None, *,
                             wait: bool) -> None:
    """--no-wait with a smoke test would leave the deployment paused at its hook with nobody to
    answer, and ECS takes the hook's timeout action, ROLLBACK, after the timeout (ECS
    Developer Guide, "Lifecycle hooks for Amazon ECS service deployments"): a deploy that
    exited 0 would be undone. Refused before anything changes."""
    settings = wired.cfg.apps[app].deploy  # the app was checked by _wait
    if wait or not settings.smoke_test or (strategy or settings.strategy) == "rolling":
        return
    from dockyard.deploy.definition import hook_timeout_minutes
    from dockyard.errors import UsageError

    raise UsageError(
        f"--no-wait: apps.{app}.deploy.smoke_test is set, and the deployment pauses for it "
        "until dockyard answers; with nobody waiting, ECS would roll it back after "
        f"{hook_timeout_minutes(settings)} min",
        hint="drop --no-wait: deploy then runs the smoke test and answers the hook (--timeout "
             f"bounds the wait; `dockyard status {app} --wait` picks up one left running)")


def follow_deployment(wired: Wiring, app: str, timeout: str | None) -> int:
    """``dockyard status APP --wait``: the deployment under way, followed to its verdict."""
    seconds = _wait(wired, app, timeout, None, wait=True)
    wired.act_for_app(app, "deploy", seconds)
    target = app_target(wired, app)
    return _waited(wired, app, lambda: _deployer(wired).follow(target, timeout=seconds))


def app_status(wired: Wiring, app: str) -> int:
    """``dockyard status APP``."""
    from dataclasses import replace

    from dockyard.deploy.status import app_status as read_status
    from dockyard.ui.deploy import status_document, status_text

    console = wired.console
    wired.act_for_app(app, "status", 0)
    target = app_target(wired, app)
    result = read_status(wired.services, target)
    scale = wired.cfg.apps[app].scale
    if scale is not None and result.service is not None:
        registered = wired.scaling.registered(target.cluster, app)
        result = replace(result, scale_declared=(scale.min, scale.max),
                         scale_registered=(registered.min, registered.max) if registered
                         else None)
    if wired.output == "json":
        console.json(status_document(result))
    else:
        console.data(status_text(result))
    return ExitCode.OK


def app_logs(wired: Wiring, app: str, since: str, follow: bool) -> int:
    """``dockyard logs APP [--since 10m] [--follow]``."""
    from dockyard.aws.follow import Follower, GroupCursor
    from dockyard.cli.common import refuse_json
    from dockyard.deploy.targets import check_app
    from dockyard.rules import parse_duration
    from dockyard.templates.app import app_log_group
    from dockyard.ui.deploy import log_line

    refuse_json(wired, "logs APP")
    console = wired.console
    seconds = parse_duration(since, "--since", most=3653 * 86400)
    check_app(wired.cfg, app)
    wired.act_for_app(app, "logs", 3600 if follow else 0)
    group = app_log_group(wired.cfg, app)
    cursor = GroupCursor(wired.logs, group, int((time.time() - seconds) * 1000))
    follower = Follower(cursor, lambda event: console.data(log_line(event)), wired.clock)
    events = cursor.read()  # not through the follower: a failed first read is an error here
    for event in events:
        console.data(log_line(event))
    if not events:
        console.note(f"no lines in {group} in the last {since}")
    if not follow:
        return ExitCode.OK
    return follow_until_ctrl_c(follower, console)


def app_target(wired: Wiring, app: str) -> AppTarget:
    """Where APP runs, from dockyard.yml and its deployed stacks (deploy, status, run)."""
    from dockyard.deploy.targets import find_target

    return find_target(wired.stacks, wired.cfg, app)


def _deployer(wired: Wiring) -> AppDeployer:
    from dockyard.deploy.app import AppDeployer
    from dockyard.deploy.rollout import RolloutWatch
    from dockyard.deploy.stages import StageWatch

    watch = RolloutWatch(wired.services, wired.clock, wired.progress)
    stages = StageWatch(wired.services, wired.clock, wired.progress)
    return AppDeployer(wired.cfg, wired.services, watch, wired.progress, stages=stages,
                       smoke=lambda target, image: _smoke_test(wired, target, image))


def _smoke_test(wired: Wiring, target: AppTarget, image: str) -> SmokeTest:
    """The app's smoke test: its command as a one-off task of the new image (dockyard run's
    way), told where the test endpoint is."""
    from dataclasses import replace

    from dockyard.builds.task import Runner, StopSignal
    from dockyard.deploy.oneoff import (
        RUN_STREAM_PREFIX,
        OneOff,
        run_one_off,
        smoke_definition,
        smoke_environment,
    )
    from dockyard.deploy.oneoff import task_spec as one_off_spec

    settings = wired.cfg.apps[target.app].deploy
    command = settings.smoke_test or ""

    def run() -> tuple[bool, str]:
        arn = wired.services.register(smoke_definition(wired.cfg, target, image))
        app = wired.cfg.apps[target.app]
        spec = replace(one_off_spec(wired.cfg, target, arn, ["sh", "-c", command],
                                    cpu=app.cpu, memory=app.memory),
                       environment=tuple(smoke_environment(target).items()))
        runner = Runner(tasks=wired.tasks, logs=wired.logs, clock=wired.clock,
                        log_group=target.log_group, container=target.app, stop=StopSignal(),
                        progress=wired.progress, what="smoke test",
                        stream_prefix=RUN_STREAM_PREFIX,
                        redact=(target.test_header_value,) if target.test_header_value else ())
        done = OneOff(target.app, arn, image, spec.command or [],
                      run_one_off(runner, spec, settings.smoke_timeout_minutes * 60.0))
        code = done.exit_code
        if code == ExitCode.CANCELLED:
            from dockyard import interrupts

            raise Cancelled(f"stopped during the smoke test ({interrupts.cause()}); its task "
                            "was stopped", hint=f"dockyard status {target.app}")
        if code == ExitCode.TIMEOUT:
            return False, f"`{command}` ran past {settings.smoke_timeout_minutes} min"
        if code == ExitCode.TASK_FAILED_TO_START and done.outcome is not None:
            return False, f"its task never ran: {done.outcome.reason or 'no reason given'}"
        return code == 0, f"`{command}` exited {done.command_exit_code}"

    return run


def _waited(wired: Wiring, app: str, act: Callable[[], DeployResult]) -> int:
    from dockyard.ui.deploy import failure_message, result_document, result_text

    try:
        result = act()
    except KeyboardInterrupt:
        settings = wired.cfg.apps[app].deploy
        paused = ""
        if settings.progressive and settings.smoke_test:
            from dockyard.deploy.definition import hook_timeout_minutes

            paused = (f"; if it has not reached its smoke test yet, it will pause there: "
                      f"`dockyard status {app} --wait` runs the test and answers, else ECS "
                      f"rolls it back {hook_timeout_minutes(settings)} min after the pause")
        raise Cancelled(f"stopped waiting; the deployment goes on (dockyard status {app})"
                        f"{paused}") from None
    if result.outcome is not None and result.outcome.verdict == "completed":
        wired.progress.note("deploy", f"{result.action} of {app} completed: "
                                      f"{result.outcome.reason}")
    wired.result(result_document(result), result_text(result))
    if result.exit_code != ExitCode.OK:
        message, hint = failure_message(result)
        raise DockyardError(message, hint=hint, exit_code=result.exit_code)
    return ExitCode.OK

