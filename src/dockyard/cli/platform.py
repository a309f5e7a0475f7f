"""``dockyard up``, ``diff``, ``status`` and ``down``: the platform's stacks in the account."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from dockyard.cli.common import RunState, common_options, state
from dockyard.errors import DockyardError, ExitCode, UsageError
from dockyard.ui.console import Console

if TYPE_CHECKING:
    from collections.abc import Callable

    from dockyard.aws.cloudformation import CloudFormation, ResourceChange
    from dockyard.aws.retained import RetainedData
    from dockyard.stacks.engine import Reporter
    from dockyard.stacks.platform import Platform


def _console() -> Console:
    return Console(out=sys.stdout, err=sys.stderr)


def _build(run: RunState, reporter: Reporter) -> tuple[Platform, CloudFormation, RetainedData]:
    """Wire the commands' objects: one session, its clients, the engine (composition root)."""
    from dockyard.aws.account import Account
    from dockyard.aws.cloudformation import CloudFormation
    from dockyard.aws.retained import RetainedData
    from dockyard.aws.session import make_session
    from dockyard.polling import SystemClock
    from dockyard.stacks.engine import Engine
    from dockyard.stacks.platform import Platform

    cfg = run.load_config().config
    aws = make_session(run.profile, cfg.region)
    stacks = CloudFormation(aws.client("cloudformation"))
    engine = Engine(stacks, SystemClock(), reporter)
    account = Account(aws.client("sts"), aws.client("ec2"), aws.client("route53"),
                      aws.client("secretsmanager"))
    retained = RetainedData(aws.client("efs"), aws.client("ecr"), aws.client("backup"),
                            aws.client("s3"))
    return Platform(cfg=cfg, engine=engine, account=account, retained=retained), stacks, retained


def _reporter(console: Console, events: bool) -> Reporter:
    from dockyard.ui.progress import LiveReporter, NdjsonReporter, PlainReporter

    if events:
        return NdjsonReporter(console)
    return LiveReporter(console) if console.interactive else PlainReporter(console)


def _confirm(yes: bool) -> Callable[[str, list[ResourceChange]], bool]:
    def confirm(stack: str, changes: list[ResourceChange]) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            raise UsageError(f"{stack} would change and there is nobody to ask",
                             hint="pass --yes to apply changes without a prompt")
        return click.confirm(f"Apply {len(changes)} change(s) to {stack}?", default=False,
                             err=True)

    return confirm


@click.command()
@click.option("--only", "only", multiple=True, metavar="STACK",
              help="Deploy only this stack (builder, edge, jenkins, app-<name>); repeatable.")
@click.option("--yes", "-y", is_flag=True, help="Apply changes without asking.")
@click.option("--events", is_flag=True, help="Write progress as NDJSON events to stdout.")
@common_options
def up(only: tuple[str, ...], yes: bool, events: bool) -> int:
    """Create or update the platform's stacks, in order, through change sets.

    Checks credentials and the hosted zone first, then deploys network (if created), builder,
    edge, jenkins and each app, feeding each stack's outputs to the next. A second run with
    nothing changed changes nothing. Ctrl-C during an update cancels it (CloudFormation rolls
    it back).
    """
    from dockyard.stacks.engine import Outcome
    from dockyard.stacks.platform import up as deploy
    from dockyard.ui.progress import failure_lines
    from dockyard.ui.stacks import up_document, up_text

    run, console = state(), _console()
    if not yes and not sys.stdin.isatty():
        raise UsageError("up changes your account and there is nobody to ask",
                         hint="pass --yes to apply changes without a prompt (or run "
                              "`dockyard diff` first to see them)")
    platform, _, _ = _build(run, _reporter(console, events))
    results = deploy(platform, list(only), _confirm(yes))
    if events:
        console.data(_ndjson({"event": "summary", **up_document(results)}))
    elif run.output == "json":
        console.json(up_document(results))
    else:
        console.data(up_text(results))
    failed = next((r for r in results if not r.ok), None)
    if failed is None:
        return ExitCode.OK
    if failed.outcome == Outcome.DECLINED:
        raise _Declined(f"{failed.name} was not changed: you declined")
    raise DockyardError(f"{failed.name} {failed.outcome} ({failed.status})",
                        hint="\n".join(line.strip() for line in failure_lines(failed)) or None)


