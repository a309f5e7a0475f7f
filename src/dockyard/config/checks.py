"""The checks of dockyard.yml that span fields: what each field's own type cannot see (a
certificate's region, names built from the domain, jobs the apps name, how long a deploy can
take) and the load balancer's routes (routing.py). Each raises the error of the field to
change (crossfield.cross_error), so `dockyard validate` names it with its line."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dockyard.config import limits, routing
from dockyard.config.crossfield import cross_error
from dockyard.config.kinds import behind_load_balancer, check_image_from, check_kinds
from dockyard.rules import shown

if TYPE_CHECKING:
    from dockyard.config.models import Config

ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:([a-z0-9-]+):[0-9]{12}:certificate/[0-9a-f-]{36}$")


def check(cfg: Config) -> None:
    """Every check across fields, in the order a user would fix them."""
    _certificate_region(cfg)
    check_kinds(cfg)
    _names(cfg)
    _jobs(cfg)
    check_image_from(cfg)
    _exec(cfg)
    _scale(cfg)
    routing.check_routes(cfg)
    _deploy_lengths(cfg)


def _certificate_region(cfg: Config) -> None:
    if cfg.edge.certificate != "auto":
        match = ACM_ARN.match(cfg.edge.certificate)
        if match and match.group(1) != cfg.region:
            raise cross_error(("edge", "certificate"), f"the certificate is in {match.group(1)}"
                              f"; the load balancer needs one in {cfg.region}")


def _exec(cfg: Config) -> None:
    """ECS Exec's agent writes under the container's root, which "making the root file
    system read-only ... isn't supported" with (ECS Developer Guide, "Monitor Amazon ECS
    containers with ECS Exec", considerations)."""
    for name, app in cfg.apps.items():
        if app.exec and app.read_only_root:
            raise cross_error(("apps", name, "exec"), "ECS Exec does not work with a read-only "
                              "root file system: set read_only_root: false for this app too, "
                              "or leave exec off")


def _scale(cfg: Config) -> None:
    """A fixed count and a scaling range cannot both say how many tasks run."""
    for name, app in cfg.apps.items():
        if app.scale is not None and "count" in app.model_fields_set:
            raise cross_error(("apps", name, "count"), "a fixed count and scale exclude each "
                              "other: remove count (a new service starts with scale.min "
                              "tasks)")


def _names(cfg: Config) -> None:
    """Names built from the domain, against what ACM, the load balancer and Route 53 take."""
    domain = cfg.edge.domain
    if cfg.edge.certificate == "auto" and len(f"*.{domain}") > limits.ACM_DOMAIN_CHARACTERS:
        raise cross_error(("edge", "domain"), f"the certificate's name {shown('*.' + domain)} "
                          f"is {len(domain) + 2} characters; ACM takes at most "
                          f"{limits.ACM_DOMAIN_CHARACTERS} (RequestCertificate): use a "
                          "shorter domain or give edge.certificate as an ARN")
    hosts: dict[tuple[str, ...], str] = {("jenkins", "host"): cfg.jenkins.host}
    hosts |= {("apps", name, "host"): app.host or name for name, app in cfg.apps.items()
              if behind_load_balancer(app)}
    for path, host in hosts.items():
        fqdn = f"{host}.{domain}"
        if len(fqdn) > limits.HOST_HEADER_CHARACTERS:
            raise cross_error(path, f"{shown(fqdn)} is {len(fqdn)} characters; a load "
                              f"balancer host rule takes at most "
                              f"{limits.HOST_HEADER_CHARACTERS} (Application Load Balancer "
                              "listener rules)")
    jobs = [job.name for job in cfg.jenkins.jobs]
    for index, job in enumerate(jobs):
        if job in jobs[:index]:
            raise cross_error(("jenkins", "jobs", index, "name"),
                              f"job {shown(job)} is declared twice")


def _jobs(cfg: Config) -> None:
    """Each app's ``job`` names a job; narrowed edge.allowed_cidrs fit a host rule."""
    jobs = {job.name for job in cfg.jenkins.jobs}
    for name, app in cfg.apps.items():
        if app.job is not None and app.job != "none" and app.job not in jobs:
            known = ", ".join(sorted(jobs)) or "none are declared in jenkins.jobs"
            raise cross_error(("apps", name, "job"), f"no job {shown(app.job)} (jobs: "
                              f"{known}; 'none' leaves the app to the operator)")
    each_rules = routing.JENKINS_RULES_EACH
    for field, cidrs, each in (
            ("allowed_cidrs", routing.jenkins_cidrs(cfg), limits.HOST_RULE_CIDRS),
            ("webhook_cidrs", routing.webhook_cidrs(cfg), limits.WEBHOOK_RULE_CIDRS)):
        if len(cidrs) > each * each_rules:
            where = "" if cfg.jenkins.allowed_cidrs or field != "allowed_cidrs" \
                else " (edge.allowed_cidrs, its default)"
            raise cross_error(("jenkins", field), f"{len(cidrs)} blocks{where}; Jenkins "
                              f"takes at most {each * each_rules}: {each} on each "
                              f"of {each_rules} listener rules (a rule takes "
                              f"{limits.CONDITION_VALUES_PER_RULE} condition values; "
                              "Application Load Balancer quotas): merge blocks")
    cidrs = routing.host_rule_cidrs(cfg)
    if len(cidrs) > limits.HOST_RULE_CIDRS:
        raise cross_error(("edge", "allowed_cidrs"), f"{len(cidrs)} blocks; with the "
                          "internet left out, each host rule admits edge.allowed_cidrs "
                          f"itself, and a rule takes {limits.CONDITION_VALUES_PER_RULE} "
                          f"condition values (the host and at most "
                          f"{limits.HOST_RULE_CIDRS} blocks; Application Load Balancer "
                          "quotas): merge blocks")


def _deploy_lengths(cfg: Config) -> None:
    """A pipeline's deploy waits as long as its strategy can take; its credentials last at
    most 12 hours (IAM, MaxSessionDuration), so a longer deploy would lose them midway."""
    from dockyard import trust
    from dockyard.deploy.timing import longest_wait_seconds

    for name, app in cfg.apps.items():
        if not app.deploy.progressive or cfg.deploying_job(name) is None:
            continue
        needed = longest_wait_seconds(app) + trust.SESSION_MARGIN_SECONDS
        if needed > trust.MAX_SESSION_SECONDS:
            raise cross_error(("apps", name, "deploy"), f"a deploy of {name} can take "
                              f"{needed / 3600:.1f} h with its bakes, smoke test and "
                              f"margins; a pipeline's AWS credentials last at most "
                              f"{trust.MAX_SESSION_SECONDS // 3600} h (IAM "
                              "MaxSessionDuration): shorten the bakes or take bigger steps")
