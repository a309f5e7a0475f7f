"""apps.<name>.scale and ``dockyard scale`` on the strict emulator, whose Application Auto
Scaling tracks targets on the virtual clock (devtools/ecs/scaling.py): the load is what the
test sets, as traffic would."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from devtools.ecs import CLOCK, scaling

from tests.e2e.conftest import Account, Dockyard
from tests.e2e.test_deploy import REGISTRY, push

SCALED = ("    count: 1\n", "    scale: {min: 1, max: 4, cpu_percent: 50}\n")


def service(account: Account) -> dict[str, Any]:
    found = account.client("ecs").describe_services(cluster="acme", services=["web"])
    return dict(found["services"][0])


def registered(account: Account) -> list[tuple[int, int]]:
    targets = account.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs")["ScalableTargets"]
    return [(t["MinCapacity"], t["MaxCapacity"]) for t in targets
            if t["ResourceId"] == "service/acme/web"]


@contextmanager
def frozen() -> Iterator[None]:
    """Virtual time moves only as the test moves it (CLOCK.advance), not with the wall."""
    CLOCK.drive(lambda: 0.0)
    try:
        yield
    finally:
        CLOCK.drive(None)


def after(account: Account, minutes: float) -> dict[str, Any]:
    """The service once ``minutes`` more have passed (reading it plays them)."""
    CLOCK.advance(minutes * 60)
    return service(account)


def settle(account: Account, minutes: float) -> dict[str, Any]:
    """The service ``minutes`` on, once the tasks the scaler asked for have started."""
    after(account, minutes)
    return after(account, 1.5)


@pytest.fixture()
def scaled(dockyard: Dockyard, tmp_path: Path) -> Dockyard:
    config = tmp_path / "dockyard.yml"
    config.write_text(config.read_text().replace(*SCALED, 1))
    return dockyard


def test_a_scaled_app_scales_out_and_back_in_and_deploys_leave_its_count(
        scaled: Dockyard, account: Account) -> None:
    first_up = scaled("up", "--yes", "--only", "builder", "--only", "edge", "--only", "app-web")
    assert first_up.returncode == 0, first_up.stderr
    assert "web scales 1-4 once its service exists" in first_up.stderr
    assert registered(account) == [], "RegisterScalableTarget refuses a service not there yet"
    v1 = push(account, "v1")
    assert scaled("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v1}",
                  build="web/main").returncode == 0
    assert service(account)["desiredCount"] == 1, "a new service starts at scale.min"
    waiting = scaled("status", "web")
    assert "Scaling 1-4 tasks once registered: `dockyard up --only app-web`" in waiting.stdout
    second_up = scaled("up", "--yes", "--only", "app-web")
    assert second_up.returncode == 0, second_up.stderr
    assert registered(account) == [(1, 4)]

    with frozen():
        # one task at 90% CPU against a 50% target: out to ceil(90 / 50) = 2 after 3 minutes
        scaling.set_load("acme", "web", cpu=90)
        assert after(account, 2)["desiredCount"] == 1, "not before the alarm's 3 minutes"
        out = settle(account, 2)
        assert (out["desiredCount"], out["runningCount"]) == (2, 2)
        # 300% over 2 tasks is 150% each: out to ceil(2 * 150 / 50) = 6, held at max 4
        scaling.set_load("acme", "web", cpu=300)
        assert settle(account, 5)["desiredCount"] == 4

    # a deploy sends no count: the scaler's 4 stand
    v2 = push(account, "v2")
    deployed = scaled("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v2}", build="web/main")
    assert deployed.returncode == 0, deployed.stderr
    assert service(account)["desiredCount"] == 4
    status = json.loads(scaled("status", "web", "--output", "json").stdout)
    assert status["service"]["scaling"] == {"configured": {"min": 1, "max": 4},
                                            "registered": {"min": 1, "max": 4}}
    drift = json.loads(scaled("diff", "--output", "json").stdout)
    assert all(c["field"] != "count" for a in drift["apps"] for c in a["changes"])

    with frozen():
        # quiet: 20% over 4 tasks is 5% each, below 90% of the target: in to 1 after 15 min
        scaling.set_load("acme", "web", cpu=20)
        assert after(account, 10)["desiredCount"] == 4, "scale-in waits 15 minutes"
        back = settle(account, 10)
        assert (back["desiredCount"], back["runningCount"]) == (1, 1)


def test_scale_changes_the_range_until_the_next_up(scaled: Dockyard, account: Account) -> None:
    assert scaled("up", "--yes", "--only", "builder", "--only", "edge",
                  "--only", "app-web").returncode == 0
    v1 = push(account, "v1")
    assert scaled("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v1}").returncode == 0
    assert scaled("up", "--yes", "--only", "app-web").returncode == 0

    narrowed = scaled("scale", "web", "--min", "2", "--max", "3", "--output", "json")

    assert narrowed.returncode == 0, narrowed.stderr
    document = json.loads(narrowed.stdout)
    assert (document["min"], document["max"], document["desired"], document["running"]) == \
        (2, 3, 2, 2), "registering clamps the count into the range, and it waits for the tasks"
    assert "until the next `dockyard up`" in narrowed.stderr
    shown = scaled("scale", "web")
    assert "dockyard.yml says 1-4; the next `up` sets that" in shown.stdout
    drift = scaled("diff", "--output", "json")
    assert drift.returncode == 10, drift.stderr
    (web,) = [a for a in json.loads(drift.stdout)["apps"] if a["app"] == "web"]
    assert {"field": "scale", "before": "2-3", "after": "1-4"} in web["changes"]
    outside = scaled("scale", "web", "5")
    assert outside.returncode == 2 and "outside web's scaling range 2-3" in outside.stderr
    assert scaled("scale", "web", "3").returncode == 0
    assert service(account)["desiredCount"] == 3

    again = scaled("up", "--yes", "--only", "app-web")
    assert again.returncode == 0, again.stderr
    assert "web's range was 2-3; dockyard.yml says 1-4: set" in again.stderr
    assert registered(account) == [(1, 4)]


def test_a_fixed_count_changes_until_the_next_deploy(dockyard: Dockyard,
                                                     account: Account) -> None:
    assert dockyard("up", "--yes", "--only", "builder", "--only", "edge",
                    "--only", "app-web").returncode == 0
    v1 = push(account, "v1")
    assert dockyard("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v1}").returncode == 0

    bigger = dockyard("scale", "web", "3")

    assert bigger.returncode == 0, bigger.stderr
    assert "web: 1 -> 3 tasks until the next deploy" in bigger.stderr
    assert "3 of 3 tasks running (dockyard.yml says 1; the next deploy sets that)" in \
        bigger.stdout
    ranged = dockyard("scale", "web", "--max", "5")
    assert ranged.returncode == 2 and "apps.web has a fixed count, not scale" in ranged.stderr
    assert dockyard("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v1}").returncode == 0
    assert service(account)["desiredCount"] == 1


def test_only_people_change_the_range(scaled: Dockyard, account: Account) -> None:
    """The app's pipeline role reads its range (status) and may not register one, nor may a
    pipeline build run `dockyard scale`."""
    assert scaled("up", "--yes", "--only", "builder", "--only", "edge",
                  "--only", "app-web").returncode == 0
    v1 = push(account, "v1")
    assert scaled("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v1}").returncode == 0
    assert scaled("up", "--yes", "--only", "app-web").returncode == 0
    strict = account.emulator
    pipeline = strict.client("application-autoscaling",
                             strict.session(account.pipeline_role("web")))
    assert pipeline.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    with pytest.raises(ClientError) as refused:
        pipeline.register_scalable_target(
            ServiceNamespace="ecs", ResourceId="service/acme/web",
            ScalableDimension="ecs:service:DesiredCount", MinCapacity=1, MaxCapacity=100)
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "application-autoscaling:RegisterScalableTarget" in \
        refused.value.response["Error"]["Message"]
    build = scaled("scale", "web", "2", build="web/main")
    assert build.returncode == 2 and "dockyard scale is for people" in build.stderr
    assert registered(account) == [(1, 4)]
