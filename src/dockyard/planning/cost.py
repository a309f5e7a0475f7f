"""A monthly estimate of what the platform costs while it merely exists.

List prices, us-east-1, on demand, collected 2026-11 from AWS's pricing pages (Fargate, Elastic
Load Balancing, VPC public IPv4, EFS, AWS Backup, Secrets Manager, Route 53, S3). Prices change and
differ by region: this is an estimate to compare choices with, not a bill.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dockyard.config.kinds import behind_load_balancer
from dockyard.config.models import App, Config
from dockyard.deploy.timing import deploy_time
from dockyard.names import internal_namespace
from dockyard.templates.placement import assign_public_ip

PRICES_AS_OF = "2026-11"
PRICES_REGION = "us-east-1"
HOURS_PER_MONTH = 730

FARGATE_VCPU_HOUR = {"amd64": 0.04048, "arm64": 0.03238}
FARGATE_GB_HOUR = {"amd64": 0.004445, "arm64": 0.00356}
FARGATE_STORAGE_GB_HOUR = 0.000111  # above the 20 GB every task gets
FARGATE_SPOT_DISCOUNT = 0.70  # "up to ~70% below on demand"; varies over time
ALB_HOUR = 0.0225
PUBLIC_IPV4_HOUR = 0.005
EFS_STANDARD_GB_MONTH = 0.30
BACKUP_EFS_GB_MONTH = 0.05
SECRET_MONTH = 0.40
ALARM_METRIC_MONTH = 0.10  # a standard-resolution alarm, per metric it reads (metric math: each)
HOSTED_ZONE_MONTH = 0.50  # the private zone behind the Cloud Map namespace agents use
S3_STANDARD_GB_MONTH = 0.023
S3_PUT_PER_1000 = 0.005


# JENKINS_HOME of a small team after a few months: configuration, build records, logs.
ASSUMED_JENKINS_HOME_GB = 10
ALB_ZONES = 2
BUILD_MINUTES_EXAMPLE = 10
# Access logs of a small team's platform, compressed: about a gigabyte a month. A load balancer
# writes one file per node every 5 minutes (ELB User Guide, "Access log files").
ASSUMED_ACCESS_LOG_GB_MONTH = 1.0
ALB_LOG_FILES_MONTH = ALB_ZONES * 12 * HOURS_PER_MONTH


@dataclass(frozen=True)
class CostLine:
    """One item of the estimate, in US dollars per month."""

    item: str
    detail: str
    monthly_usd: float


@dataclass(frozen=True)
class CostEstimate:
    """The always-on lines, their total, and what one build costs on top."""

    lines: list[CostLine]
    build_example: CostLine
    notes: list[str]
    # What one deploy of each blue-green, canary or linear app adds: the second set of tasks
    # that runs while traffic moves and bakes (rolling deploys add nothing to speak of).
    deploy_examples: list[CostLine] = field(default_factory=list)

    @property
    def total_usd(self) -> float:
        """The monthly total of the always-on lines."""
        return round(sum(line.monthly_usd for line in self.lines), 2)


def task_hourly(cpu: int, memory: int, storage_gib: int = 20, arch: str = "amd64") -> float:
    """Fargate on-demand price of one task for one hour."""
    extra_storage = max(storage_gib - 20, 0)
    return (cpu / 1024 * FARGATE_VCPU_HOUR[arch] + memory / 1024 * FARGATE_GB_HOUR[arch]
            + extra_storage * FARGATE_STORAGE_GB_HOUR)


def estimate(cfg: Config) -> CostEstimate:
    """Estimate the monthly cost of the platform's always-on parts for ``cfg``."""
    j = cfg.jenkins
    public_ip = assign_public_ip(cfg)
    lines = [
        CostLine("Jenkins controller",
                 f"{_size(j.cpu, j.memory)}, {j.storage_gib} GB storage, 24/7",
                 task_hourly(j.cpu, j.memory, j.storage_gib, j.architecture) * HOURS_PER_MONTH),
        CostLine("Load balancer", "hourly charge; traffic (LCU) extra",
                 ALB_HOUR * HOURS_PER_MONTH),
        CostLine("Public IPv4 addresses", _ip_detail(cfg, public_ip),
                 _ip_count(cfg, public_ip) * PUBLIC_IPV4_HOUR * HOURS_PER_MONTH),
        CostLine("EFS (JENKINS_HOME)", f"{ASSUMED_JENKINS_HOME_GB} GB assumed, plus daily backups",
                 ASSUMED_JENKINS_HOME_GB * (EFS_STANDARD_GB_MONTH + BACKUP_EFS_GB_MONTH)),
        _agents(cfg, trusted=False),
        _agents(cfg, trusted=True),
        CostLine("Secrets Manager", "the Jenkins admin's and the two agent pools' passwords",
                 3 * SECRET_MONTH),
        CostLine("Private DNS", f"{internal_namespace(cfg.name)}, agents' way to the controller",
                 HOSTED_ZONE_MONTH),
    ]
    if cfg.access_logs.enabled:
        lines.append(_access_logs(cfg))
    for name, app in cfg.apps.items():
        lines.append(_app(name, app))
        # The error-rate alarm reads two metrics (5xx and requests), the response time one.
        metrics = 2 * bool(app.alarms.error_rate) + bool(app.alarms.response_time_ms) \
            if behind_load_balancer(app) else 0
        if metrics:
            lines.append(CostLine(f"app {name} alarms", f"deployment alarms, {metrics} metrics",
                                  metrics * ALARM_METRIC_MONTH))
    b = cfg.builder
    hourly = task_hourly(b.cpu, b.memory, b.storage_gib)
    if b.spot:
        hourly *= 1 - FARGATE_SPOT_DISCOUNT
    build = CostLine("one build", f"{BUILD_MINUTES_EXAMPLE} min at {_size(b.cpu, b.memory)}"
                     + (" on Spot" if b.spot else ""), hourly * BUILD_MINUTES_EXAMPLE / 60)
    notes = [f"List prices of {PRICES_REGION}, on demand, as of {PRICES_AS_OF}; "
             f"{cfg.region} may differ. An estimate, not a bill.",
             "Not included: data transfer, NAT, CloudWatch Logs ingestion, ECR storage, "
             "load balancer capacity units, your Route 53 zone."]
    rounded = [CostLine(x.item, x.detail, round(x.monthly_usd, 2)) for x in lines]
    deploys = [_deploy_example(name, app, public_ip) for name, app in cfg.apps.items()
               if app.deploy.progressive]
    return CostEstimate(rounded, CostLine(build.item, build.detail, round(build.monthly_usd, 3)),
                        notes, deploys)


