"""``dockyard plan``: the whole platform, rendered and validated, offline."""

from __future__ import annotations

from pathlib import Path

import click

from dockyard.cli.common import common_options, state, wiring
from dockyard.cli.values import NamedPath
from dockyard.errors import ExitCode, ValidationFailedError


@click.command()
@click.option("--out", "out_dir", type=NamedPath(file_okay=False, path_type=Path),
              default=Path("dockyard-plan"), show_default=True,
              help="Directory to write the CloudFormation templates to.")
@click.option("--lint/--no-lint", default=True, show_default=True,
              help="Validate the templates with cfn-lint (most of plan's time); --no-lint "
                   "still checks the config against every AWS limit dockyard knows.")
@common_options
def plan(out_dir: Path, lint: bool) -> int:
    """Show everything dockyard would create, without touching AWS.

    Renders every stack from dockyard.yml, writes each template as JSON to --out, validates
    them with cfn-lint, and prints the stacks, endpoints, what is open to whom and a monthly
    cost estimate. Needs no credentials; with no dockyard.yml here or above it plans the
    bundled example, and says so.
    """
    from dockyard.planning.plan import make_plan
    from dockyard.ui.plan import finding_line, plan_document, plan_text

    state().allow_example = True
    wired = wiring()
    console, loaded = wired.console, wired.loaded
    if loaded.is_example:
        console.note("note: no dockyard.yml here or in the folders above: planning the bundled "
                     "example (`dockyard init` writes one to edit)")
    result = make_plan(loaded, out_dir, on_progress=console.progress, lint=lint)
    for path in result.removed:
        console.note(f"removed {path}: that stack is no longer in the config")
    for finding in result.findings:
        console.note(finding_line(finding, result))
    if wired.output == "json":
        console.json(plan_document(result))
    else:
        console.data(plan_text(result))
    if result.errors:
        raise ValidationFailedError(
            f"cfn-lint found {len(result.errors)} error(s) in the templates",
            hint=f"the templates are in {out_dir}/; the lines above name file, line and rule")
    return ExitCode.OK
