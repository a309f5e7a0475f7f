"""How ``up``, ``diff``, ``status`` and ``down`` read: text for people, JSON for programs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dockyard.names import Out
from dockyard.stacks.properties import MOST
from dockyard.ui.progress import change_lines
from dockyard.ui.text import columns

if TYPE_CHECKING:
    from dockyard.aws.retained import FileSystem, Repository
    from dockyard.deploy.drift import FieldChange
    from dockyard.stacks.inventory import PlatformStatus
    from dockyard.stacks.platform import Diff
    from dockyard.stacks.properties import PropertyChange
    from dockyard.stacks.results import StackResult
    from dockyard.stacks.teardown import DownPlan, DownResult


def _result_document(r: StackResult) -> dict[str, Any]:
    return {"key": r.key, "name": r.name, "outcome": str(r.outcome), "status": r.status,
            "reason": r.reason,
            # The test rule's header value is the app's pipeline role's to read, not a log's.
            "outputs": {k: v for k, v in r.outputs.items() if k != Out.TEST_HEADER_VALUE},
            "changes": [{"action": c.action, "resource": c.logical_id, "type": c.resource_type,
                         "replacement": c.replacement} for c in r.changes],
            "failures": [{"resource": e.logical_id, "type": e.resource_type, "status": e.status,
                          "reason": e.reason} for e in r.failures]}


def up_text(results: list[StackResult]) -> str:
    """The outcome of ``up``: one line per stack, then the URLs."""
    lines = columns([(r.name, str(r.outcome), r.status) for r in results], indent=0)
    urls = [(r.key, r.outputs[Out.URL]) for r in results if Out.URL in r.outputs]
    if urls:
        lines += ["", *columns(urls, indent=0)]
    return "\n".join(lines)


def up_document(results: list[StackResult]) -> dict[str, Any]:
    """The outcome of ``up`` as one JSON document."""
    return {"ok": all(r.ok for r in results), "stacks": [_result_document(r) for r in results],
            "endpoints": {r.key: r.outputs[Out.URL] for r in results if Out.URL in r.outputs}}


def diff_text(diffs: list[Diff], apps: dict[str, list[FieldChange]] | None = None,
              undeployed: Sequence[str] = ()) -> str:
    """Each stack's changes, or that it has none; then each deployed app's task definition
    against what the next deploy would register, and the apps with no service yet."""
    lines: list[str] = []
    for d in diffs:
        if d.action == "none":
            lines.append(f"{d.name}: no changes")
            continue
        what = "would be created" if d.action == "create" else "would change"
        lines.append(f"{d.name}: {what} ({len(d.changes)} resource"
                     f"{'s' * (len(d.changes) != 1)})")
        for change, line in zip(d.changes, change_lines(d.changes), strict=True):
            lines.append(line)
            lines += _property_lines(d.details.get(change.logical_id, []))
        if d.parameters:
            lines.append("  parameters:")
            lines += _property_lines(d.parameters)
    for app, changes in (apps or {}).items():
        if not changes:
            lines.append(f"app {app}: the next deploy changes nothing but the image")
            continue
        lines.append(f"app {app}: the next deploy changes {len(changes)} field"
                     f"{'s' * (len(changes) != 1)} of the running service")
        lines += [f"  {c.field}: {c.before} \u2192 {c.after}" for c in changes]
    for app in undeployed:
        lines.append(f"app {app}: no service yet; its first `dockyard deploy {app} --image ...` "
                     "creates it as dockyard.yml says")
    changed = sum(1 for d in diffs if d.action != "none")
    drifted = sum(1 for changes in (apps or {}).values() if changes)
    summary = [f"{changed} of {len(diffs)} stacks would change"] if changed else []
    summary += [f"{drifted} app{'s' * (drifted != 1)} would change at the next deploy"] \
        if drifted else []
    lines += ["", "; ".join(summary) + "." if summary else "Nothing would change."]
    return "\n".join(lines)


def _property_lines(changes: list[PropertyChange]) -> list[str]:
    shown_ = [f"      {c.path}: {c.before} \u2192 {c.after}" for c in changes[:MOST]]
    if len(changes) > MOST:
        shown_.append(f"      … and {len(changes) - MOST} more")
    return shown_


def diff_document(diffs: list[Diff], apps: dict[str, list[FieldChange]] | None = None,
                  undeployed: Sequence[str] = ()) -> dict[str, Any]:
    """The diff as one JSON document."""
    apps = apps or {}
    return {"changes": any(d.action != "none" for d in diffs) or any(apps.values()),
            "stacks": [{"key": d.key, "name": d.name, "action": d.action,
                        "changes": [{"action": c.action, "resource": c.logical_id,
                                     "type": c.resource_type, "replacement": c.replacement,
                                     "properties": [p.document() for p in
                                                    d.details.get(c.logical_id, [])]}
                                    for c in d.changes],
                        "parameters": [p.document() for p in d.parameters]} for d in diffs],
            "apps": [{"app": app, "changes": [c.document() for c in changes]}
                     for app, changes in apps.items()],
            "undeployed": list(undeployed)}


def status_text(state: PlatformStatus) -> str:
    """Stacks, URLs and retained data."""
    lines = [f"dockyard {state.project} in {state.region} (account {state.account})", "",
             "Stacks"]
    lines += columns([(s.name, s.status or "not deployed",
                       s.updated.strftime("%Y-%m-%d %H:%M UTC") if s.updated else "",
                       "" if s.in_config else "no longer in dockyard.yml")
                      for s in state.stacks])
    if state.endpoints:
        lines += ["", "Endpoints", *columns(sorted(state.endpoints.items()))]
    lines += ["", "Data kept when the stacks are deleted", *_data_lines(state.file_systems,
                                                                         state.repositories)]
    return "\n".join(lines)


def status_document(state: PlatformStatus) -> dict[str, Any]:
    """The status as one JSON document."""
    return {"project": state.project, "region": state.region, "account": state.account,
            "stacks": [{"key": s.key, "name": s.name, "status": s.status or None,
                        "updated": s.updated.isoformat() if s.updated else None,
                        "outputs": s.outputs, "in_config": s.in_config} for s in state.stacks],
            "endpoints": state.endpoints, **_data_document(state.file_systems,
                                                          state.repositories)}


def down_preview(plan: DownPlan, purge: bool) -> list[str]:
    """What ``down`` is about to do, for the confirmation prompt (stderr)."""
    lines = ["Stacks to delete, in this order (each app's service first):",
             *columns([(s.name, s.status) for s in plan.stacks])]
    verb = "Deleted too (--purge)" if purge else "Kept"
    lines += [f"{verb}:", *_data_lines(plan.file_systems, plan.repositories)]
    if plan.log_bucket:
        lines.append(f"  S3 {plan.log_bucket}  access logs")
    return lines


def down_text(result: DownResult, region: str) -> str:
    """What ``down`` deleted, kept or purged, and how to delete what is kept (commands that
    work when pasted: each names the region)."""
    lines = columns([*((f"service {name}", "deleted") for name in result.deleted_services),
                     *((f"task {task}", "stopped") for task in result.stopped_tasks),
                     *((r.name, str(r.outcome)) for r in result.results)], indent=0)
    if result.kept_file_systems or result.kept_repositories:
        lines += ["", "Kept (your data):", *_data_lines(result.kept_file_systems,
                                                        result.kept_repositories)]
        lines += ["", "To delete them: dockyard down --purge, or"]
        lines += [f"  aws efs delete-file-system --region {region} "
                  f"--file-system-id {fs.file_system_id}" for fs in result.kept_file_systems]
        lines += [f"  aws ecr delete-repository --region {region} --repository-name {r.name} "
                  "--force" for r in result.kept_repositories]
        if result.kept_file_systems:
            lines.append("  (EFS backups stay in the vault aws/efs/automatic-backup-vault "
                         "until you delete them)")
    if result.kept_log_bucket:
        lines += ["", f"Kept: the access logs in s3://{result.kept_log_bucket} (each file "
                      "expires after access_logs.keep_days; dockyard down --purge deletes the "
                      "bucket)"]
    if result.purged:
        lines += ["", "Purged:", *(f"  {p}" for p in result.purged)]
    lines += [f"warning: {w}" for w in result.warnings]
    return "\n".join(lines)


def down_document(result: DownResult) -> dict[str, Any]:
    """The outcome of ``down`` as one JSON document."""
    return {"ok": result.ok, "services_deleted": result.deleted_services,
            "tasks_stopped": result.stopped_tasks,
            "stacks": [_result_document(r) for r in result.results],
            "kept": {**_data_document(result.kept_file_systems, result.kept_repositories),
                     "log_bucket": result.kept_log_bucket},
            "purged": result.purged, "warnings": result.warnings}


def _data_lines(file_systems: list[FileSystem], repositories: list[Repository]) -> list[str]:
    rows = [(f"EFS {fs.file_system_id}", fs.name, f"{fs.size_bytes / 2**20:.1f} MiB")
            for fs in file_systems]
    rows += [(f"ECR {r.name}", "", f"{r.image_count} image{'s' * (r.image_count != 1)}")
             for r in repositories]
    return columns(rows) if rows else ["  (none)"]


def _data_document(file_systems: list[FileSystem],
                   repositories: list[Repository]) -> dict[str, Any]:
    return {"file_systems": [{"id": f.file_system_id, "name": f.name, "bytes": f.size_bytes}
                             for f in file_systems],
            "repositories": [{"name": r.name, "images": r.image_count} for r in repositories]}
