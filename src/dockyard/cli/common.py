"""Options every command takes, and the per-run state they fill in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from dockyard.config import LoadedConfig

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class RunState:
    """What the global options said, shared with ``main`` (which decides on tracebacks)."""

    debug: bool = False
    config_path: Path | None = None
    profile: str | None = None
    region: str | None = None
    output: str = "text"

    def load_config(self) -> LoadedConfig:
        """The config from ``--config`` (or ./dockyard.yml, or the bundled example), with
        ``--region`` applied on top."""
        from pydantic import ValidationError

        from dockyard.config import LoadedConfig, load_config
        from dockyard.config.loading import error_message
        from dockyard.config.models import Config
        from dockyard.errors import UsageError

        loaded = load_config(self.config_path)
        if not self.region or self.region == loaded.config.region:
            return loaded
        try:
            config = Config.model_validate({**loaded.config.model_dump(), "region": self.region})
        except ValidationError as err:
            raise UsageError(f"--region {self.region}: {error_message(err.errors()[0])}") from None
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
                     expose_value=False, callback=_set("config_path"),
                     help="dockyard.yml to use [default: ./dockyard.yml, else the bundled "
                          "example]"),
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


def state() -> RunState:
    """The current run's state (global options) from inside a command."""
    return _state()
