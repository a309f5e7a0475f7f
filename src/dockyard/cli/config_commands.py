"""``dockyard init`` and ``dockyard schema``: writing and describing dockyard.yml."""

from __future__ import annotations

import json
from pathlib import Path

import click

from dockyard.cli.common import common_options, state
from dockyard.cli.values import PATH
from dockyard.errors import ConfigError, DockyardError, ExitCode, UsageError

# Which init option set which config field, to name the option in errors.
_OPTION_OF_FIELD = {"name": "--name", "region": "--region", "edge.domain": "--domain"}


@click.command()
@click.argument("path", type=PATH, default="dockyard.yml")
@click.option("--name", default="acme", show_default=True,
              help="Prefix of every stack and resource.")
@click.option("--domain", default="example.com", show_default=True,
              help="Route 53 hosted zone for jenkins.<domain> and the apps.")
@click.option("--force", is_flag=True, help="Overwrite PATH if it exists.")
@common_options
def init(path: Path, name: str, domain: str, force: bool) -> int:
    """Write a commented starter dockyard.yml to PATH.

    The file declares the whole platform: network, HTTPS edge, Jenkins, builder and one
    example app. Edit it, then run `dockyard plan`.
    """
    from dockyard.config import parse_config, starter_text

    region = state().region or "ap-southeast-2"
    text = starter_text(name=name, region=region, domain=domain)
    try:
        parse_config(text, "dockyard init")
    except ConfigError as err:
        raise UsageError(_as_option_error(err.problems[0])) from None
    if path.exists() and not force:
        raise UsageError(f"{path} already exists: not overwriting it",
                         hint="pass --force to replace it, or give another PATH")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise DockyardError(f"cannot write {path}: {err.strerror or err}") from None
    click.echo(f"wrote {path}: edit it, then run `dockyard plan`", err=True)
    if state().output == "json":
        click.echo(json.dumps({"path": str(path), "name": name, "region": region,
                               "domain": domain}, indent=2))
    return ExitCode.OK


def _as_option_error(problem: str) -> str:
    # "dockyard init:5: name: 'X' is not ..." -> "--name: 'X' is not ..."
    _, _, rest = problem.split(":", 2)
    field, _, message = rest.strip().partition(": ")
    return f"{_OPTION_OF_FIELD.get(field, field)}: {message}"


@click.command()
@common_options
def schema() -> int:
    """Print the JSON Schema of dockyard.yml (for editor completion and CI checks)."""
    from dockyard.config.models import Config

    document = Config.model_json_schema()
    document = {"$schema": "https://json-schema.org/draft/2020-12/schema", **document,
                "title": "dockyard.yml"}
    click.echo(json.dumps(document, indent=2))
    return ExitCode.OK
