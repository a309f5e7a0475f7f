"""``dockyard up``, ``diff``, ``status`` and ``down``: the platform's stacks in the account."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from dockyard.cli.common import common_options, events_option, wiring
from dockyard.cli.values import NAME
from dockyard.errors import Declined, DockyardError, ExitCode, UsageError
from dockyard.names import AGENT_SERVICE, TRUSTED_AGENT_SERVICE, Out
from dockyard.rules import parse_duration

if TYPE_CHECKING:
    from collections.abc import Callable

    from dockyard.aws.cloudformation import ResourceChange
    from dockyard.cli.wiring import Wiring
    from dockyard.deploy.drift import FieldChange
    from dockyard.progress import Progress
    from dockyard.stacks.platform import AfterDeploy, Platform
    from dockyard.stacks.results import StackResult
    from dockyard.templates.stack import StackTemplate
    from dockyard.ui.console import Console


def _platform(wired: Wiring, reporter: Progress) -> Platform:
    """The platform's stacks on the command's session, reported through ``reporter``."""
    from dockyard.stacks.engine import Engine
    from dockyard.stacks.platform import Platform

    engine = Engine(wired.stacks, wired.clock, reporter)
    return Platform(cfg=wired.cfg, engine=engine, account=wired.account,
                    retained=wired.retained)


def _jenkins_images(wired: Wiring) -> Callable[[dict[str, dict[str, str]]], dict[str, str]]:
    from dockyard.stacks.jenkins import AwsImageTools, JenkinsImages

    made: list[JenkinsImages] = []

    def images(outputs: dict[str, dict[str, str]]) -> dict[str, str]:
        if not made:  # the clients only when the jenkins stack needs its images
            tools = AwsImageTools(wired.build_clients, wired.cfg, wired.clock, wired.progress)
            made.append(JenkinsImages(wired.cfg, tools, wired.clock, wired.progress))
        return made[0].images(outputs)

    return images


def _after_jenkins(wired: Wiring, wait: bool, seconds: int) -> AfterDeploy:
    """Once the jenkins stack is in place: the agent pool set to dockyard.yml's count, then
    (with ``wait``) the wait until Jenkins answers."""
    from dataclasses import replace

    from dockyard.jenkins.agents import converge
    from dockyard.stacks.jenkins import WAIT, JenkinsWait
    from dockyard.templates.jenkins import jenkins_log_group

    cfg = wired.cfg

    def after(stack: StackTemplate, result: StackResult,
              outputs: dict[str, dict[str, str]]) -> None:
        if stack.key.startswith("app-") and "builder" in outputs:
            _converge_scaling(wired, outputs["builder"][Out.CLUSTER_ARN],
                              stack.key.removeprefix("app-"))
        if stack.key != "jenkins" or "builder" not in outputs:
            return
        converge(wired.services, outputs["builder"][Out.CLUSTER_ARN],
                 {AGENT_SERVICE: cfg.jenkins.agents.count,
                  TRUSTED_AGENT_SERVICE: cfg.jenkins.agents.trusted_count},
                 wired.progress)
        if not wait:
            return
        waiter = JenkinsWait(wired.services, wired.logs, wired.clock, wired.progress,
                             targets=wired.targets, poll=replace(WAIT, timeout=seconds))
        out = result.outputs
        waiter.wait(out.get(Out.URL, cfg.url(cfg.jenkins.host)),
                    outputs["builder"][Out.CLUSTER_ARN], out.get(Out.SERVICE_NAME, "jenkins"),
                    out.get(Out.LOG_GROUP_NAME, jenkins_log_group(cfg)),
                    target_group=out.get(Out.TARGET_GROUP_ARN, ""))

    return after


def _converge_scaling(wired: Wiring, cluster: str, app: str) -> None:
    """After an app's stack: a range changed by `dockyard scale --min/--max` goes back to
    dockyard.yml's (CloudFormation registers it only when its template changed); a scaled
    app whose service does not exist yet is told when scaling starts."""
    scale = wired.cfg.apps[app].scale if app in wired.cfg.apps else None
    if scale is None:
        return
    registered = wired.scaling.registered(cluster, app)
    if registered is None:
        wired.progress.note("scale", f"{app} scales {scale.min}-{scale.max} once its service "
                                     f"exists: after its first deploy, `dockyard up --only "
                                     f"app-{app}` registers it")
    elif (registered.min, registered.max) != (scale.min, scale.max):
        wired.scaling.register(cluster, app, scale.min, scale.max)
        wired.progress.note("scale", f"{app}'s range was {registered.min}-{registered.max}; "
                                     f"dockyard.yml says {scale.min}-{scale.max}: set")


def _approval(platform: Platform, only: list[str], yes: bool,
              console: Console) -> Callable[[str, list[ResourceChange]], bool]:
    """How ``up`` gets its go-ahead: with ``--yes``, for everything; else one question after
    a preview of every selected stack's changes (the change sets ``diff`` makes). A stack
    whose change set then holds a change the preview did not show (an image built in the
    meantime, an output that moved) is asked about again, on its own."""
    if yes:
        return lambda stack, changes: True
    from dockyard.aws.errors import AwsPreconditionError
    from dockyard.stacks.platform import diff as preview
    from dockyard.ui.prompts import ask, ask_or_decline
    from dockyard.ui.stacks import diff_text

    try:
        diffs = preview(platform, only)
    except AwsPreconditionError:  # a stack whose dependency is gone: asked one at a time
        diffs = []
    previewed = {d.name: {(c.action, c.logical_id) for c in d.changes} for d in diffs}
    changing = [d for d in diffs if d.action != "none"]
    for warning in platform.warnings:
        console.note(warning)
    if changing:
        console.note(diff_text(diffs))
        total = sum(len(d.changes) for d in changing)
        ask_or_decline(console, f"Apply these {total} change(s) to {len(changing)} "
                                f"stack(s)?", "nothing changed: you declined")

    def confirm(stack: str, changes: list[ResourceChange]) -> bool:
        if {(c.action, c.logical_id) for c in changes} <= previewed.get(stack, set()):
            return True
        return ask(console, f"{stack}: the changes above were not in the preview. Apply "
                            f"{len(changes)} change(s) to {stack}?")

    return confirm


@click.command()
@click.option("--only", "only", multiple=True, type=NAME, metavar="STACK",
              help="Deploy only this stack (builder, edge, jenkins, app-<name>); repeatable.")
@click.option("--yes", "-y", is_flag=True, help="Apply changes without asking.")
@click.option("--wait-jenkins/--no-wait-jenkins", default=True, show_default=True,
              help="After the jenkins stack, wait until https://jenkins.<domain>/login "
                   "answers 200.")
@click.option("--jenkins-timeout", default="25m", show_default=True, metavar="DURATION",
              help="How long to wait for Jenkins to answer (90s, 25m, 1h).")
@events_option
@common_options
def up(only: tuple[str, ...], yes: bool, wait_jenkins: bool, jenkins_timeout: str) -> int:
    """Create or update the platform's stacks, in order, through change sets.

    Checks credentials and the hosted zone first, then deploys network (if created), builder,
    edge, jenkins and each app, feeding each stack's outputs to the next. Before the jenkins
    stack, builds the controller and agent images with dockyard's own builder (only when
    their contents changed); after it, sets the agent pool to jenkins.agents.count and waits
    for Jenkins to answer. A second run with nothing changed changes nothing. Ctrl-C during
    an update cancels it (CloudFormation rolls it back).

    Without --yes, it first shows every stack's changes (as `dockyard diff` does) and asks
    once; answering no exits 1 and an input that ends without an answer exits 2, with nothing
    changed.
    """
    from dockyard.stacks.platform import up as deploy
    from dockyard.stacks.results import Outcome
    from dockyard.ui.progress import failure_lines
    from dockyard.ui.stacks import up_document, up_text

    seconds = parse_duration(jenkins_timeout, "--jenkins-timeout", most=6 * 3600)
    wired = wiring()
    if not yes and not sys.stdin.isatty():
        raise UsageError("up changes your account and there is nobody to ask",
                         hint="pass --yes to apply changes without a prompt (or run "
                              "`dockyard diff` first to see them)")
    platform = _platform(wired, wired.progress)
    platform.images = _jenkins_images(wired)
    approval = _approval(platform, list(only), yes, wired.console)
    shown = list(platform.warnings)
    results = deploy(platform, list(only), approval, _after_jenkins(wired, wait_jenkins, seconds))
    for warning in platform.warnings:
        if warning not in shown:
            wired.console.note(warning)
    wired.result(up_document(results), up_text(results))
    failed = next((r for r in results if not r.ok), None)
    if failed is None:
        return ExitCode.OK
    if failed.outcome == Outcome.DECLINED:
        raise Declined(f"{failed.name} was not changed: you declined")
    raise DockyardError(f"{failed.name} {failed.outcome} ({failed.status})",
                        hint="\n".join(line.strip() for line in failure_lines(failed)) or None)


@click.command()
@common_options
def diff() -> int:
    """Show what `dockyard up` would change, without changing anything.

    Creates a change set per deployed stack, prints its changes (add, modify, remove, and
    whether a resource would be replaced) and deletes it. For each deployed app, compares its
    running task definition with what the next `dockyard deploy` would register (cpu, memory,
    port, env values, secret names), field by field. Exits 0 when nothing would change and 10
    when something would.
    """
    from dockyard.stacks.platform import diff as compare
    from dockyard.ui.stacks import diff_document, diff_text

    wired = wiring()
    console = wired.console
    platform = _platform(wired, wired.progress)
    diffs = compare(platform)
    for warning in platform.warnings:
        console.note(warning)
    apps = _app_drift(wired)
    undeployed = [app for app in wired.cfg.apps if app not in apps]
    if wired.output == "json":
        console.json(diff_document(diffs, apps, undeployed))
    else:
        console.data(diff_text(diffs, apps, undeployed))
    changed = any(d.action != "none" for d in diffs) or any(apps.values())
    return ExitCode.CHANGES if changed else ExitCode.OK


def _app_drift(wired: Wiring) -> dict[str, list[FieldChange]]:
    """Each deployed app's task definition and count against dockyard.yml (apps never
    deployed, or whose stack is not there yet, are left out: diff lists them as having no
    service)."""
    from dockyard.deploy.drift import FieldChange, app_changes
    from dockyard.deploy.targets import find_target

    cluster = wired.cluster
    found: dict[str, list[FieldChange]] = {}
    for app in wired.cfg.apps:
        state = wired.services.describe(cluster, app) if cluster else None
        if state is None or state.status != "ACTIVE" or not state.task_definition:
            continue
        try:
            target = find_target(wired.stacks, wired.cfg, app)
        except DockyardError:  # the app's stack is gone: the task definition alone
            target = None
        found[app] = app_changes(wired.cfg, app,
                                 wired.services.definition(state.task_definition),
                                 target, desired=state.desired,
                                 execute_command=state.execute_command,
                                 load_balanced=bool(state.target_groups))
        scale = wired.cfg.apps[app].scale
        if scale is not None:  # the range `up` registers (dockyard scale may have moved it)
            registered = wired.scaling.registered(cluster, app)
            before = f"{registered.min}-{registered.max}" if registered else "(not registered)"
            if before != f"{scale.min}-{scale.max}":
                found[app].append(FieldChange("scale", before, f"{scale.min}-{scale.max}"))
    return found


@click.command()
@click.argument("app", required=False)
@click.option("--wait", is_flag=True,
              help="With APP: follow its deployment under way to its end, and exit as deploy "
                   "does (0 completed, 4 rolled back, 124 still running at --timeout).")
@click.option("--timeout", default=None, metavar="DURATION",
              help="With --wait: stop following after this long (default: as long as the "
                   "app's strategy can take, and 10 min more).")
@events_option
@common_options
def status(app: str | None, wait: bool, timeout: str | None) -> int:
    """Show each stack's state, the platform's URLs and the data it keeps.

    With APP: that app's service, its deployments (with their rollout states), a deployment
    under way with its stage and traffic, its running tasks and recent events. With APP
    --wait: follow that deployment to its end (after a deploy that stopped waiting, or
    --no-wait), running the smoke test if the deployment pauses for it.
    """
    from dockyard.stacks.inventory import status as inventory
    from dockyard.ui.stacks import status_document, status_text

    if app is None and (wait or timeout is not None):
        raise UsageError("--wait and --timeout follow an app's deployment: give APP, as in "
                         "`dockyard status web --wait`")
    if timeout is not None and not wait:
        raise UsageError("--timeout needs --wait")
    wired = wiring()
    console = wired.console
    if app is not None:
        from dockyard.cli.deploy import app_status, follow_deployment

        return follow_deployment(wired, app, timeout) if wait else app_status(wired, app)
    platform = _platform(wired, wired.progress)
    result = inventory(platform, wired.stacks, wired.retained)
    if wired.output == "json":
        console.json(status_document(result))
    else:
        console.data(status_text(result))
    return ExitCode.OK


@click.command()
@click.option("--purge", is_flag=True,
              help="Also delete the data: EFS (JENKINS_HOME) with its backups, and the ECR "
                   "repositories with every image. Asks you to type the project name.")
@click.option("--yes", "-y", is_flag=True, help="Delete the stacks without asking.")
@events_option
@click.option("--yes-really-purge", is_flag=True,
              help="With --purge, in scripts: skip typing the project name.")
@common_options
def down(purge: bool, yes: bool, yes_really_purge: bool) -> int:
    """Delete the platform's stacks, apps first; keep its data unless --purge.

    EFS (with its backups) and the ECR repositories survive by default and are listed with
    how to delete them.
    """
    from dockyard.stacks.teardown import down as teardown
    from dockyard.stacks.teardown import plan_down
    from dockyard.ui.stacks import down_document, down_preview, down_text

    if yes_really_purge and not purge:  # before anything is read, let alone deleted
        raise UsageError("--yes-really-purge goes with --purge only: it confirms deleting the "
                         "data, not the stacks", hint="pass --yes to delete the stacks without a "
                                                      "prompt and keep the data")
    wired = wiring()
    console = wired.console
    platform, retained = _platform(wired, wired.progress), wired.retained
    plan = plan_down(platform, wired.stacks, retained)
    if not plan.stacks and not (purge and (plan.file_systems or plan.repositories)):
        console.note(f"nothing to delete: no stacks of {platform.cfg.name} in "
                     f"{platform.cfg.region}")
        return ExitCode.OK
    for line in down_preview(plan, purge):
        console.note(line)
    _confirm_down(platform.cfg.name, purge=purge, yes=yes, really=yes_really_purge)
    result = teardown(platform, plan, retained, purge=purge, services=wired.services,
                      tasks=wired.tasks, clock=wired.clock)
    wired.result(down_document(result), down_text(result, wired.cfg.region))
    if not result.ok:
        failed = next(r for r in result.results if not r.ok)
        raise DockyardError(f"{failed.name} could not be deleted ({failed.status})",
                            hint=failed.reason or None)
    return ExitCode.OK


def _confirm_down(project: str, *, purge: bool, yes: bool, really: bool) -> None:
    from dockyard.ui.prompts import ask_or_decline, type_to_confirm

    interactive = sys.stdin.isatty()
    if purge and not really:
        if not interactive:
            raise UsageError("--purge deletes data and there is nobody to ask",
                             hint="pass --yes-really-purge in scripts")
        type_to_confirm(wiring().console,
                        f"This deletes the data for good. Type {project!r} to go on", project)
        return
    if yes or really:  # --purge --yes-really-purge: the data and so the stacks too
        return
    if not interactive:
        raise UsageError("down deletes stacks and there is nobody to ask",
                         hint="pass --yes to delete without a prompt")
    ask_or_decline(wiring().console, "Delete these stacks?", "nothing deleted: you declined")
