"""How a build's result reads as JSON (text mode prints only the image reference)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dockyard.builds.runner import BuildResult


def result_document(result: BuildResult) -> dict[str, Any]:
    """One JSON document: the image and everything a pipeline may want about the build."""
    return {
        "ok": result.exit_code == 0,
        "exit_code": result.exit_code,
        "error": result.error,
        "build_id": result.build_id,
        "image": result.destination.uri,
        "digest": result.digest,
        "digest_source": result.digest_source or None,
        "ref": result.ref,
        "tags": [f"build-{result.build_id}", *result.tags],
        "platforms": [{"platform": p.platform, "digest": p.digest, "task_arn": p.task_arn,
                       "capacity": p.capacity, "seconds": round(p.seconds, 1)}
                      for p in result.platforms],
        "task_arns": [arn for o in result.outcomes for arn in (o.attempts or [o.task_arn])
                      if arn],
        "tasks": [{"arch": o.arch, "status": str(o.status), "exit_code": o.exit_code,
                   "stop_code": o.stop_code, "reason": o.reason, "task_arn": o.task_arn,
                   "capacity": o.capacity, "log_stream": o.log_stream}
                  for o in result.outcomes],
        "duration_seconds": round(result.seconds, 1),
        "log_group": result.log_group,
        "log_streams": [o.log_stream for o in result.outcomes if o.log_stream],
        "estimated_cost_usd": result.cost_usd,
        "source": {"kind": result.source.kind, "description": result.source.description,
                   "revision": result.source.revision, "url": result.source.url,
                   "uploaded_bytes": result.source.uploaded_bytes},
    }
