"""``dockyard jenkins url | password | open | logs | agents``: Jenkins, from the terminal."""

from __future__ import annotations

import click

from dockyard.cli.common import (
    common_options,
    events_option,
    follow_until_ctrl_c,
    refuse_json,
    wiring,
)
from dockyard.cli.values import Whole
from dockyard.errors import ExitCode


@click.group()
def jenkins() -> None:
    """Jenkins: the controller's URL, admin password, browser tab and log; the agent pool."""


@jenkins.command()
@common_options
def url() -> int:
    """Print the Jenkins URL."""
    wired = wiring()
    address = wired.cfg.url(wired.cfg.jenkins.host)
    wired.result({"url": address}, address)
    return ExitCode.OK


@jenkins.command()
@common_options
def password() -> int:
    """Print the admin password (user `admin`), read from Secrets Manager."""
    from dockyard.aws.errors import AwsPreconditionError
    from dockyard.names import admin_secret_name

    wired = wiring()
    if wired.cfg.jenkins.sign_in.github:
        from dockyard.errors import UsageError

        raise UsageError("Jenkins signs people in with GitHub (jenkins.sign_in.github): there is "
                         "no admin password", hint="admins are the members of jenkins.sign_in."
                         "github.admins; to sign in as admin again, remove jenkins.sign_in and "
                         "run `dockyard up`")
    name = admin_secret_name(wired.cfg.name)
    secret = wired.secret_text(name)
    if secret is None:
        raise AwsPreconditionError(f"there is no admin password yet: the secret {name} does not "
                                   "exist", hint="`dockyard up` creates it with the jenkins stack")
    wired.result({"username": "admin", "password": secret}, secret)
    return ExitCode.OK


@jenkins.command(name="open")
@common_options
def open_() -> int:
    """Open Jenkins in a browser (and print its URL)."""
    import webbrowser

    wired = wiring()
    address = wired.cfg.url(wired.cfg.jenkins.host)
    opened = wired.output != "json" and webbrowser.open(address)
    wired.result({"url": address, "opened": opened}, address)
    if wired.output != "json" and not opened:
        wired.console.note("no browser here: open the URL above")
    return ExitCode.OK


@jenkins.command()
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines until Ctrl-C.")
@click.option("--lines", "-n", default=50, show_default=True, type=Whole(1, 10_000),
              help="How many recent lines.")
@common_options
def logs(follow: bool, lines: int) -> int:
    """Print the controller's log (its newest task), and follow it with --follow."""
    from dockyard.aws.follow import Follower, StreamCursor
    from dockyard.stacks.jenkins import controller_stream
    from dockyard.templates.jenkins import SERVICE, jenkins_log_group

    wired = wiring()
    refuse_json(wired, "jenkins logs")
    cfg, console, reader = wired.cfg, wired.console, wired.logs
    group = jenkins_log_group(cfg)
    cluster = wired.cluster
    named = controller_stream(wired.services, cluster, SERVICE) if cluster else None
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
    follower = Follower(StreamCursor(reader, group, stream, recent.token), console.data,
                        wired.clock)
    return follow_until_ctrl_c(follower, console)


@jenkins.command()
@click.argument("count", required=False, type=Whole(0, 100))
@click.option("--no-wait", is_flag=True, help="Resize and return without waiting for the agents.")
@click.option("--trusted", is_flag=True,
              help="The pool of trusted builds (a job's deploy branches), not the untrusted one.")
@events_option
@common_options
def agents(count: int | None, no_wait: bool, trusted: bool) -> int:
    """Show the agent pools, or resize one to COUNT agents (0 to 100).

    Each agent is a Fargate task that joins Jenkins over WebSocket, runs one build and is
    replaced by a fresh one. Untrusted builds (pull requests, other branches) run in one pool,
    trusted builds in the other (--trusted). A resize waits (up to 10 minutes) until COUNT
    agents run, and lasts until the next `dockyard up`, which sets jenkins.agents.count and
    trusted_count from dockyard.yml again.
    """
    from dockyard.jenkins.agents import describe_pool, resize
    from dockyard.names import AGENT_SERVICE, TRUSTED_AGENT_SERVICE

    wired = wiring()
    cluster = wired.cluster
    settings = wired.cfg.jenkins.agents
    if count is None:
        pools = [describe_pool(wired.services, cluster, configured, service) for service,
                 configured in ((AGENT_SERVICE, settings.count),
                                (TRUSTED_AGENT_SERVICE, settings.trusted_count))
                 if not trusted or service == TRUSTED_AGENT_SERVICE]
        wired.result(pools[0].document() if trusted else
                     {"pools": [p.document() for p in pools]},
                     "\n".join(p.line() for p in pools))
        return ExitCode.OK
    service = TRUSTED_AGENT_SERVICE if trusted else AGENT_SERVICE
    pool = resize(wired.services, cluster, count,
                  configured=settings.trusted_count if trusted else settings.count,
                  clock=wired.clock, progress=wired.progress, wait=not no_wait, service=service)
    wired.result(pool.document(), pool.line())
    return ExitCode.OK
