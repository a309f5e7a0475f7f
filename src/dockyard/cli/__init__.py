"""The ``dockyard`` command: the only code that knows argv, streams and exit codes.

Commands are thin: parse, call one function, render, return an exit code. Heavy imports
(pydantic, troposphere, cfn-lint, boto3) happen inside the commands that need them, so
``dockyard --help`` and ``--version`` start fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import click

from dockyard import __version__, interrupts
from dockyard.cli.common import RunState, global_options
from dockyard.errors import Cancelled, ConfigError, DockyardError, ExitCode
from dockyard.rules import clipped

_EPILOG = """\b
Exit codes: 0 ok, 1 failed (or a prompt answered no), 2 usage or config error
(or a prompt left without an answer), 3 AWS precondition,
4 deploy rolled back, 10 diff found changes, 70 task failed to start,
71 Spot interrupted, 124 timeout, 130/143/129 cancelled by Ctrl-C/SIGTERM/SIGHUP.
"""


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             epilog=_EPILOG)
@click.option("--version", "-V", is_flag=True, expose_value=False, is_eager=True,
              callback=lambda ctx, _, value: _print_version(ctx) if value else None,
              help="Show dockyard's version, and boto3's, botocore's and Python's.")
@global_options
def cli() -> None:
    """Stand up and run a CI/CD platform on AWS ECS Fargate, with no Docker daemon anywhere.

    Jenkins behind HTTPS at your domain, image builds as one-off kaniko tasks, and deploys
    that report their true outcome, all declared in one dockyard.yml.

    Start with `dockyard init`, then `dockyard plan` (offline, no AWS account needed).
    """


def _print_version(ctx: click.Context) -> None:
    """``dockyard 0.1.0 (boto3 1.x, botocore 1.x, Python 3.11.7)``: what a bug report needs.
    Read from the installed packages' metadata, without importing them."""
    import importlib.metadata
    import platform

    def installed(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    click.echo(f"dockyard {__version__} (boto3 {installed('boto3')}, botocore "
               f"{installed('botocore')}, Python {platform.python_version()})")
    ctx.exit(0)


def _register() -> None:
    from dockyard.cli import (
        build,
        config_commands,
        deploy,
        jenkins,
        plan,
        platform,
        run,
        scale,
        shell,
    )

    cli.add_command(config_commands.init)
    cli.add_command(config_commands.schema)
    cli.add_command(plan.plan)
    for command in (platform.up, platform.diff, platform.status, platform.down, build.build,
                    build.logs, deploy.deploy, deploy.rollback, run.run, scale.scale,
                    shell.exec_command, jenkins.jenkins):
        cli.add_command(command)


_register()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code; the one place that turns errors into codes.

    SIGTERM and SIGHUP stop a command as Ctrl-C does (remote tasks stopped, updates
    cancelled), and it then exits 143 or 129 instead of 130.
    """
    with interrupts.handled():
        try:
            code = _run(argv)
        except KeyboardInterrupt:  # a second signal while the first was being handled
            code = ExitCode.CANCELLED
        return interrupts.exit_code(code, ExitCode.CANCELLED)


def _run(argv: Sequence[str] | None) -> int:
    args = list(argv) if argv is not None else sys.argv[1:]
    state = RunState(debug=bool(os.environ.get("DOCKYARD_DEBUG")))
    console = state.console
    try:
        ok = False
        try:
            result = cli.main(args=args, prog_name="dockyard", standalone_mode=False, obj=state)
            ok = True
        finally:  # the live view's summary stays above the errors that follow
            console.finish(ok)
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    except click.ClickException as err:
        _show_click_error(err)
        code = ExitCode.USAGE if isinstance(err, click.UsageError) else ExitCode.FAILED
        return _ended(state, args, Failure(err.format_message(), code))
    except Cancelled as err:
        console.note(err.message)
        return _debug_exit(state, _ended(state, args, Failure(err.message, err.exit_code)))
    except ConfigError as err:
        for problem in err.problems:
            console.error(problem)
        if err.hint:
            console.note(f"hint: {err.hint}")
        failure = Failure(err.message, err.exit_code, err.hint, err.problems)
        return _debug_exit(state, _ended(state, args, failure))
    except DockyardError as err:
        console.error(err.message, err.hint)
        failure = Failure(err.message, err.exit_code, err.hint)
        return _debug_exit(state, _ended(state, args, failure))
    except (KeyboardInterrupt, click.exceptions.Abort):
        console.note(f"cancelled ({interrupts.cause()})")
        cancelled = Failure(f"cancelled ({interrupts.cause()})", ExitCode.CANCELLED)
        return _ended(state, args, cancelled)
    except Exception as err:
        return _ended(state, args, _unexpected(err, state))
    # A command that did not raise succeeded: it returns OK, or CHANGES for a diff.
    return int(result) if isinstance(result, int) else ExitCode.OK


@dataclass(frozen=True)
class Failure:
    """How a command failed, for the document that ends its output."""

    message: str
    exit_code: int
    hint: str | None = None
    problems: Sequence[str] = ()


def _ended(state: RunState, args: list[str], failure: Failure) -> int:
    """End a failed command's stdout as its output mode promises, and return its exit code.
    With ``--events`` the last event is one ``summary`` (unless the command wrote its own),
    even when the command line itself was wrong and the option never took effect; with
    ``--output json`` a program reading stdout gets one document, unless the command already
    wrote its result there (a deploy that rolled back prints its own)."""
    console = state.console
    events = state.events or "--events" in args[:args.index("--") if "--" in args else None]
    if console.summarized or (not events and (state.output != "json" or console.wrote_data)):
        return failure.exit_code
    error: dict[str, object] = {"message": clipped(failure.message),
                                "exit_code": failure.exit_code}
    if failure.hint:
        error["hint"] = clipped(failure.hint)
    if len(failure.problems) > 1:
        error["problems"] = [clipped(p) for p in failure.problems]
    if events:
        from dockyard.ui.progress import NdjsonReporter

        NdjsonReporter(console).summary({"ok": False, "error": error})
    else:
        console.json({"ok": False, "error": error})
    return failure.exit_code


def _show_click_error(err: click.ClickException) -> None:
    """click's own message for a bad command line (usage, then the error), with the argument
    it quotes cut to a readable length."""
    ctx = getattr(err, "ctx", None)
    if ctx is not None:
        sys.stderr.write(f"{ctx.get_usage()}\n")
        if ctx.command.get_help_option(ctx) is not None:
            sys.stderr.write(f"Try '{ctx.command_path} {max(ctx.help_option_names, key=len)}' "
                             "for help.\n")
        sys.stderr.write("\n")
    sys.stderr.write(f"Error: {clipped(err.format_message())}\n")


def _unexpected(err: Exception, state: RunState) -> Failure:
    """An exception no part of dockyard turned into an error: botocore's own about credentials
    or the network (a user's problem), else a bug, said plainly (the traceback with --debug)."""
    if type(err).__module__.startswith("botocore."):
        from dockyard.aws.errors import NOT_CLIENT_ERRORS, translate

        if isinstance(err, NOT_CLIENT_ERRORS):
            translated = translate(err, "reach AWS")
            state.console.error(translated.message, translated.hint)
            _debug_exit(state, translated.exit_code)
            return Failure(translated.message, translated.exit_code, translated.hint)
    message = f"unexpected {type(err).__name__}: {clipped(str(err))}"
    hint = "this is a bug in dockyard; rerun with --debug for the traceback"
    if state.debug:
        _print_traceback()
    else:
        state.console.error(message, hint)
    return Failure(message, ExitCode.FAILED, hint)


def _debug_exit(state: RunState, code: int) -> int:
    if state.debug:
        _print_traceback()
    return code


def _print_traceback() -> None:
    import traceback  # only on errors with --debug: it costs start-up time otherwise

    traceback.print_exc()
