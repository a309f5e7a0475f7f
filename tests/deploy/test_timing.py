"""How long a deploy waits: as long as its strategy's stages can take (issue: a canary of the
Django example gave up at 15 minutes while ECS needed 25), from the same numbers the plan
prices and the STS session covers."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard import trust
from dockyard.config import parse_config
from dockyard.config.models import App, Config
from dockyard.deploy.timing import (
    START_MINUTES,
    WAIT_MARGIN_MINUTES,
    deploy_time,
    linear_steps,
    longest_wait_seconds,
    wait_seconds,
)
from dockyard.planning.cost import progressive_minutes
from tests.conftest import example_config

DJANGO = Path(__file__).resolve().parents[2] / "examples" / "django" / "dockyard.yml"


def _django() -> Config:
    return parse_config(DJANGO.read_text(), str(DJANGO))


def _longest_by_hand(app: App) -> float:
    """Every stage a deploy of ``app`` can hold, in minutes, added up from dockyard.yml."""
    d = app.deploy
    stages = START_MINUTES + d.bake_minutes + (d.smoke_timeout_minutes if d.smoke_test else 0)
    if d.strategy == "canary":
        stages += d.canary_bake_minutes
    if d.strategy == "linear":
        moves = 0
        share = 0.0
        while share < 100 - 1e-9:
            share += d.step_percent
            moves += 1
        stages += (moves - 1) * d.step_bake_minutes
    return stages


def test_the_django_canary_waits_past_its_bakes_and_the_plan_estimate() -> None:
    cfg = _django()
    (name, app), = [(n, a) for n, a in cfg.apps.items() if a.deploy.strategy == "canary"]
    waited = wait_seconds(app) / 60
    bakes = app.deploy.canary_bake_minutes + app.deploy.bake_minutes
    assert waited > 15, "the old fixed wait gave up before ECS finished"
    assert waited >= bakes + app.deploy.smoke_timeout_minutes + START_MINUTES
    assert waited > progressive_minutes(app), f"{name}: the wait is shorter than the estimate"
    assert waited == _longest_by_hand(app) + WAIT_MARGIN_MINUTES


@pytest.mark.parametrize("strategy", ["blue-green", "canary", "linear"])
def test_each_strategy_waits_for_every_stage_it_holds(strategy: str) -> None:
    cfg = example_config(("      strategy: rolling", f"      strategy: {strategy}\n"
                          "      smoke_test: exit 0"))
    app = cfg.apps["web"]
    assert app.deploy.strategy == strategy
    assert wait_seconds(app) == (_longest_by_hand(app) + WAIT_MARGIN_MINUTES) * 60
    typical = deploy_time(app, smoke="typical").minutes
    assert typical == _longest_by_hand(app) - app.deploy.smoke_timeout_minutes / 2
    assert typical == progressive_minutes(app), "the plan prices the same stages"


def test_linear_with_ecs_defaults_waits_over_an_hour() -> None:
    cfg = example_config(("      strategy: rolling", "      strategy: linear"))
    app = cfg.apps["web"]
    assert linear_steps(app.deploy.step_percent) == 10
    assert wait_seconds(app) / 60 > 60
    assert deploy_time(app).parts().startswith("start 5, step bakes 54")


@pytest.mark.parametrize(("step", "moves"), [(10.0, 10), (12.5, 8), (3.0, 34), (100.0, 1),
                                             (33.3, 4)])
def test_linear_steps_count_the_last_smaller_move(step: float, moves: int) -> None:
    assert linear_steps(step) == moves


def test_the_deploy_session_outlasts_the_longest_wait_of_any_strategy() -> None:
    cfg = example_config(("      strategy: rolling", "      strategy: canary\n"
                          "      smoke_test: exit 0"))
    app = cfg.apps["web"]
    longest = longest_wait_seconds(app)
    assert longest == max(wait_seconds(app, s) for s in ("blue-green", "canary", "linear"))
    assert longest > wait_seconds(app), "deploy --strategy linear once is longer than canary"
    assert trust.max_session_seconds(cfg, "web") >= longest + trust.SESSION_MARGIN_SECONDS


def test_a_rolling_app_keeps_the_old_fifteen_minutes() -> None:
    app = example_config().apps["web"]
    assert app.deploy.strategy == "rolling"
    assert wait_seconds(app) == 15 * 60


def test_a_deploy_longer_than_a_pipelines_credentials_is_refused_naming_the_field() -> None:
    from dockyard.errors import ConfigError
    from tests.conftest import example_text

    text = example_text(("      strategy: rolling",
                         "      strategy: linear\n      step_bake_minutes: 90"))
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "dockyard.yml")
    assert "apps.web.deploy: a deploy of web can take 14.1 h" in caught.value.message
    assert "last at most 12 h" in caught.value.message
    fits = example_text(("      strategy: rolling",
                         "      strategy: linear\n      step_bake_minutes: 60"))
    assert parse_config(fits, "dockyard.yml").apps["web"].deploy.step_bake_minutes == 60
