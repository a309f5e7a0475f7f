"""``dockyard jenkins url | password | open | logs``: the controller, from the terminal."""

from __future__ import annotations

import sys
from typing import Any

import click

from dockyard.cli.common import RunState, common_options, state
from dockyard.errors import ExitCode
from dockyard.ui.console import Console


@click.group()
def jenkins() -> None:
    """The Jenkins controller: its URL, admin password, browser tab and log."""


def _console() -> Console:
    return Console(out=sys.stdout, err=sys.stderr)


def _session(run: RunState) -> tuple[Any, Any]:
    from dockyard.aws.session import make_session

    cfg = run.load_config().config
    return cfg, make_session(run.profile, cfg.region)


@jenkins.command()
@common_options
def url() -> int:
    """Print the Jenkins URL."""
    cfg = state().load_config().config
    _console().data(cfg.url(cfg.jenkins.host))
    return ExitCode.OK


@jenkins.command()
@common_options
def password() -> int:
    """Print the admin password (user `admin`), read from Secrets Manager."""
    from dockyard.aws.errors import AwsPreconditionError
    from dockyard.aws.secrets import secret_text
    from dockyard.names import admin_secret_name

    cfg, aws = _session(state())
    name = admin_secret_name(cfg.name)
    secret = secret_text(aws.client("secretsmanager"), name)
    if secret is None:
        raise AwsPreconditionError(f"there is no admin password yet: the secret {name} does not "
                                   "exist", hint="`dockyard up` creates it with the jenkins stack")
    _console().data(secret)
    return ExitCode.OK


@jenkins.command(name="open")
@common_options
def open_() -> int:
    """Open Jenkins in a browser (and print its URL)."""
    import webbrowser

    cfg = state().load_config().config
    address = cfg.url(cfg.jenkins.host)
    _console().data(address)
    if not webbrowser.open(address):
        _console().note("no browser here: open the URL above")
    return ExitCode.OK


@jenkins.command()
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines until Ctrl-C.")
@click.option("--lines", "-n", default=50, show_default=True, help="How many recent lines.")
@common_options
def logs(follow: bool, lines: int) -> int:
    """Print the controller's log (its newest task), and follow it with --follow."""
    from dockyard.aws.cloudformation import CloudFormation
    from dockyard.aws.services import Services
    from dockyard.aws.storage import Logs
    from dockyard.names import Out
    from dockyard.polling import Poll, SystemClock, poll_until
    from dockyard.stacks.jenkins import controller_stream
    from dockyard.templates.jenkins import SERVICE, jenkins_log_group

    cfg, aws = _session(state())
    console = _console()
    group = jenkins_log_group(cfg)
    reader = Logs(aws.client("logs"))
    builder = CloudFormation(aws.client("cloudformation")).describe(cfg.stack_name("builder"))
    cluster = builder.outputs.get(Out.CLUSTER_ARN, "") if builder else ""
    named = controller_stream(Services(aws.client("ecs")), cluster, SERVICE) if cluster else None
    if named is None:
        console.note("ECS lists no controller task: showing the stream CloudWatch says was "
                     "written last (it can lag behind)")
    stream, recent = reader.tail(group, lines, named)
    if not stream:
        console.note(f"no controller log yet in {group} (has `dockyard up` deployed Jenkins?)")
        return ExitCode.OK
    console.note(f"{group} {stream}")
    for line in recent.lines:
        console.data(line)
    if not follow:
        return ExitCode.OK
    token: list[str | None] = [recent.token]

    def fetch() -> int:
        page = reader.read(group, stream, token[0])
        token[0] = page.token
        for line in page.lines:
            console.data(line)
        return len(page.lines)

    try:
        poll_until(fetch, lambda _: False, Poll("new log lines", interval=2, timeout=86400),
                   SystemClock())
    except KeyboardInterrupt:
        return ExitCode.OK
    return ExitCode.OK
