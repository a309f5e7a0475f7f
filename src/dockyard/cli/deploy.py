"""``dockyard deploy`` and ``dockyard rollback``: roll an app's service and report the true
outcome; and the app halves of ``status APP`` and ``logs APP``."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

import click

from dockyard.cli.common import RunState, common_options, state
from dockyard.errors import Cancelled, DockyardError, ExitCode
from dockyard.ui.console import Console

if TYPE_CHECKING:
    from dockyard.deploy.app import AppDeployer, DeployResult
    from dockyard.deploy.definition import AppTarget

_WAIT_HELP = "Wait for the deployment's outcome (--no-wait returns once it started)."
_TIMEOUT_HELP = "Stop waiting after this long, like 15m (the deployment goes on)."


def _console() -> Console:
    return Console(out=sys.stdout, err=sys.stderr)


@click.command()
@click.argument("app")
@click.option("--image", "image", required=True, metavar="REF",
              help="What `dockyard build` printed (repo@sha256:...), or a tag of the app's "
                   "ECR repository (v1.2.0, web:v1.2.0), resolved to its digest first.")
@click.option("--wait/--no-wait", default=True, show_default=True, help=_WAIT_HELP)
@click.option("--timeout", default="15m", show_default=True, metavar="DURATION",
              help=_TIMEOUT_HELP)
@common_options
def deploy(app: str, image: str, wait: bool, timeout: str) -> int:
    """Roll APP's service to an image, pinned by digest, and wait for the outcome.

    Registers a task definition revision from dockyard.yml (port, size, env, secrets by
    reference, logs), creates the service on the first deploy or updates it, then follows
    the deployment this update started until ECS says COMPLETED or FAILED: a deployment the
    circuit breaker rolled back exits 4 even though the service is stable again. Exit 124
    when the deployment is still running at --timeout.
    """
    from dockyard.aws.storage import Registry
    from dockyard.deploy.image import pin_image
    from dockyard.rules import parse_duration

    run, console = state(), _console()
    seconds = parse_duration(timeout)
    cfg = run.load_config().config
    aws, target = _target(run, cfg, app)
    pinned = pin_image(image, project=cfg.name, app=app, registry=target.registry,
                       lookup=Registry(aws.client("ecr")))
    deployer = _deployer(aws, cfg, console)
    console.progress(f"deploying {pinned.rsplit('/', 1)[-1]} to {app}")
    return _waited(console, run.output, app, lambda: deployer.deploy(
        target, pinned, target.secret_arns, wait=wait, timeout=seconds))


@click.command()
@click.argument("app")
@click.option("--wait/--no-wait", default=True, show_default=True, help=_WAIT_HELP)
@click.option("--timeout", default="15m", show_default=True, metavar="DURATION",
              help=_TIMEOUT_HELP)
@common_options
def rollback(app: str, wait: bool, timeout: str) -> int:
    """Roll APP back to the task definition of its last completed deployment.

    "Completed" is ECS's own record of deployments that succeeded, so a revision that was
    registered but never ran, or whose deployment was rolled back, is skipped. Same wait and
    exit codes as deploy.
    """
    from dockyard.rules import parse_duration

    run, console = state(), _console()
    seconds = parse_duration(timeout)
    cfg = run.load_config().config
    aws, target = _target(run, cfg, app)
    deployer = _deployer(aws, cfg, console)
    return _waited(console, run.output, app, lambda: deployer.rollback(
        target, wait=wait, timeout=seconds))


def app_status(run: RunState, app: str) -> int:
    """``dockyard status APP``."""
    from dockyard.aws.services import Services
    from dockyard.deploy.status import app_status as read_status
    from dockyard.ui.deploy import status_document, status_text

    console = _console()
    aws, target = _target(run, run.load_config().config, app)
    result = read_status(Services(aws.client("ecs")), target)
    if run.output == "json":
        console.json(status_document(result))
    else:
        console.data(status_text(result))
    return ExitCode.OK


def app_logs(run: RunState, app: str, since: str, follow: bool) -> int:
    """``dockyard logs APP [--since 10m] [--follow]``."""
    from dockyard.aws.storage import Logs
    from dockyard.deploy.status import AppLogs
    from dockyard.deploy.targets import check_app
    from dockyard.polling import SystemClock
    from dockyard.rules import parse_duration
    from dockyard.templates.app import app_log_group
    from dockyard.ui.deploy import log_line

    console = _console()
    seconds = parse_duration(since, "--since")
    cfg = run.load_config().config
    check_app(cfg, app)
    aws = _session(run, cfg)
    group = app_log_group(cfg, app)
    logs = AppLogs(Logs(aws.client("logs")), SystemClock(),
                   lambda event: console.data(log_line(event)))
    count = logs.show(group, int((time.time() - seconds) * 1000))
    if count == 0:
        console.note(f"no lines in {group} in the last {since}")
    if not follow:
        return ExitCode.OK
    try:
        logs.follow(group)
    except KeyboardInterrupt:
        return ExitCode.OK
    return ExitCode.OK


def _session(run: RunState, cfg: Any) -> Any:
    from dockyard.aws.session import make_session

    return make_session(run.profile, cfg.region)


def _target(run: RunState, cfg: Any, app: str) -> tuple[Any, AppTarget]:
    from dockyard.deploy.targets import check_app, find_target

    check_app(cfg, app)
    aws = _session(run, cfg)
    return aws, find_target(aws, cfg, app)


def _deployer(aws: Any, cfg: Any, console: Console) -> AppDeployer:
    from dockyard.aws.services import Services
    from dockyard.deploy.app import AppDeployer
    from dockyard.deploy.rollout import RolloutWatch
    from dockyard.polling import SystemClock

    services = Services(aws.client("ecs"))
    watch = RolloutWatch(services, SystemClock(), console.progress)
    return AppDeployer(cfg, services, watch, console.progress)


def _waited(console: Console, output: str, app: str, act: Any) -> int:
    from dockyard.ui.deploy import failure_message, result_document, result_text

    try:
        result: DeployResult = act()
    except KeyboardInterrupt:
        raise Cancelled(f"stopped waiting; the deployment goes on (dockyard status {app})"
                        ) from None
    if output == "json":
        console.json(result_document(result))
    else:
        console.data(result_text(result))
    if result.exit_code != ExitCode.OK:
        message, hint = failure_message(result)
        raise DockyardError(message, hint=hint, exit_code=result.exit_code)
    if result.outcome is not None:
        console.progress(f"{result.action} of {app} completed: {result.outcome.reason}")
    return ExitCode.OK
