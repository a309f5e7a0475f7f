"""Stack outputs are named once: what the templates write is what names.Out declares."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from dockyard.names import Out, declared_outputs
from dockyard.templates import render_stacks
from tests.conftest import VARIANTS, example_config

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "dockyard"


def _written() -> set[str]:
    keys: set[str] = set()
    for variant in VARIANTS.values():
        for stack in render_stacks(example_config(*variant)):
            keys |= set(json.loads(stack.to_json()).get("Outputs", {}))
    return keys


def test_every_output_a_template_writes_is_declared_and_every_declared_one_is_written() -> None:
    written = _written()
    per_architecture = {k for k in written if k.startswith((Out.TASK_DEFINITION,
                                                            Out.UNTRUSTED_TASK_DEFINITION))}
    repositories = {k for k in written  # the builder's: RepoJenkinsControllerUri, ...
                    if k.startswith("Repo") and k.endswith("Uri") and k != Out.REPOSITORY_URI}
    assert per_architecture == {Out.task_definition(a, untrusted=u) for a in ("amd64", "arm64")
                                for u in (False, True)} & written
    assert written - per_architecture - repositories == \
        declared_outputs() - {Out.TASK_DEFINITION, Out.UNTRUSTED_TASK_DEFINITION}


@pytest.mark.parametrize("path", sorted(p for p in PACKAGE.rglob("*.py")
                                        if p.parts[-2] not in ("templates", "aws")),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_commands_read_outputs_by_their_declared_names(path: Path) -> None:
    """Outside templates/ (which write them) and aws/ (which reads AWS's own responses), an
    output key is never spelled as a string."""
    literals = {node.value for node in ast.walk(ast.parse(path.read_text()))
                if isinstance(node, ast.Constant) and isinstance(node.value, str)}
    if path.name == "names.py":
        return
    assert not literals & declared_outputs(), f"{path.name} spells {literals & declared_outputs()}"
