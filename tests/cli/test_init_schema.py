"""``dockyard init``, ``dockyard schema``, ``--help`` and ``--version``."""

from __future__ import annotations

import json
from pathlib import Path

from dockyard import __version__
from dockyard.config import parse_config
from tests.conftest import CliRunner


def test_init_writes_a_starter_that_plans(run_cli: CliRunner, tmp_path: Path) -> None:
    done = run_cli("init", "--name", "shop", "--domain", "shop.dev", "--region", "eu-west-1")
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "dockyard.yml").read_text()
    cfg = parse_config(text, "dockyard.yml")
    assert (cfg.name, cfg.region, cfg.edge.domain) == ("shop", "eu-west-1", "shop.dev")
    assert "wrote dockyard.yml" in done.stderr
    planned = run_cli("plan")
    assert planned.returncode == 0, planned.stderr
    assert "https://jenkins.shop.dev/" in planned.stdout


def test_init_never_overwrites_without_force(run_cli: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "dockyard.yml"
    target.write_text("name: mine\n")
    done = run_cli("init")
    assert done.returncode == 2
    assert "dockyard.yml already exists" in done.stderr
    assert target.read_text() == "name: mine\n"
    forced = run_cli("init", "--force")
    assert forced.returncode == 0
    assert "name: acme" in target.read_text()


def test_init_rejects_a_bad_name_naming_the_option(run_cli: CliRunner, tmp_path: Path) -> None:
    done = run_cli("init", "--name", "Bad_Name")
    assert done.returncode == 2
    assert "error: --name: 'Bad_Name' is not a valid name" in done.stderr
    assert not (tmp_path / "dockyard.yml").exists()


def test_schema_is_json_schema_of_the_config(run_cli: CliRunner) -> None:
    done = run_cli("schema")
    assert done.returncode == 0
    schema = json.loads(done.stdout)
    assert schema["title"] == "dockyard.yml"
    assert {"name", "region", "edge", "apps"} <= set(schema["properties"])
    assert schema["$defs"]["App"]["additionalProperties"] is False


def test_help_and_version(run_cli: CliRunner) -> None:
    version = run_cli("--version")
    assert version.returncode == 0
    import importlib.metadata
    import platform

    assert version.stdout.strip() == (
        f"dockyard {__version__} (boto3 {importlib.metadata.version('boto3')}, botocore "
        f"{importlib.metadata.version('botocore')}, Python {platform.python_version()})")
    helped = run_cli("--help")
    assert helped.returncode == 0
    for command in ("init", "plan", "schema"):
        assert command in helped.stdout
    assert "Exit codes" in helped.stdout
    plan_help = run_cli("plan", "--help")
    assert "--out" in plan_help.stdout and "--output" in plan_help.stdout


def test_every_schema_property_is_described() -> None:
    """Editors show these as completion help for dockyard.yml."""
    from dockyard.config.models import Config

    schema = Config.model_json_schema()
    sections = {"Config": schema, **schema.get("$defs", {})}
    bare = [f"{section}.{name}" for section, node in sections.items()
            for name, spec in node.get("properties", {}).items() if not spec.get("description")]
    assert bare == []
    assert sum(len(n.get("properties", {})) for n in sections.values()) >= 60
