"""Eventual consistency: reads that do not yet show what a mutating call just did.

AWS documents both services dockyard waits on as eventually consistent:
- ECS API Reference, "Eventual consistency" (RunTask, CreateService, UpdateService): "the
  results of an Amazon ECS API command you run might not be immediately visible to all
  subsequent commands you run ... For example, if you run DescribeTasks immediately after
  RunTask, the task might not be returned" — DescribeTasks then answers the task as a failure
  with reason MISSING, and DescribeServices shows the service as it was (or not at all).
- CloudFormation: DescribeStacks read right after ExecuteChangeSet or DeleteStack can still
  show the stack as it was before the call (status, outputs); AWS's own CDK waits for a status
  that belongs to the new operation for this reason (aws-cdk "deploy-stack": waitForStackDeploy
  after ExecuteChangeSet).

For ``stale_reads`` reads after such a call, the emulator answers with the state from before
it; the world meanwhile moves on (ECS tasks and deployments keep advancing behind the stale
view), as a lagging replica would.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devtools.strict.calls import Call
from devtools.strict.errors import Response


@dataclass
class _Stale:
    remaining: int
    snapshot: Any  # bytes (a DescribeStacks body) or a service dict, None for "MISSING"


class Consistency:
    """What is stale, for how many more reads."""

    def __init__(self, reads: Callable[[], int]) -> None:
        self._reads = reads
        self._lock = threading.Lock()
        self._stacks: dict[str, _Stale] = {}
        self._tasks: dict[str, int] = {}
        self._services: dict[str, _Stale] = {}
        self._seen_services: dict[str, dict[str, Any]] = {}

    def clear(self) -> None:
        """Forget everything (an account reset)."""
        with self._lock:
            self._stacks.clear()
            self._tasks.clear()
            self._services.clear()
            self._seen_services.clear()

    # -- before a call reaches moto ---------------------------------------------------------------

    def serve_stale(self, call: Call) -> Response | None:
        """A stale DescribeStacks answer, when one is due."""
        if (call.service, call.action) != ("cloudformation", "DescribeStacks"):
            return None
        name = str(call.params.get("StackName", ""))
        with self._lock:
            entry = self._stacks.get(name)
            if entry is None or entry.remaining <= 0:
                return None
            entry.remaining -= 1
            body = entry.snapshot
        return Response(200, [("Content-Type", "text/xml"),
                              ("Content-Length", str(len(body)))], body)

    def before(self, call: Call, describe_stack: Callable[[str], tuple[list[str], bytes]],
               describe_service: Callable[[str, str], dict[str, Any] | None]) -> None:
        """Remember the state a mutating call is about to change."""
        reads = self._reads()
        if reads <= 0:
            return
        if call.service == "cloudformation" and call.action in ("ExecuteChangeSet",
                                                                "DeleteStack"):
            ref = str(call.params.get("StackName") or call.params.get("ChangeSetName", ""))
            keys, body = describe_stack(ref)
            if body:
                with self._lock:
                    entry = _Stale(reads, body)
                    for key in keys:
                        self._stacks[key] = entry
        elif (call.service, call.action) == ("ecs", "UpdateService"):
            arn = _service_arn(call)
            with self._lock:
                seen = self._seen_services.get(arn)
            snapshot = seen if seen is not None else describe_service(
                str(call.params.get("cluster", "default")), str(call.params.get("service")))
            if snapshot is not None:
                with self._lock:
                    self._services[arn] = _Stale(reads, snapshot)

    # -- after moto answered ----------------------------------------------------------------------

    def after(self, call: Call, response: Response) -> Response:
        """Register new stale reads, and make due reads stale."""
        if call.service != "ecs" or response.status != 200:
            return response
        reads = self._reads()
        if call.action == "RunTask" and reads > 0:
            for task in _json(response).get("tasks", []):
                with self._lock:
                    self._tasks[task["taskArn"]] = reads
        elif call.action == "CreateService" and reads > 0:
            arn = _json(response).get("service", {}).get("serviceArn", "")
            with self._lock:
                self._services[arn] = _Stale(reads, None)
        elif call.action == "UpdateService":
            pass
        elif call.action == "DescribeTasks":
            return self._stale_tasks(response)
        elif call.action == "DescribeServices":
            return self._stale_services(call, response)
        return response

    def _stale_tasks(self, response: Response) -> Response:
        document = _json(response)
        kept, failures = [], list(document.get("failures", []))
        with self._lock:
            for task in document.get("tasks", []):
                left = self._tasks.get(task["taskArn"], 0)
                if left > 0:
                    self._tasks[task["taskArn"]] = left - 1
                    failures.append({"arn": task["taskArn"], "reason": "MISSING"})
                else:
                    kept.append(task)
        if len(kept) == len(document.get("tasks", [])):
            return response
        return _with_json(response, {**document, "tasks": kept, "failures": failures})

    def _stale_services(self, call: Call, response: Response) -> Response:
        document = _json(response)
        services, failures = [], list(document.get("failures", []))
        changed = False
        with self._lock:
            for service in document.get("services", []):
                arn = service.get("serviceArn", "")
                entry = self._services.get(arn)
                if entry is not None and entry.remaining > 0:
                    entry.remaining -= 1
                    changed = True
                    if entry.snapshot is None:
                        failures.append({"arn": arn, "reason": "MISSING"})
                    else:
                        services.append(entry.snapshot)
                    continue
                self._seen_services[arn] = service
                services.append(service)
        if not changed:
            return response
        return _with_json(response, {**document, "services": services, "failures": failures})


def _service_arn(call: Call) -> str:
    ref = str(call.params.get("service", ""))
    if ref.startswith("arn:"):
        return ref
    from moto.core.models import DEFAULT_ACCOUNT_ID

    cluster = str(call.params.get("cluster", "default")).rsplit("/", 1)[-1]
    return f"arn:aws:ecs:{call.region}:{DEFAULT_ACCOUNT_ID}:service/{cluster}/{ref}"


def _json(response: Response) -> dict[str, Any]:
    try:
        return dict(json.loads(response.body or b"{}"))
    except ValueError:
        return {}


def _with_json(response: Response, document: dict[str, Any]) -> Response:
    body = json.dumps(document, default=str).encode()
    headers = [(k, v) for k, v in response.headers if k.lower() != "content-length"]
    return Response(response.status, [*headers, ("Content-Length", str(len(body)))], body)
