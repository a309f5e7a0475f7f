"""How dockyard.yml's hosts become the shared load balancer's listener rules: each rule's
priority, the source addresses it admits, and how many rules and target groups there are
against the load balancer's quotas (templates/edge.py, jenkins.py and app.py write them)."""

from __future__ import annotations

import ipaddress
import zlib
from typing import TYPE_CHECKING

from dockyard.config import limits
from dockyard.config.crossfield import cross_error
from dockyard.config.kinds import behind_load_balancer
from dockyard.rules import shown

if TYPE_CHECKING:
    from dockyard.config.models import App, Config

# Listener rule priorities: Jenkins takes the first; apps get a stable one derived from their
# name; the last one answers AWS STS for Jenkins' OIDC issuer documents, from anywhere
# (templates/jenkins.py, _issuer_rule).
# Jenkins' door comes first (templates/jenkins.py): the paths answered 403 for everyone, then
# GitHub's webhooks from GitHub's hook ranges, then the host from jenkins.allowed_cidrs, several
# rules each when their values pass a rule's five.
JENKINS_BLOCK_PRIORITY = 2
JENKINS_WEBHOOK_PRIORITY = 5
JENKINS_RULE_PRIORITY = 10
JENKINS_RULES_EACH = 3  # the block rules; and at most this many webhook or host rules more
ISSUER_RULE_PRIORITY = 50_000
APP_PRIORITY_BASE = 100
APP_PRIORITY_SPAN = 49_000


def _unless_everyone(cidrs: list[str] | tuple[str, ...]) -> list[str]:
    """Source-ip condition values: the blocks, or none when one of them admits everyone."""
    return [] if any(ipaddress.ip_network(c).prefixlen == 0 for c in cidrs) else list(cidrs)


def app_priority(name: str, app: App) -> int:
    """The listener rule priority of an app: its own, or a stable one derived from its name."""
    if app.priority is not None:
        return app.priority
    return APP_PRIORITY_BASE + zlib.crc32(name.encode()) % APP_PRIORITY_SPAN


def header_rule_priority(name: str, app: App) -> int:
    """The test listener rule of a progressive app: just before its host rule, which would
    otherwise take its requests first (rules are evaluated lowest number first)."""
    return app_priority(name, app) - 1


def jenkins_cidrs(cfg: Config) -> list[str]:
    """The source-ip values of Jenkins' host rules: jenkins.allowed_cidrs (by default
    edge.allowed_cidrs), or none when they admit everyone."""
    return _unless_everyone(cfg.jenkins.allowed_cidrs or cfg.edge.allowed_cidrs)


def webhook_cidrs(cfg: Config) -> list[str]:
    """The source-ip values of Jenkins' webhook rules, or none when they admit everyone."""
    return _unless_everyone(cfg.jenkins.webhook_cidrs)


def header_rule_cidrs(cfg: Config) -> list[str]:
    """The source-ip values of a progressive app's test rule: edge.allowed_cidrs, or none
    when they admit everyone (the load balancer's security group admits the same)."""
    return _unless_everyone(cfg.edge.allowed_cidrs)


def host_rule_cidrs(cfg: Config) -> list[str]:
    """The source-ip values every host rule carries: edge.allowed_cidrs when they leave the
    internet out (the load balancer's security group then admits HTTPS from anywhere, so
    that AWS STS reaches Jenkins' OIDC issuer documents), else none."""
    return header_rule_cidrs(cfg)


def jenkins_rule_priorities(cfg: Config) -> list[int]:
    """The priorities of Jenkins' listener rules: the blocked paths, the webhook rules, the
    host rules and the OIDC issuer's."""
    webhook = max(1, -(-len(webhook_cidrs(cfg)) // limits.WEBHOOK_RULE_CIDRS))
    host = max(1, -(-len(jenkins_cidrs(cfg)) // limits.HOST_RULE_CIDRS))
    return [*range(JENKINS_BLOCK_PRIORITY, JENKINS_BLOCK_PRIORITY + JENKINS_RULES_EACH),
            *range(JENKINS_WEBHOOK_PRIORITY, JENKINS_WEBHOOK_PRIORITY + webhook),
            *range(JENKINS_RULE_PRIORITY, JENKINS_RULE_PRIORITY + host),
            ISSUER_RULE_PRIORITY]


def app_rule_priorities(cfg: Config, name: str, app: App) -> list[int]:
    """The priorities of an app's rules: its host rule, and a progressive app's test rule."""
    if not app.deploy.progressive:
        return [app_priority(name, app)]
    cidrs = header_rule_cidrs(cfg)
    if len(cidrs) > limits.TEST_RULE_CIDRS:
        raise cross_error(("apps", name, "deploy", "strategy"), f"the {app.deploy.strategy} "
                          f"strategy's test rule admits edge.allowed_cidrs, and a listener "
                          f"rule takes {limits.CONDITION_VALUES_PER_RULE} condition values "
                          f"(host, header and at most {limits.TEST_RULE_CIDRS} blocks; "
                          f"Application Load Balancer quotas): merge the "
                          f"{len(cidrs)} blocks, or deploy {name} rolling")
    return [header_rule_priority(name, app), app_priority(name, app)]


def check_routes(cfg: Config) -> None:
    """One host per app and per Jenkins, one app per rule priority, and no more rules and
    target groups than the load balancer takes."""
    hosts: dict[str, tuple[str | int, ...]] = {cfg.jenkins.host: ("jenkins", "host")}
    priorities = dict.fromkeys(jenkins_rule_priorities(cfg), "jenkins")
    for name, app in cfg.apps.items():
        if not behind_load_balancer(app):
            continue
        host = app.host or name
        if host in hosts:
            other = ".".join(str(p) for p in hosts[host][:-1])
            raise cross_error(("apps", name, "host"),
                              f"host {shown(host)} is already used by {other}")
        hosts[host] = ("apps", name, "host")
        for priority in app_rule_priorities(cfg, name, app):
            if priority in priorities:
                other = priorities[priority]
                other = other if other == "jenkins" else f"apps.{other}"
                raise cross_error(("apps", name), f"its listener rule priority {priority} "
                                  f"clashes with {other}; set apps.{name}.priority")
            priorities[priority] = name
    _check_load_balancer_quotas(cfg, len(priorities))


def _check_load_balancer_quotas(cfg: Config, rules: int) -> None:
    """The shared load balancer's rules and target groups against its quotas: Jenkins has
    the rules of its door (the blocked paths, the webhook's, its host's, its OIDC
    issuer's) and one target group; each app one of each; each
    blue-green, canary or linear app a second of each (the test rule, the alternate
    group). Past a quota, `up` would fail minutes in, stacks half made."""
    progressive = [name for name, app in cfg.apps.items() if app.deploy.progressive]
    web = [name for name, app in cfg.apps.items() if behind_load_balancer(app)]
    groups = 1 + len(web) + len(progressive)
    for count, quota, what in ((rules, limits.LISTENER_RULES, "listener rules"),
                               (groups, limits.TARGET_GROUPS, "target groups")):
        if count <= quota:
            continue
        shown_apps = ", ".join(progressive[:5]) + (
            f" and {len(progressive) - 5} more" if len(progressive) > 5 else "")
        two = f"; the {len(progressive)} progressive apps ({shown_apps}) have two each" \
            if progressive else ""
        raise cross_error(("apps",), f"the load balancer would carry {count} {what} "
                          f"(Jenkins' and {len(web)} apps'{two}); an Application "
                          f"Load Balancer takes {quota} (Elastic Load Balancing quotas): "
                          "deploy fewer apps on it, or some of them rolling")
