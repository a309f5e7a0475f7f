"""The plan's cost estimate and exposure table, from config and templates."""

from __future__ import annotations

import pytest

from dockyard.planning.cost import HOURS_PER_MONTH, estimate, task_hourly
from dockyard.planning.posture import doors, exposures
from tests.conftest import VARIANTS, bodies, example_config


def test_controller_cost_matches_the_worked_example() -> None:
    # AWS Fargate pricing: 2 vCPU / 4 GB x86 for 730 h is about $72 a month.
    assert task_hourly(2048, 4096) * HOURS_PER_MONTH == pytest.approx(72.08, abs=0.01)
    # a 10-minute build at 2 vCPU / 8 GB is about $0.019 on demand
    assert task_hourly(2048, 8192) * 10 / 60 == pytest.approx(0.019, abs=0.001)


def test_estimate_lists_the_always_on_parts_and_adds_up() -> None:
    cost = estimate(example_config())
    items = {line.item: line.monthly_usd for line in cost.lines}
    assert set(items) == {"Jenkins controller", "Untrusted agents", "Trusted agents",
                          "Load balancer", "Public IPv4 addresses", "EFS (JENKINS_HOME)",
                          "Secrets Manager", "Private DNS", "app web", "app web alarms",
                          "Access logs"}
    assert items["Private DNS"] == pytest.approx(0.50)
    # ~1 GB a month kept 90 days at $0.023, and one file per zone every 5 minutes
    assert items["Access logs"] == pytest.approx(3 * 0.023 + 2 * 12 * 730 / 1000 * 0.005,
                                                 abs=0.01)
    # the error-rate alarm reads two metrics (5xx and requests) at $0.10 each
    assert items["app web alarms"] == pytest.approx(0.20)
    assert items["Secrets Manager"] == pytest.approx(1.20)  # admin's, the two pools' passwords
    assert items["Load balancer"] == pytest.approx(16.43, abs=0.01)
    # two load balancer addresses, the controller's, the two agents' and the web task's
    assert items["Public IPv4 addresses"] == pytest.approx(6 * 3.65, abs=0.01)
    # one agent of 1 vCPU / 2 GB with 30 GB, on demand: $0.04937 an hour
    hourly = 0.04048 + 2 * 0.004445 + 10 * 0.000111
    assert items["Untrusted agents"] == pytest.approx(hourly * 730, abs=0.01)
    assert items["Trusted agents"] == pytest.approx(hourly * 730, abs=0.01)
    # five: the first on demand, the other four 3/4 Spot (70% off) and 1/4 on demand
    five = {line.item: line.monthly_usd for line in estimate(example_config(
        ("    count: 1                     # for untrusted", "    count: 5 #"))).lines}[
        "Untrusted agents"]
    assert five == pytest.approx((1 + 1 + 3 * 0.3) * hourly * 730, abs=0.01)
    assert cost.total_usd == pytest.approx(sum(items.values()), abs=0.01)
    assert "Spot" in cost.build_example.detail
    assert any("2026-11" in note for note in cost.notes)


def test_estimate_follows_the_config() -> None:
    bigger = estimate(example_config(("    count: 1\n    health_check",
                                      "    count: 3\n    health_check"),
                                     ("cpu: 2048                      # 2 vCPU", "cpu: 4096"),
                                     ("memory: 4096                   # 4 GiB", "memory: 8192")))
    base = estimate(example_config())
    items = {line.item: line.monthly_usd for line in bigger.lines}
    base_items = {line.item: line.monthly_usd for line in base.lines}
    assert items["app web"] == pytest.approx(3 * base_items["app web"], abs=0.02)
    assert items["Jenkins controller"] > 1.9 * base_items["Jenkins controller"]
    private = estimate(example_config(*VARIANTS["existing-private"]))
    ips = {line.item: line for line in private.lines}["Public IPv4 addresses"]
    assert ips.monthly_usd == pytest.approx(2 * 3.65, abs=0.01)
    assert "private subnets" in ips.detail
    none = {line.item: line for line in estimate(example_config(
        ("trusted_count: 1", "trusted_count: 0"))).lines}["Trusted agents"]
    assert none.monthly_usd == 0 and "trusted_count is 0" in none.detail


def test_exposures_come_from_the_templates() -> None:
    cfg = example_config(("    - 0.0.0.0/0", "    - 198.51.100.0/24"), ("port: 5001", "port: 8000"))
    found = {(x.target, x.ports, x.source) for x in exposures(bodies(cfg))}
    # With the internet left out, HTTPS is open to anyone at the security group, for AWS STS
    # to read Jenkins' OIDC issuer; each host rule admits 198.51.100.0/24 only
    # (tests/templates/test_security.py).
    assert found == {
        ("load balancer", "tcp/443", "0.0.0.0/0 (anyone)"),
        ("load balancer", "tcp/80", "198.51.100.0/24"),
        ("Jenkins controller", "tcp/8080", "load balancer"),
        ("Jenkins controller", "tcp/8080", "Jenkins agents"),
        ("JENKINS_HOME", "tcp/2049", "Jenkins controller"),
        ("app web", "tcp/8000", "load balancer"),
        ("builds", "none", "nobody"),
        ("Jenkins agents", "none", "nobody"),
    }


def test_who_reaches_which_path_is_read_back_from_the_listener_rules() -> None:
    """plan's path table: each rule of the rendered templates, in the load balancer's order:
    Jenkins' blocked paths for anyone (403), its webhook from GitHub's hook ranges, the rest
    of Jenkins from jenkins.allowed_cidrs, its issuer's two documents for anyone (GET, HEAD),
    each app from edge.allowed_cidrs."""
    cfg = example_config(("  allowed_cidrs:\n    - 203.0.113.0/24",
                          "  webhook_cidrs: [192.30.252.0/22]\n  allowed_cidrs:\n"
                          "    - 203.0.113.0/24"))
    found = [(d.host, d.paths, d.source, d.answer) for d in
             doors({f"acme-{key}": body for key, body in bodies(cfg).items()})]
    jenkins = "jenkins.example.com"
    assert found == [
        (jenkins, "/cli, /cli/*, /wsagents/*, /swarm/*", "anyone", "answered 403"),
        (jenkins, "/plugin/swarm/*, /tcpSlaveAgentListener/*, /jnlpJars/*, "
                  "/computer/*/jenkins-agent.jnlp", "anyone", "answered 403"),
        (jenkins, "/computer/*/slave-agent.jnlp", "anyone", "answered 403"),
        (jenkins, "/github-webhook/", "192.30.252.0/22", "to Jenkins"),
        (jenkins, "every path", "203.0.113.0/24", "to Jenkins"),
        (jenkins, "/oidc/.well-known/openid-configuration, /oidc/jwks", "anyone",
         "to Jenkins (GET, HEAD only)"),
        ("web.example.com", "every path", "anyone", "to app web"),
    ]


SCALED = ("    count: 1\n    health_check",
          "    scale: {min: 2, max: 6, cpu_percent: 60}\n    health_check")


def test_a_scaled_app_is_priced_at_its_minimum_with_its_maximum_said() -> None:
    fixed = {line.item: line for line in estimate(example_config()).lines}["app web"]
    scaled = {line.item: line for line in estimate(example_config(SCALED)).lines}["app web"]
    assert scaled.monthly_usd == pytest.approx(2 * fixed.monthly_usd, abs=0.02)
    assert scaled.detail.startswith("2-6 x 0.25 vCPU / 0.5 GB, 24/7, scaled")
    assert f"at 6: ${6 * fixed.monthly_usd:,.2f}" in scaled.detail
