"""Imports point one way, and the fast paths stay fast by not importing the heavy libraries."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "dockyard"
HEAVY = ("boto3", "botocore", "troposphere", "awacs", "cfnlint", "pydantic", "yaml", "rich")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", ["templates", "ui", "config", "planning"])
def test_leaf_layers_never_import_boto3(layer: str) -> None:
    files = sorted((PACKAGE / layer).rglob("*.py"))
    assert files
    for path in files:
        offending = {m for m in _imports(path) if m.split(".")[0] in ("boto3", "botocore")}
        assert not offending, f"{path.relative_to(PACKAGE)} imports {offending}"


def test_only_the_aws_layer_may_import_boto3() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        if "aws" in path.relative_to(PACKAGE).parts[:1]:
            continue
        assert not {m for m in _imports(path) if m.split(".")[0] == "boto3"}, path


def test_ui_and_templates_do_not_import_the_cli() -> None:
    for layer in ("templates", "ui", "config"):
        for path in (PACKAGE / layer).rglob("*.py"):
            assert not {m for m in _imports(path) if m.startswith("dockyard.cli")}, path


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["plan", "--help"]])
def test_fast_commands_import_no_heavy_library(args: list[str]) -> None:
    probe = (f"import json, sys\nfrom dockyard.cli import main\ncode = main({args!r})\n"
             "print(json.dumps([code, sorted(sys.modules)]), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=False, timeout=60)
    code, modules = json.loads(done.stderr.strip().splitlines()[-1])
    assert code == 0
    loaded = {m.split(".")[0] for m in modules}
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_only_the_wiring_makes_aws_clients() -> None:
    """Domain code receives the clients it needs; it never opens a session or makes a client
    (the composition root, cli/wiring.py, does that once per command)."""
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "aws" or relative == Path("cli/wiring.py"):
            continue
        tree = ast.parse(path.read_text())
        calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
                 and isinstance(node.func, ast.Attribute) and node.func.attr == "client"]
        assert not calls, f"{relative} makes an AWS client (line {calls[0].lineno})" if calls \
            else ""
        assert "dockyard.aws.session" not in _imports(path), f"{relative} opens a session"
