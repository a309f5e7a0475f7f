"""Faults between the CLI and AWS, injected by the strict emulator's network (a proxy between the
two, seeded): throttling, 5xx and resets before the request; answers lost, cut off, shortened
or emptied after the account acted. For up, build, deploy and down the verdict (the exit code)
must match what is in the account, nothing may be left running, and nothing may surface as
"this is a bug".

DOCKYARD_FAULT_MATRIX=FILE writes the matrix (fault x command: exit code, verdict, orphans, the
faults played) as JSON, for the issue's closing note.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from devtools import moto_server

from tests.e2e.conftest import Account, Dockyard

REGISTRY = "123456789012.dkr.ecr.ap-southeast-2.amazonaws.com"
STACKS = ("acme-builder", "acme-edge", "acme-app-web")
FAULTS: dict[str, dict[str, Any]] = {
    "throttle/5xx": {"fault_rate": 0.2},
    "lost": {"answer_fault": "lost", "answer_fault_rate": 0.12},
    "cut": {"answer_fault": "cut", "answer_fault_rate": 0.12},
    "short": {"answer_fault": "short", "answer_fault_rate": 0.12},
    "empty": {"answer_fault": "empty", "answer_fault_rate": 0.12},
}


def stack_states(account: Account) -> dict[str, str]:
    cfn = account.client("cloudformation")
    return {s["StackName"]: s["StackStatus"] for s in cfn.describe_stacks()["Stacks"]}


def running_tasks(account: Account) -> int:
    """Tasks dockyard started itself (builds, one-offs) that still run; a service's own
    tasks (group service:NAME) are meant to."""
    ecs = account.client("ecs")
    if not ecs.list_clusters()["clusterArns"]:
        return 0
    arns = ecs.list_tasks(cluster="acme")["taskArns"]
    tasks = ecs.describe_tasks(cluster="acme", tasks=arns)["tasks"] if arns else []
    return sum(1 for task in tasks if task["lastStatus"] != "STOPPED"
               and not task.get("group", "").startswith("service:"))


def deployed_image(account: Account) -> str | None:
    ecs = account.client("ecs")
    found = [s for s in ecs.describe_services(cluster="acme", services=["web"])["services"]
             if s["status"] == "ACTIVE"]
    if not found:
        return None
    (primary,) = [d for d in found[0]["deployments"] if d["status"] == "PRIMARY"]
    if primary.get("rolloutState") != "COMPLETED":
        return None
    definition = ecs.describe_task_definition(taskDefinition=primary["taskDefinition"])
    return str(definition["taskDefinition"]["containerDefinitions"][0]["image"])


def judged(name: str, done: Any, *, happened: bool, orphans: int, played: int
           ) -> dict[str, Any]:
    """One cell: the verdict is right when exit 0 goes with the thing having happened, and a
    failure is one the user can act on (an answer that could not be used, named)."""
    err = done.stderr
    assert "this is a bug" not in err and "Traceback" not in err, f"{name}: {err}"
    if done.returncode == 0:
        assert happened, f"{name} exited 0 but did not happen: {err}"
    else:
        assert done.returncode == 1 and "AWS's answer to" in err, f"{name}: {err}"
    assert orphans == 0, f"{name} left {orphans} task(s) running"
    return {"exit": done.returncode, "verdict": "right", "happened": happened,
            "orphans": orphans, "faults": played,
            "error": next((line for line in err.splitlines() if line.startswith("error:")), "")}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_faults_never_give_a_wrong_verdict_or_an_orphan(
        dockyard: Dockyard, account: Account, tmp_path: Path, fault: str) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . /app\n")
    (app / "main.py").write_text("print('hello')\n")
    profile = account.emulator.profile
    for name, value in FAULTS[fault].items():
        setattr(profile, name, value)
    profile.reseed()
    network = account.emulator.network
    assert network is not None

    def played() -> int:
        return len(network.damaged) + len(profile.played)

    row: dict[str, Any] = {}
    seen = [0]

    def cell(command: str, done: Any, *, happened: bool) -> None:
        row[command] = judged(f"{fault}: {command}", done, happened=happened,
                              orphans=running_tasks(account), played=played() - seen[0])
        seen[0] = played()

    up = dockyard("up", "--yes", "--only", "builder", "--only", "edge", "--only", "app-web")
    cell("up", up, happened=all(stack_states(account).get(s) in
                                ("CREATE_COMPLETE", "UPDATE_COMPLETE") for s in STACKS))
    if up.returncode == 0:
        build = dockyard("build", "--repo", "web", "app", build="web/main")
        ref = build.stdout.strip()
        pushed = build.returncode == 0 and ref.startswith(f"{REGISTRY}/acme/web@sha256:")
        cell("build", build, happened=pushed or build.returncode != 0)
        if pushed:
            deploy = dockyard("deploy", "web", "--image", ref, build="web/main")
            cell("deploy", deploy, happened=deployed_image(account) == ref
                 if deploy.returncode == 0 else True)
    down = dockyard("down", "--yes")
    cell("down", down, happened=not any(name.startswith("acme-") for name in
                                        stack_states(account)))
    row["faults played"] = played()
    target = os.environ.get("DOCKYARD_FAULT_MATRIX")
    if target:
        existing = json.loads(Path(target).read_text()) if Path(target).exists() else {}
        Path(target).write_text(json.dumps({**existing, fault: row}, indent=1))
    moto_server.task_steps(1)


def test_a_build_returns_when_its_log_cannot_be_read(dockyard: Dockyard, account: Account,
                                                    tmp_path: Path) -> None:
    """GetLogEvents throttled every time: the log is skipped, the task's status is still
    checked, and the build ends with its image, not never."""
    up = dockyard("up", "--yes", "--only", "builder", "--only", "edge", "--only", "app-web")
    assert up.returncode == 0, up.stderr
    app = tmp_path / "app"
    app.mkdir()
    (app / "Dockerfile").write_text("FROM python:3.12-slim\n")
    account.emulator.profile.throttled = frozenset({"logs:GetLogEvents"})
    started = time.monotonic()
    build = dockyard("build", "--repo", "web", "app", build="web/main")
    assert build.returncode == 0, build.stderr
    assert build.stdout.strip().startswith(f"{REGISTRY}/acme/web@sha256:")
    assert "INFO[0010] Pushed" not in build.stderr  # the log was never read
    assert time.monotonic() - started < 120
    assert account.emulator.profile.played.count("throttle") >= 3
