"""The next deploy's changes to a running task definition (deploy/drift.py)."""

from __future__ import annotations

from dockyard.deploy.drift import FieldChange, app_changes
from tests.conftest import example_config


def running(**container: object) -> dict[str, object]:
    base: dict[str, object] = {
        "name": "web", "image": "x@sha256:1", "portMappings": [{"containerPort": 5001}],
        "environment": [{"name": "LOG_LEVEL", "value": "info"}], "secrets": []}
    base.update(container)
    return {"cpu": "256", "memory": "512", "runtimePlatform": {"cpuArchitecture": "X86_64"},
            "containerDefinitions": [base]}


def test_what_runs_as_configured_changes_nothing() -> None:
    assert app_changes(example_config(), "web", running()) == []


def test_every_field_dockyard_yml_sets_is_compared() -> None:
    cfg = example_config(("port: 5001", "port: 8000"), ("LOG_LEVEL: info", "MODE: fast"),
                         ("secrets: {}", "secrets: {DB_URL: acme/web/database}"),
                         ("architectures: [amd64]", "architectures: [arm64]"))
    found = app_changes(cfg, "web", running(secrets=[{"name": "OLD", "valueFrom": "arn:x"}]))
    assert found == [
        FieldChange("port", "5001", "8000"),
        FieldChange("architecture", "X86_64", "ARM64"),
        FieldChange("env.LOG_LEVEL", "info", "(none)"),
        FieldChange("env.MODE", "(none)", "fast"),
        FieldChange("secrets.DB_URL", "(none)", "set"),
        FieldChange("secrets.OLD", "set", "(none)"),
    ]
    assert "arn:x" not in repr(found), "secret values are never shown"


def test_a_health_command_added_changed_or_removed_is_a_change() -> None:
    command = "curl -fsS http://localhost:5001/healthz"
    cfg = example_config(("health_check: /", f"health_check: /\n    health_command: {command}"))
    assert app_changes(cfg, "web", running()) == [
        FieldChange("health_command", "(none)", command)]
    checked = running(healthCheck={"command": ["CMD-SHELL", command], "retries": 3})
    assert app_changes(cfg, "web", checked) == []
    assert app_changes(example_config(), "web", checked) == [
        FieldChange("health_command", command, "(none)")]
