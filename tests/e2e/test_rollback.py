"""``rollback`` twice, and ``rollback --now`` of a canary app: the real CLI, as a pipeline step,
against the strict emulator (its ECS plays deployments in virtual time, factor 30)."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.e2e.conftest import Account, Dockyard
from tests.e2e.test_deploy import REGISTRY, image_of, live, push
from tests.e2e.test_progressive import Requests, _outputs, _progressive, _stages, _weights


def _deployments(account: Account) -> list[dict[str, Any]]:
    """ECS's record of web's service deployments, newest first."""
    return list(account.client("ecs").list_service_deployments(
        cluster="acme", service="web")["serviceDeployments"])


def _record(account: Account, arn: str) -> dict[str, Any]:
    (found,) = account.client("ecs").describe_service_deployments(
        serviceDeploymentArns=[arn])["serviceDeployments"]
    return dict(found)


def _strategy(account: Account) -> str:
    (service,) = account.client("ecs").describe_services(cluster="acme",
                                                         services=["web"])["services"]
    return str(service["deploymentConfiguration"]["strategy"])


def _healthy(account: Account, group: str) -> list[str]:
    health = account.client("elbv2").describe_target_health(
        TargetGroupArn=group)["TargetHealthDescriptions"]
    return [h["Target"]["Id"] for h in health if h["TargetHealth"]["State"] == "healthy"]


def test_a_second_rollback_is_a_no_op_that_says_so(dockyard: Dockyard,
                                                   account: Account) -> None:
    done = dockyard("up", "--yes", "--only", "builder", "--only", "edge", "--only", "app-web")
    assert done.returncode == 0, done.stderr
    for tag in ("v1", "v2"):
        deployed = dockyard("deploy", "web", "--image", f"{REGISTRY}/acme/web@{push(account, tag)}",
                            build="web/main")
        assert deployed.returncode == 0, deployed.stderr
    back = dockyard("rollback", "web", build="web/main")
    assert back.returncode == 0, back.stderr
    assert "from acme-web:2 to acme-web:1" in back.stderr
    service = live(account)
    assert service is not None and str(service["taskDefinition"]).endswith("acme-web:1")
    count = len(_deployments(account))

    again = dockyard("rollback", "web", "-o", "json", build="web/main")  # a retried CI step
    assert again.returncode == 0, again.stderr
    assert "web is already on acme-web:1, rolled back from acme-web:2 at " in again.stderr
    assert ": nothing to do" in again.stderr
    document = json.loads(again.stdout)
    assert (document["ok"], document["outcome"], document["revision"]) == \
        (True, "unchanged", "acme-web:1")
    events = dockyard("rollback", "web", "--events", build="web/main")  # someone else, on call
    assert events.returncode == 0, events.stderr
    summary = json.loads(events.stdout.splitlines()[-1])
    assert (summary["event"], summary["outcome"]) == ("summary", "unchanged")
    service = live(account)
    assert service is not None and str(service["taskDefinition"]).endswith("acme-web:1")
    assert len(_deployments(account)) == count, "no deployment started"


def test_rollback_now_of_a_canary_app_is_a_rolling_one_that_keeps_traffic_served(
        dockyard: Dockyard, account: Account, tmp_path: Path) -> None:
    v1 = _progressive(dockyard, account, tmp_path)  # canary, 2 min canary bake, smoke test
    v2 = f"{REGISTRY}/acme/web@{push(account, 'v2')}"
    assert dockyard("deploy", "web", "--image", v2, build="web/main").returncode == 0
    assert _weights(account, "ProductionRuleArn") == {"blue": 0, "green": 100}
    count = len(_deployments(account))

    with Requests(account) as requests:
        back = dockyard("rollback", "web", "--now", "--events", build="web/main")
    assert back.returncode == 0, back.stderr
    events = [json.loads(line) for line in back.stdout.splitlines()]
    assert [e for e in events if e["event"] in ("stage", "traffic", "hook")] == [], \
        "no test traffic, canary share, smoke-test pause or bake"
    assert events[-1]["outcome"] == "completed" and events[-1]["revision"] == "acme-web:1"
    notes = " ".join(str(e.get("message")) for e in events if e["event"] == "note")
    assert "production is on acme-app-web-Altern" in notes, "the live group goes first"
    (latest, *_) = _deployments(account)
    assert len(_deployments(account)) == count + 1
    record = _record(account, latest["serviceDeploymentArn"])
    took = (_when(record["finishedAt"]) - _when(record["startedAt"])).total_seconds()
    # Tasks start (60 s), pass the checks (2 x 10 s), the old ones drain (30 s); a canary
    # would also hold 12.5% for its 2 min bake and bake 1 min more.
    assert took < 2 * 60, record
    assert "lifecycleStage" not in record
    service = live(account)
    assert service is not None and image_of(account, str(service["taskDefinition"])) == v1
    assert _strategy(account) == "ROLLING"
    assert _weights(account, "ProductionRuleArn") == {"blue": 0, "green": 100}
    assert _healthy(account, _outputs(account)["AlternateTargetGroupArn"]), \
        "production forwards to the group the rolled-back tasks are in"
    assert requests.refused == 0, requests.refusals[:5]
    assert requests.answered > 0

    # A second one does nothing; `up` finds nothing to put back; the next deploy is a canary.
    again = dockyard("rollback", "web", "--now", build="web/main")
    assert again.returncode == 0 and "web is already on acme-web:1, rolled back from " \
        "acme-web:2" in again.stderr, again.stderr
    assert len(_deployments(account)) == count + 1
    up = dockyard("up", "--yes", "--only", "app-web")
    assert up.returncode == 0, up.stderr
    assert _weights(account, "ProductionRuleArn") == {"blue": 0, "green": 100}
    v3 = f"{REGISTRY}/acme/web@{push(account, 'v3')}"
    with Requests(account) as requests:
        forward = dockyard("deploy", "web", "--image", v3, build="web/main")
    assert forward.returncode == 0, forward.stderr
    assert "PRODUCTION_TRAFFIC_SHIFT" in _stages(forward.stderr), "a canary again"
    assert _strategy(account) == "CANARY", "the next deploy put the app's strategy back"
    assert _weights(account, "ProductionRuleArn") == {"blue": 100, "green": 0}
    assert requests.refused == 0, requests.refusals[:5]


def test_rollback_now_stops_a_canary_under_way_and_its_traffic_goes_back(
        dockyard: Dockyard, account: Account, tmp_path: Path) -> None:
    v1 = _progressive(dockyard, account, tmp_path, smoke=None)
    path = tmp_path / "dockyard.yml"  # a canary share held long enough to look at it
    path.write_text(path.read_text().replace("canary_bake_minutes: 2", "canary_bake_minutes: 30"))
    v2 = f"{REGISTRY}/acme/web@{push(account, 'v2')}"
    started = dockyard("deploy", "web", "--image", v2, "--no-wait", build="web/main")
    assert started.returncode == 0, started.stderr
    deadline = time.monotonic() + 60
    while _weights(account, "ProductionRuleArn") != {"blue": 88, "green": 12} and \
            time.monotonic() < deadline:  # ECS's rounding of the canary's 12.5%
        time.sleep(0.2)
    assert _weights(account, "ProductionRuleArn") == {"blue": 88, "green": 12}
    (canary, *_) = _deployments(account)
    for _ in range(5):  # on call, one looks first (DescribeServices catches up meanwhile)
        shown = json.loads(dockyard("status", "web", "-o", "json", build="web/main").stdout)
        if shown["service"]["ongoing"]:
            break
    assert shown["service"]["ongoing"]["stage"] == "PRODUCTION_TRAFFIC_SHIFT", shown

    back = dockyard("rollback", "web", "--now", build="web/main")
    assert back.returncode == 0, back.stderr
    assert "stopping the canary deployment of acme-web:2 under way" in back.stderr
    assert _record(account, canary["serviceDeploymentArn"])["status"] == "ROLLBACK_SUCCESSFUL"
    assert _weights(account, "ProductionRuleArn") == {"blue": 100, "green": 0}
    assert _healthy(account, _outputs(account)["TargetGroupArn"])
    service = live(account)
    assert service is not None and image_of(account, str(service["taskDefinition"])) == v1


def _when(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