def _app(name: str, app: App) -> CostLine:
    """An app's tasks all month: its count, or with scale its range (priced at min, the most
    it can cost said beside)."""
    monthly = task_hourly(app.cpu, app.memory) * HOURS_PER_MONTH
    if app.scale is None:
        return CostLine(f"app {name}", f"{app.count} x {_size(app.cpu, app.memory)}, 24/7",
                        app.count * monthly)
    low, high = app.scale.min, app.scale.max
    return CostLine(f"app {name}", f"{low}-{high} x {_size(app.cpu, app.memory)}, 24/7, "
                                   f"scaled (at {high}: ${high * monthly:,.2f})", low * monthly)


def progressive_minutes(app: App) -> float:
    """How long a deploy of ``app`` runs both revisions: start and test, the traffic moves
    (the canary's bake, or each linear step's), then the final bake (a typical smoke test
    takes half its timeout)."""
    return deploy_time(app, smoke="typical").minutes


def _deploy_example(name: str, app: App, public_ip: bool) -> CostLine:
    """One deploy's extra tasks (and their public addresses) for as long as both run."""
    minutes = progressive_minutes(app)
    hourly = app.initial_count * (task_hourly(app.cpu, app.memory)
                                  + (PUBLIC_IPV4_HOUR if public_ip else 0))
    return CostLine(f"one {app.deploy.strategy} deploy of {name}",
                    f"{app.initial_count} more x {_size(app.cpu, app.memory)} for about "
                    f"{minutes:g} min", round(hourly * minutes / 60, 4))


def _agents(cfg: Config, *, trusted: bool) -> CostLine:
    """An agent pool, running all month: with Spot, the first agent on demand and the rest
    three Spot to one on demand (templates/jenkins.py, SPOT_STRATEGY). An agent that ran a
    build is replaced by a fresh task; the pool's size, and so its cost, stays the same."""
    a = cfg.jenkins.agents
    count, key = (a.trusted_count, "trusted_count") if trusted else (a.count, "count")
    hourly = task_hourly(a.cpu, a.memory, a.storage_gib, cfg.jenkins.architecture)
    extra = max(count - 1, 0)
    on_demand, spot = (1 + extra / 4, extra * 3 / 4) if a.spot and count else (count, 0.0)
    detail = f"{count} x {_size(a.cpu, a.memory)}, 24/7"
    if not count:
        detail = f"none (jenkins.agents.{key} is 0)"
    elif spot:
        detail += ", the first on demand, then 3 in 4 on Spot"
    else:
        detail += ", on demand"
    monthly = (on_demand + spot * (1 - FARGATE_SPOT_DISCOUNT)) * hourly * HOURS_PER_MONTH
    return CostLine("Trusted agents" if trusted else "Untrusted agents", detail, monthly)


def _access_logs(cfg: Config) -> CostLine:
    """The log bucket: what is kept at any time, and the load balancer's writes."""
    days = cfg.access_logs.keep_days
    stored = ASSUMED_ACCESS_LOG_GB_MONTH * days / 30
    return CostLine("Access logs", f"~{ASSUMED_ACCESS_LOG_GB_MONTH:g} GB a month assumed, kept "
                                   f"{days} days",
                    stored * S3_STANDARD_GB_MONTH
                    + ALB_LOG_FILES_MONTH / 1000 * S3_PUT_PER_1000)


def _size(cpu: int, memory: int) -> str:
    return f"{cpu / 1024:g} vCPU / {memory / 1024:g} GB"


def _ip_count(cfg: Config, public_ip: bool) -> int:
    agents = cfg.jenkins.agents.count + cfg.jenkins.agents.trusted_count
    tasks = 1 + agents + sum(app.initial_count for app in cfg.apps.values())
    return ALB_ZONES + (tasks if public_ip else 0)


def _ip_detail(cfg: Config, public_ip: bool) -> str:
    if not public_ip:
        return f"{ALB_ZONES} for the load balancer (tasks use private subnets)"
    return f"{ALB_ZONES} for the load balancer, one per running task"
