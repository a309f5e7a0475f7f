"""The app stack of a blue-green, canary or linear app, its config and its cost: what ECS's
strategies need (ECS Developer Guide, "Application Load Balancer resources for blue/green,
linear, and canary deployments"), least privilege, and the live weights carried through."""

from __future__ import annotations

import re
from typing import Any

import pytest

from dockyard.config.loading import parse_config
from dockyard.config.routing import app_priority, header_rule_priority
from dockyard.errors import ConfigError
from dockyard.planning.cost import estimate, progressive_minutes
from dockyard.stacks.platform import Platform
from dockyard.templates import Discovered, render_stacks
from dockyard.templates.app import forward_weight_fact
from tests.conftest import bodies, example_config, example_text, resources_of

CANARY = (("    - 0.0.0.0/0", "    - 203.0.113.0/24\n    - 198.51.100.0/24"),
          ("strategy: rolling", "strategy: canary\n      smoke_test: exit 0"))


def _rule(template: dict[str, Any], name: str) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"][name]["Properties"]
    return properties


def test_a_progressive_app_stack_has_two_target_groups_a_test_rule_and_a_scoped_role() -> None:
    cfg = example_config(*CANARY)
    app = bodies(cfg)["app-web"]
    groups = resources_of(app, "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert set(groups) == {"TargetGroup", "AlternateTargetGroup"}
    assert groups["TargetGroup"]["Properties"] == groups["AlternateTargetGroup"]["Properties"], \
        "both revisions are judged by the same health check"
    production, test = _rule(app, "HostRule"), _rule(app, "TestRule")
    assert production["Priority"] == app_priority("web", cfg.apps["web"])
    assert test["Priority"] == header_rule_priority("web", cfg.apps["web"]) == \
        production["Priority"] - 1, "the test rule is evaluated before the host rule"
    assert {c["Field"]: c for c in test["Conditions"]} == {
        "host-header": {"Field": "host-header",
                        "HostHeaderConfig": {"Values": ["web.example.com"]}},
        "http-header": {"Field": "http-header", "HttpHeaderConfig": {
            "HttpHeaderName": "X-Dockyard-Test", "Values": [{"Ref": "TestHeaderValue"}]}},
        "source-ip": {"Field": "source-ip", "SourceIpConfig": {
            "Values": ["203.0.113.0/24", "198.51.100.0/24"]}}}
    # The header's value is no guess (it was the app's name): random, kept from the live rule,
    # and told to the app's own pipeline role through the stack's output only.
    header = app["Parameters"]["TestHeaderValue"]
    assert header["AllowedPattern"] == "[0-9a-f]{40}" and "Default" not in header
    assert app["Outputs"]["TestHeaderValue"]["Value"] == {"Ref": "TestHeaderValue"}
    for rule in (production, test):
        (action,) = rule["Actions"]
        weights = [(g["TargetGroupArn"]["Ref"], g["Weight"]["Ref"])
                   for g in action["ForwardConfig"]["TargetGroups"]]
        assert [group for group, _ in weights] == ["TargetGroup", "AlternateTargetGroup"]
        for _, parameter in weights:
            assert app["Parameters"][parameter]["Type"] == "Number"
    role = resources_of(app, "AWS::IAM::Role")["InfrastructureRole"]["Properties"]
    # Exactly the trust AWS documents for this role (ECS Developer Guide, "Amazon ECS
    # infrastructure IAM role for load balancers"): no condition ECS might not satisfy.
    assert role["AssumeRolePolicyDocument"] == {"Version": "2012-10-17", "Statement": [{
        "Sid": "AllowAccessToECSForInfrastructureManagement", "Effect": "Allow",
        "Principal": {"Service": "ecs.amazonaws.com"}, "Action": ["sts:AssumeRole"]}]}
    (policy,) = role["Policies"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    assert statements["ShiftTraffic"]["Resource"] == [{"Ref": "HostRule"}, {"Ref": "TestRule"}]
    assert statements["RegisterTasks"]["Resource"] == [{"Ref": "TargetGroup"},
                                                       {"Ref": "AlternateTargetGroup"}]
    wildcard = [s for s in statements.values() if s["Resource"] == ["*"]]
    assert [s["Sid"] for s in wildcard] == ["ReadLoadBalancing"]
    assert all(a.startswith("elasticloadbalancing:Describe") for a in wildcard[0]["Action"])
    assert {"AlternateTargetGroupArn", "ProductionRuleArn", "TestRuleArn",
            "InfrastructureRoleArn"} <= set(app["Outputs"])


def test_the_rule_weights_are_read_from_the_live_rules_at_up() -> None:
    cfg = example_config(*CANARY)
    (stack,) = [s for s in render_stacks(cfg) if s.key == "app-web"]
    assert stack.inputs["HostRuleTargetGroupWeight"] == Discovered(
        forward_weight_fact("acme-app-web", "HostRule", "TargetGroup"))
    assert stack.inputs["TestRuleAlternateTargetGroupWeight"] == Discovered(
        forward_weight_fact("acme-app-web", "TestRule", "AlternateTargetGroup"))
    assert stack.inputs["TestHeaderValue"] == Discovered("test-header:acme-app-web:TestRule")


@pytest.mark.parametrize(("live", "kept"), [
    ("", False),  # a new stack: a new random value
    ("web", False),  # a stack from before: the guessable name is replaced
    ("0123456789abcdef0123456789abcdef01234567", True),  # a live value is kept
])
def test_up_keeps_the_live_test_header_or_makes_an_unguessable_one(live: str, kept: bool) -> None:
    from dockyard.stacks.platform import discover
    from tests.fakes import FakeAccount

    cfg = example_config(*CANARY)
    account = FakeAccount()
    account.test_headers["acme-app-web"] = live
    platform = Platform(cfg, None, account, None)  # type: ignore[arg-type]
    facts = [discover(platform)["test-header:acme-app-web:TestRule"] for _ in range(2)]
    assert all(re.fullmatch("[0-9a-f]{40}", value) for value in facts)
    assert (facts[0] == live) is kept
    if not kept:
        assert facts[0] != facts[1], "random each time there is none to keep"


def test_a_rolling_app_stack_has_none_of_it() -> None:
    app = bodies(example_config())["app-web"]
    assert set(resources_of(app, "AWS::ElasticLoadBalancingV2::TargetGroup")) == {"TargetGroup"}
    assert "TestRule" not in app["Resources"]
    assert "InfrastructureRole" not in app["Resources"]
    (action,) = _rule(app, "HostRule")["Actions"]
    assert action == {"Type": "forward", "TargetGroupArn": {"Ref": "TargetGroup"}}


def test_open_to_everyone_needs_no_source_ip_condition() -> None:
    cfg = example_config(("strategy: rolling", "strategy: blue-green"))
    test = _rule(bodies(cfg)["app-web"], "TestRule")
    assert [c["Field"] for c in test["Conditions"]] == ["host-header", "http-header"]


@pytest.mark.parametrize(("replacements", "path", "words"), [
    ((("strategy: rolling", "strategy: rolling\n      smoke_test: exit 0"),),
     "apps.web.deploy.smoke_test", "a rolling deploy has no test traffic"),
    ((("strategy: rolling", "strategy: canary\n      canary_percent: 0.05"),),
     "apps.web.deploy.canary_percent", "0.05 is not a percentage from 0.1 to 100"),
    ((("strategy: rolling", "strategy: linear\n      step_percent: 12.34"),),
     "apps.web.deploy.step_percent", "12.34 is not a percentage from 3 to 100"),
    ((("strategy: rolling", "strategy: linear\n      step_bake_minutes: 1441"),),
     "apps.web.deploy.step_bake_minutes", "less than or equal to 1440"),
    ((("strategy: rolling", "strategy: green"),), "apps.web.deploy.strategy", "'canary'"),
    # Accepted but meaningless (issue 29's fuzz run): knobs a rolling deploy never reads, a
    # smoke test that tests nothing, a linear deploy of 34 days.
    ((("strategy: rolling", "strategy: rolling\n      canary_percent: 10"),),
     "apps.web.deploy.canary_percent", "a rolling deploy does not use it"),
    ((("strategy: rolling", "strategy: rolling\n      step_percent: 20\n"
                            "      step_bake_minutes: 3"),),
     "apps.web.deploy.step_percent", "leave step_percent out"),
    ((("strategy: rolling", "bake_minutes: 5"),),  # rolling by default
     "apps.web.deploy.bake_minutes", "a rolling deploy does not use it"),
    ((("strategy: rolling", "strategy: rolling\n      smoke_timeout_minutes: 5"),),
     "apps.web.deploy.smoke_timeout_minutes", "a rolling deploy does not use it"),
    ((("strategy: rolling", "strategy: canary\n      smoke_test: \"  \\t \""),),
     "apps.web.deploy.smoke_test", "is blank"),
    ((("strategy: rolling", "strategy: canary\n      smoke_test: \"exit 0\\0rm -rf /\""),),
     "apps.web.deploy.smoke_test", "contains a NUL character"),
    ((("strategy: rolling", "strategy: linear\n      step_percent: 3\n"
                            "      step_bake_minutes: 1440\n      bake_minutes: 1440"),),
     "apps.web.deploy", "a linear deploy would hold traffic 48,960 minutes (33 steps"),
    ((("strategy: rolling", "strategy: canary\n      canary_bake_minutes: 1440\n"
                            "      bake_minutes: 600"),),
     "apps.web.deploy", "a canary deploy would hold traffic 2,040 minutes"),
    ((("strategy: rolling", "strategy: canary\n      step_percent: 5\n"
                            "      step_bake_minutes: 120"),),
     "apps.web.deploy", "a linear deploy (`dockyard deploy --strategy linear`) would hold "
                        "traffic 2,285 minutes"),
    ((("    - 0.0.0.0/0", "    - 10.0.0.0/8\n    - 10.1.0.0/16\n    - 10.2.0.0/16\n"
                          "    - 10.3.0.0/16"), ("strategy: rolling", "strategy: canary")),
     "apps.web.deploy.strategy", "at most 3 blocks"),
])
def test_bad_deploy_settings_name_their_field(replacements: tuple[tuple[str, str], ...],
                                              path: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(example_text(*replacements), "dockyard.yml")
    assert any(f" {path}: " in p and words in p for p in caught.value.problems), \
        caught.value.problems


@pytest.mark.parametrize(("bake", "accepted"), [(0, True), (1, False)])
def test_a_linear_deploy_may_hold_traffic_for_awss_33_hours(bake: int, accepted: bool) -> None:
    # 3% steps: 33 moves after the first, 60 minutes apart; no job deploys it, so a
    # pipeline's 12-hour credentials do not bound it first.
    text = example_text(("strategy: rolling", "strategy: linear\n      step_percent: 3\n"
                         f"      step_bake_minutes: 60\n      bake_minutes: {bake}"),
                        ("    job: web", "    job: none"))
    if accepted:
        assert parse_config(text, "dockyard.yml").apps["web"].deploy.step_bake_minutes == 60
        return
    with pytest.raises(ConfigError, match=r"apps\.web\.deploy: a linear deploy would hold "
                                          r"traffic 1,981 minutes.*at most 1,980 \(33 h"):
        parse_config(text, "dockyard.yml")


def test_a_header_rule_priority_may_not_clash_with_another_rule() -> None:
    text = example_text(("strategy: rolling", "strategy: canary"), ("    health_check: /\n",
                        "    health_check: /\n    priority: 3\n"))
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "dockyard.yml")
    # the test rule takes 2, which Jenkins' first blocked-path rule holds
    assert any("priority 2 clashes with jenkins" in p for p in caught.value.problems)


@pytest.mark.parametrize(("strategy", "minutes"), [("blue-green", 15), ("canary", 25),
                                                    ("linear", 69)])
def test_the_plan_prices_one_deploy_of_each_strategy(strategy: str, minutes: float) -> None:
    """Defaults: 5 min to start and test, a 5 min smoke test (half its timeout), 5 min bake;
    canary bakes 10 min, linear 10% steps 6 min apart (9 waits)."""
    cfg = example_config(("strategy: rolling", f"strategy: {strategy}\n"
                                                "      smoke_test: exit 0"))
    app = cfg.apps["web"]
    assert progressive_minutes(app) == minutes
    (deploy,) = estimate(cfg).deploy_examples
    assert deploy.item == f"one {strategy} deploy of web"
    assert f"for about {minutes} min" in deploy.detail
    assert deploy.monthly_usd > 0
    assert estimate(example_config()).deploy_examples == [], "rolling adds nothing"
