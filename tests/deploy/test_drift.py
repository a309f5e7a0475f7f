"""The next deploy's changes to a running task definition (deploy/drift.py)."""

from __future__ import annotations

from dockyard.config import starter_text
from dockyard.deploy.drift import FieldChange, app_changes
from tests.conftest import example_config


def running(**container: object) -> dict[str, object]:
    base: dict[str, object] = {
        "name": "web", "image": "x@sha256:1", "portMappings": [{"containerPort": 5001}],
        "environment": [{"name": "LOG_LEVEL", "value": "info"}], "secrets": [],
        "readonlyRootFilesystem": True}
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


def test_with_the_stack_and_the_service_every_field_a_deploy_sends_is_compared() -> None:
    """The count every deploy sends, where each secret comes from (a secret swapped under the
    same variable), the roles and the log group the app stack gives."""
    from dataclasses import replace

    from dockyard.deploy.definition import target_from_outputs
    from tests.deploy.test_definition import APP, BUILDER

    cfg = example_config(("secrets: {}", "secrets: {DB_URL: acme/web/database}"),
                         ("    count: 1\n    health_check", "    count: 3\n    health_check"))
    target = target_from_outputs(cfg, "web", BUILDER, APP)
    target = replace(target, secret_arns={"acme/web/database": "arn:new"})
    old = running(secrets=[{"name": "DB_URL", "valueFrom": "arn:old"}],
                  logConfiguration={"options": {"awslogs-group": APP["LogGroupName"],
                                                "awslogs-stream-prefix": "app"}})
    same = {"taskRoleArn": APP["TaskRoleArn"], "executionRoleArn": APP["ExecutionRoleArn"]}
    assert app_changes(cfg, "web", {**old, **same}, target, desired=1) == [
        FieldChange("secrets.DB_URL", "arn:old", "arn:new"),
        FieldChange("count", "1", "3"),
    ]
    moved = {**old, "taskRoleArn": "arn:aws:iam::123456789012:role/other",
             "executionRoleArn": APP["ExecutionRoleArn"]}
    assert app_changes(cfg, "web", moved, replace(target, secret_arns={
        "acme/web/database": "arn:old"}), desired=3) == [
        FieldChange("task_role", "arn:aws:iam::123456789012:role/other", APP["TaskRoleArn"])]


def test_a_writable_root_is_a_change_either_way() -> None:
    writable = running(readonlyRootFilesystem=False)
    assert app_changes(example_config(), "web", writable) == [
        FieldChange("read_only_root", "false", "true")]
    cfg = example_config(("health_check: /", "health_check: /\n    read_only_root: false"))
    assert app_changes(cfg, "web", writable) == []
    assert app_changes(cfg, "web", running()) == [
        FieldChange("read_only_root", "true", "false")]


def test_a_command_added_changed_or_removed_is_a_change() -> None:
    cfg = example_config(("health_check: /", "health_check: /\n    command: [gunicorn, app]"))
    assert app_changes(cfg, "web", running()) == [
        FieldChange("command", "(none)", '["gunicorn", "app"]')]
    assert app_changes(cfg, "web", running(command=["gunicorn", "app"])) == []
    assert app_changes(example_config(), "web", running(command=["gunicorn", "app"])) == [
        FieldChange("command", '["gunicorn", "app"]', "(none)")]


def test_a_kind_the_service_does_not_have_yet_is_a_change() -> None:
    starter = starter_text()
    alarms = starter[starter.index("    alarms:"):starter.index("    deploy:")]
    worker = example_config(("    port: 5001\n", "    kind: worker\n"),
                            ("    host: web\n", ""), ("    health_check: /\n", ""),
                            (alarms, ""))
    assert app_changes(worker, "web", running(portMappings=[]), load_balanced=True) == [
        FieldChange("load_balancer", "target group", "(none)")]
    assert app_changes(worker, "web", running(portMappings=[]), load_balanced=False) == []
    assert app_changes(example_config(), "web", running(), load_balanced=False) == [
        FieldChange("load_balancer", "(none)", "target group")]
