"""What the emulator assumes of ECS's time and target groups, checked on a real account's first
run: each test here is named by a row of docs/aws-assumptions.md. They record what they see
(stage by stage, with the wall's times) on stderr, so a run with ``-s`` also gives the figures
the emulator's durations were set from."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.live.conftest import LivePlatform

pytestmark = pytest.mark.live
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "web"
POLL = 5.0


def _cluster(live: LivePlatform) -> str:
    return live.name


def _built(live: LivePlatform, tag: str) -> str:
    """The example app built into the canary app's repository under ``tag``."""
    context = live.folder / f"canary-{tag}"
    shutil.copytree(EXAMPLE, context, dirs_exist_ok=True)
    (context / "VERSION").write_text(tag)  # each tag its own digest
    done = live.run("build", "--repo", "canary", "--tag", tag, str(context))
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def _latest(ecs: Any, cluster: str, service: str) -> dict[str, Any]:
    (brief, *_) = ecs.list_service_deployments(cluster=cluster, service=service)[
        "serviceDeployments"]
    (record,) = ecs.describe_service_deployments(
        serviceDeploymentArns=[brief["serviceDeploymentArn"]])["serviceDeployments"]
    return dict(record)


def _watch(ecs: Any, arn: str, timeout: float) -> tuple[dict[str, Any], dict[str, float]]:
    """Poll the deployment ``arn`` to its end: its last record, and how long (wall seconds)
    each lifecycle stage was seen for."""
    began, last = time.monotonic(), ""
    seen: dict[str, float] = {}
    since = began
    while time.monotonic() - began < timeout:
        (record,) = ecs.describe_service_deployments(serviceDeploymentArns=[arn])[
            "serviceDeployments"]
        stage = record.get("lifecycleStage", "")
        now = time.monotonic()
        if stage != last:
            if last:
                seen[last] = seen.get(last, 0.0) + now - since
            print(f"  {now - began:7.0f} s  {stage or '-':32} {record['status']}",
                  file=sys.stderr)
            last, since = stage, now
        if record["status"] not in ("PENDING", "IN_PROGRESS", "ROLLBACK_REQUESTED",
                                    "ROLLBACK_IN_PROGRESS", "STOP_REQUESTED"):
            if last:
                seen[last] = seen.get(last, 0.0) + now - since
            return record, seen
        time.sleep(POLL)
    pytest.fail(f"the deployment {arn} did not end within {timeout:g} s")


def test_a_canary_holds_each_stage_for_its_configured_time(live: LivePlatform) -> None:
    """docs/aws-assumptions.md: task start, health checks, canary bake, bake, clean-up; the
    infrastructure role's documented trust is enough for ECS."""
    first = live.run("deploy", "canary", "--image", _built(live, "one"))
    assert first.returncode == 0, first.stderr[-3000:]
    ecs: Any = live.client("ecs")
    started = live.run("deploy", "canary", "--image", _built(live, "two"), "--no-wait")
    assert started.returncode == 0, started.stderr[-3000:]
    record, seen = _watch(ecs, _latest(ecs, _cluster(live), "canary")["serviceDeploymentArn"],
                          3600)
    print(f"canary stages (wall seconds): {seen}", file=sys.stderr)
    assert record["status"] == "SUCCESSFUL", record
    assert seen.get("PRODUCTION_TRAFFIC_SHIFT", 0) >= 2 * 60 - 2 * POLL, "the canary bake"
    assert seen.get("BAKE_TIME", 0) >= 60 - 2 * POLL, "the final bake"
    # The emulator plays task start as 60 s and the target group's checks as 2 x 10 s.
    start = seen.get("SCALE_UP", 0) + seen.get("POST_SCALE_UP", 0)
    assert 20 <= start <= 600, f"the new revision started and was healthy in {start:.0f} s"


def test_an_unanswered_pause_hook_times_out_with_its_action(live: LivePlatform) -> None:
    """docs/aws-assumptions.md: a PAUSE hook nobody answers times out (TIMED_OUT) and ECS
    takes its action, here ROLLBACK."""
    ecs: Any = live.client("ecs")
    (service,) = ecs.describe_services(cluster=_cluster(live), services=["canary"])["services"]
    settings = dict(service["deploymentConfiguration"])
    settings["lifecycleHooks"] = [{"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"],
                                   "timeoutConfiguration": {"timeoutInMinutes": 1,
                                                            "action": "ROLLBACK"}}]
    ecs.update_service(cluster=_cluster(live), service="canary", forceNewDeployment=True,
                       deploymentConfiguration=settings)
    record, _ = _watch(ecs, _latest(ecs, _cluster(live), "canary")["serviceDeploymentArn"],
                       1800)
    print(f"hook: {record.get('lifecycleHookDetails')}; {record.get('rollback')}",
          file=sys.stderr)
    assert [h["status"] for h in record["lifecycleHookDetails"]] == ["TIMED_OUT"]
    assert record["status"] == "ROLLBACK_SUCCESSFUL", record


def test_the_production_rule_forwards_to_the_group_with_the_tasks(live: LivePlatform) -> None:
    """docs/aws-assumptions.md: after a canary, where ECS leaves the production rule, and what
    DescribeServices and the revision's resolvedConfiguration say of the groups."""
    ecs: Any = live.client("ecs")
    elb: Any = live.client("elbv2")
    (service,) = ecs.describe_services(cluster=_cluster(live), services=["canary"])["services"]
    (balancer,) = service["loadBalancers"]
    advanced = balancer["advancedConfiguration"]
    (rule,) = elb.describe_rules(RuleArns=[advanced["productionListenerRule"]])["Rules"]
    weights = {g["TargetGroupArn"]: g["Weight"]
               for g in rule["Actions"][0]["ForwardConfig"]["TargetGroups"]}
    healthy = {arn: sum(d["TargetHealth"]["State"] == "healthy" for d in
                        elb.describe_target_health(TargetGroupArn=arn)[
                            "TargetHealthDescriptions"]) for arn in weights}
    revision = ecs.describe_service_revisions(
        serviceRevisionArns=[_latest(ecs, _cluster(live), "canary")["targetServiceRevision"][
            "arn"]])["serviceRevisions"][0]
    print(f"service groups: primary {balancer['targetGroupArn']}, alternate "
          f"{advanced['alternateTargetGroupArn']}; rule weights {weights}; healthy targets "
          f"{healthy}; revision resolvedConfiguration {revision.get('resolvedConfiguration')}",
          file=sys.stderr)
    (serving,) = [arn for arn, weight in weights.items() if weight == 100]
    assert healthy[serving] >= 1, "production is forwarded to the group with the tasks"
