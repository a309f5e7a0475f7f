"""Options every command takes, and the per-run state they fill in."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

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
        if self.region is None or self.region == loaded.config.region:
            return loaded
        try:
            config = Config.model_validate({**loaded.config.model_dump(), "region": self.region})
        except ValidationError as err:
            raise UsageError(f"--region: {error_message(err.errors()[0])}") from None
        return LoadedConfig(config, loaded.source, loaded.is_example)


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


def common_options(func: F) -> F:
    """Add --config, --profile, --region, --output and --debug to a command."""
    options = [
        click.option("--config", "-c", "config_path", type=click.Path(path_type=Path),
                     expose_value=False, callback=_set("config_path"), envvar="DOCKYARD_CONFIG",
                     help="dockyard.yml to use [env DOCKYARD_CONFIG; default: the dockyard.yml "
                          "in this folder or the nearest folder above]"),
        click.option("--profile", expose_value=False, callback=_set("profile"),
                     envvar="AWS_PROFILE", help="AWS profile [env AWS_PROFILE]"),
        click.option("--region", expose_value=False, callback=_set("region"),
                     help="AWS region; overrides the config's region"),
        click.option("--output", "-o", type=click.Choice(["text", "json"]), default="text",
                     show_default=True, expose_value=False, callback=_set("output"),
                     help="Result format on stdout"),
        click.option("--debug", is_flag=True, expose_value=False, callback=_set("debug"),
                     help="Show tracebacks for errors"),
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
    return run._wiring


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