class _Declined(DockyardError):
    exit_code = ExitCode.CANCELLED


@click.command()
@common_options
def diff() -> int:
    """Show what `dockyard up` would change, without changing anything.

    Creates a change set per deployed stack, prints its changes (add, modify, remove, and
    whether a resource would be replaced) and deletes it. Exits 0 when nothing would change
    and 10 when something would.
    """
    from dockyard.stacks.platform import diff as compare
    from dockyard.ui.stacks import diff_document, diff_text

    run, console = state(), _console()
    platform, _, _ = _build(run, _reporter(console, events=False))
    diffs = compare(platform)
    if run.output == "json":
        console.json(diff_document(diffs))
    else:
        console.data(diff_text(diffs))
    return ExitCode.CHANGES if any(d.action != "none" for d in diffs) else ExitCode.OK


@click.command()
@common_options
def status() -> int:
    """Show each stack's state, the platform's URLs and the data it keeps."""
    from dockyard.stacks.inventory import status as inventory
    from dockyard.ui.stacks import status_document, status_text

    run, console = state(), _console()
    platform, stacks, retained = _build(run, _reporter(console, events=False))
    result = inventory(platform, stacks, retained)
    if run.output == "json":
        console.json(status_document(result))
    else:
        console.data(status_text(result))
    return ExitCode.OK


@click.command()
@click.option("--purge", is_flag=True,
              help="Also delete the data: EFS (JENKINS_HOME) with its backups, and the ECR "
                   "repositories with every image. Asks you to type the project name.")
@click.option("--yes", "-y", is_flag=True, help="Delete the stacks without asking.")
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

    run, console = state(), _console()
    platform, stacks, retained = _build(run, _reporter(console, events=False))
    plan = plan_down(platform, stacks, retained)
    if not plan.stacks and not (purge and (plan.file_systems or plan.repositories)):
        console.note(f"nothing to delete: no stacks of {platform.cfg.name} in "
                     f"{platform.cfg.region}")
        return ExitCode.OK
    for line in down_preview(plan, purge):
        console.note(line)
    _confirm_down(platform.cfg.name, purge=purge, yes=yes, really=yes_really_purge)
    result = teardown(platform, plan, retained, purge=purge)
    if run.output == "json":
        console.json(down_document(result))
    else:
        console.data(down_text(result))
    if not result.ok:
        failed = next(r for r in result.results if not r.ok)
        raise DockyardError(f"{failed.name} could not be deleted ({failed.status})",
                            hint=failed.reason or None)
    return ExitCode.OK


def _confirm_down(project: str, *, purge: bool, yes: bool, really: bool) -> None:
    interactive = sys.stdin.isatty()
    if purge and not really:
        if not interactive:
            raise UsageError("--purge deletes data and there is nobody to ask",
                             hint="pass --yes-really-purge in scripts")
        typed = click.prompt(f"This deletes the data for good. Type {project!r} to go on",
                             default="", show_default=False, err=True)
        if typed != project:
            raise _Declined("nothing deleted: the name did not match")
        return
    if yes or really:
        return
    if not interactive:
        raise UsageError("down deletes stacks and there is nobody to ask",
                         hint="pass --yes to delete without a prompt")
    if not click.confirm("Delete these stacks?", default=False, err=True):
        raise _Declined("nothing deleted")


def _ndjson(document: dict[str, object]) -> str:
    import json

    return json.dumps(document, default=str, separators=(",", ":"))
