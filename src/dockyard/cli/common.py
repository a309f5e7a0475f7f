"""Options every command takes, and the per-run state they fill in."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from dockyard.cli.values import NamedPath
from dockyard.ui.console import Console

if TYPE_CHECKING:
    from dockyard.aws.follow import Follower
    from dockyard.cli.wiring import Wiring
    from dockyard.config import LoadedConfig

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class RunState:
    """What the global options said, shared with ``main`` (which decides on tracebacks), and
    the run's one console."""

    debug: bool = False
    config_path: Path | None = None
    profile: str | None = None
    region: str | None = None
    output: str = "text"
    events: bool = False
    allow_example: bool = False  # plan: without a dockyard.yml, the bundled example
    console: Console = field(default_factory=lambda: Console(out=sys.stdout, err=sys.stderr))
    _wiring: Wiring | None = field(default=None, repr=False)

    def load_config(self) -> LoadedConfig:
        """The config from ``--config`` (or the dockyard.yml here or above; for ``plan`` the
        bundled example when there is none), with ``--region`` applied on top."""
        from pydantic import ValidationError

        from dockyard.config import LoadedConfig, load_config
        from dockyard.config.loading import error_message
        from dockyard.config.models import Config
        from dockyard.errors import UsageError

        loaded = load_config(self.config_path, allow_example=self.allow_example)
        if self.region is None:
            self._say_ignored_region(loaded.config.region)
        if self.region is None or self.region == loaded.config.region:
            return loaded
        # What the file set, not every default: a default given explicitly can mean something
        # else (a rolling app refuses canary_percent, which it would then seem to have).
        written = loaded.config.model_dump(exclude_unset=True)
        try:
            config = Config.model_validate({**written, "region": self.region})
        except ValidationError as err:
            raise UsageError(f"--region: {error_message(err.errors()[0])}") from None
        return LoadedConfig(config, loaded.source, loaded.is_example)

    def _say_ignored_region(self, config_region: str) -> None:
        """AWS tools follow AWS_REGION; dockyard follows dockyard.yml, where the platform
        lives. When the two differ it says so, once, rather than pick one without a word."""
        ignored = _ignored_region(config_region)
        if ignored is not None:
            name, value = ignored
            self.console.note(f"note: {name}={value} is not used: dockyard.yml's region is "
                              f"{config_region} (--region or DOCKYARD_REGION overrides it)")


def _ignored_region(config_region: str) -> tuple[str, str] | None:
    """The AWS SDK's region variable when it names another region than dockyard.yml."""
    import os

    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        value = os.environ.get(name)
        if value:
            return (name, value) if value != config_region else None
    return None


def _state() -> RunState:
    state = click.get_current_context().find_object(RunState)
    if state is None:  # invoked without main(), as in click's test runner
        state = click.get_current_context().ensure_object(RunState)
    return state


def _set(field: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is not None and value is not False:
            setattr(_state(), field, value)
        return value

    return callback


def _set_no_color(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value:
        _state().console.no_color = True
    return value


def common_options(func: F) -> F:
    """Add --config, --profile, --region, --output and --debug to a command. They work before
    the command's name too (``dockyard --region eu-west-1 status``): see :func:`global_options`.
    """
    return _with_options(func, environment=False)


def global_options(func: F) -> F:
    """The same options on the ``dockyard`` group, with their environment variables. The
    group's options are read first, so a value after the command's name wins over one before
    it, and either wins over the environment: flag, then ``DOCKYARD_*`` (or ``AWS_PROFILE``),
    then dockyard.yml, then the default."""
    return _with_options(func, environment=True)


def _with_options(func: F, *, environment: bool) -> F:
    def env(*names: str) -> dict[str, Any]:
        return {"envvar": list(names), "show_envvar": True} if environment else {}

    options = [
        click.option("--config", "-c", "config_path", type=NamedPath(path_type=Path),
                     expose_value=False, callback=_set("config_path"), **env("DOCKYARD_CONFIG"),
                     help="dockyard.yml to use [default: the dockyard.yml in this folder or "
                          "the nearest folder above]"),
        click.option("--profile", expose_value=False, callback=_set("profile"),
                     **env("DOCKYARD_PROFILE", "AWS_PROFILE"), help="AWS profile"),
        click.option("--region", expose_value=False, callback=_set("region"),
                     **env("DOCKYARD_REGION"), help="AWS region; overrides dockyard.yml's"),
        click.option("--output", "-o", type=click.Choice(["text", "json"]), default=None,
                     expose_value=False, callback=_set("output"), **env("DOCKYARD_OUTPUT"),
                     help="Result format on stdout [default: text]"),
        click.option("--no-color", is_flag=True, default=None, expose_value=False,
                     callback=_set_no_color, help="No colors (also NO_COLOR, or TERM=dumb)"),
        click.option("--debug", is_flag=True, default=None, expose_value=False,
                     callback=_set("debug"), **env("DOCKYARD_DEBUG"),
                     help="Log every AWS call to stderr; show tracebacks for errors"),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def events_option(func: F) -> F:
    """Add --events: progress as NDJSON events on stdout, the result as the last one."""
    return click.option("--events", is_flag=True, expose_value=False, callback=_set("events"),
                        help="Write progress as NDJSON events to stdout, ending with a "
                             "`summary` event holding the result.")(func)


def state() -> RunState:
    """The current run's state (global options) from inside a command."""
    return _state()


def wiring() -> Wiring:
    """The current command's wiring (config, console, AWS clients), built once."""
    from dockyard.cli.wiring import Wiring

    run = _state()
    if run._wiring is None:
        run._wiring = Wiring(run)
        run._wiring.clock  # noqa: B018  (a clock refused is refused before anything changes)
    return run._wiring


def refuse_json(wired: Wiring, command: str) -> None:
    """``--output json`` where it cannot mean anything (a log's lines, as they are): exit 2
    rather than accept it and print text."""
    from dockyard.errors import UsageError

    if wired.output == "json":
        raise UsageError(f"--output json: `dockyard {command}` prints the log's own lines, "
                         "which are text", hint="leave --output json off for logs")


def follow_until_ctrl_c(follower: Follower[Any], console: Console) -> int:
    """``--follow``: print new lines until Ctrl-C (exit 0), within the follower's bound."""
    from dockyard import interrupts
    from dockyard.aws.follow import FOLLOW_LIMIT, Ending
    from dockyard.errors import ExitCode

    try:
        ending = follower.follow(timeout=FOLLOW_LIMIT)
    except KeyboardInterrupt:  # Ctrl-C is how a user ends following; a SIGTERM is not
        return ExitCode.CANCELLED if interrupts.received() else ExitCode.OK
    if ending == Ending.TIMED_OUT:
        console.note(f"stopped following after {FOLLOW_LIMIT / 3600:.0f} h: run it again")
    return ExitCode.OK
