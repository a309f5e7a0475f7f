"""``apps.<name>``: an app's size, count or scaling, kind, image, environment, health checks,
deployment alarms and strategy. Checks across apps (kinds, hosts, jobs) live in kinds.py,
routing.py and checks.py."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from dockyard.config import limits, routing
from dockyard.config.fields import (
    _NAME,
    _PATH,
    Cpu,
    EnvName,
    EnvValue,
    FargateSize,
    Host,
    Model,
    Retention,
    SecretName,
    SecretRef,
    _check,
)
from dockyard.config.kinds import Kind
from dockyard.rules import shown


class AppAlarms(Model):
    """CloudWatch alarms on the app's target group that fail a deployment while it rolls out,
    and make ECS roll it back."""

    error_rate: Annotated[int, Field(ge=0, le=100, description=(
        "Roll back when this percent of requests or more get a 5xx from the app's tasks, two "
        "minutes running (0: no alarm)."))] = 5
    response_time_ms: Annotated[int, Field(ge=0, le=600_000, description=(
        "Roll back when the average response time of the app's tasks reaches this many "
        "milliseconds, two minutes running (0: no alarm)."))] = 0


class AppScale(Model):
    """Application Auto Scaling: ECS keeps the app between min and max tasks, adding tasks
    while a metric is above its target and removing them while it is well below (target
    tracking; several targets: out when any asks, in only when all do)."""

    min: Annotated[int, Field(ge=1, le=100, description=(
        "The fewest tasks; a new service starts with this many."))]
    max: Annotated[int, Field(ge=1, le=100, description="The most tasks.")]
    cpu_percent: Annotated[int, Field(ge=1, le=100)] | None = Field(default=None, description=(
        "Keep the tasks' average CPU at this percent."))
    memory_percent: Annotated[int, Field(ge=1, le=100)] | None = Field(
        default=None, description="Keep the tasks' average memory at this percent.")
    requests_per_target: Annotated[int, Field(ge=1, le=1_000_000)] | None = Field(
        default=None, description=(
            "Keep each task at this many requests a minute (the load balancer's count; for "
            "blue-green, canary and linear apps summed over both target groups, so it holds "
            "across a deploy's swap)."))
    response_time_ms: Annotated[int, Field(ge=1, le=600_000)] | None = Field(
        default=None, description=(
            "Keep the average response time at this many milliseconds (the load balancer's "
            "TargetResponseTime)."))

    @model_validator(mode="after")
    def _range_and_a_target(self) -> AppScale:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")
        if not any((self.cpu_percent, self.memory_percent, self.requests_per_target,
                    self.response_time_ms)):
            raise ValueError("give at least one target: cpu_percent or memory_percent "
                             "(any app), requests_per_target or response_time_ms (a web app)")
        return self


Strategy = Literal["rolling", "blue-green", "canary", "linear"]
STRATEGIES: tuple[Strategy, ...] = ("rolling", "blue-green", "canary", "linear")


def _tenths(low: float) -> AfterValidator:
    """A percentage ECS takes: ``low``-100 in steps of 0.1."""
    def validate(value: float) -> float:
        if not low <= value <= 100 or abs(value * 10 - round(value * 10)) > 1e-9:
            raise ValueError(f"{value:g} is not a percentage from {low:g} to 100 in steps of 0.1")
        return round(value, 1)
    return AfterValidator(validate)


_Bake = Annotated[int, Field(ge=0, le=limits.BAKE_MINUTES_MAX)]


def _no_nul(word: str) -> str:
    if "\x00" in word:
        raise ValueError("contains a NUL character, which no command can carry")
    return word


def _a_command(command: str) -> str:
    """A shell command a task can run: ``sh -c ''`` passes, so a blank one tests nothing, and
    a NUL ends the string execve hands the shell."""
    if "\x00" in command:
        raise ValueError("contains a NUL character, which no command can carry")
    if not command.strip():
        raise ValueError("is blank: give the command to run, or leave smoke_test out")
    return command


# Settings only a blue-green, canary or linear deploy reads; ``deploy --strategy`` may pick any
# of those for a progressive app, but a rolling app's stack serves none of them.
_PROGRESSIVE_ONLY = ("bake_minutes", "canary_percent", "canary_bake_minutes", "step_percent",
                     "step_bake_minutes", "smoke_timeout_minutes")


class AppDeploy(Model):
    """How ``dockyard deploy`` moves traffic to a new revision (ECS deployment strategies)."""

    strategy: Strategy = Field(default="rolling", description=(
        "rolling: replace tasks in place. blue-green: start the new revision beside the old, "
        "test it, then move all traffic at once. canary: move canary_percent of traffic, wait, "
        "then the rest. linear: move step_percent at a time. Every strategy rolls back on a "
        "failed health check, a deployment alarm or a failed smoke test (exit 4)."))
    bake_minutes: Annotated[_Bake, Field(description=(
        "Minutes the old revision keeps running after all traffic has moved, for an instant "
        "rollback (blue-green, canary, linear)."))] = 5
    canary_percent: Annotated[float, _tenths(limits.CANARY_PERCENT_MIN), Field(
        description="canary: the share of traffic the new revision gets first (0.1-100).")] = 5.0
    canary_bake_minutes: Annotated[_Bake, Field(
        description="canary: minutes at canary_percent before the rest moves.")] = 10
    step_percent: Annotated[float, _tenths(limits.STEP_PERCENT_MIN), Field(
        description="linear: the share of traffic moved at each step (3-100).")] = 10.0
    step_bake_minutes: Annotated[_Bake, Field(
        description="linear: minutes between steps.")] = 6
    smoke_test: Annotated[str, Field(min_length=1, max_length=1000),
                          AfterValidator(_a_command)] | None = Field(
        default=None, description=(
            "A shell command run as a one-off task of the new image against the test endpoint "
            "($DOCKYARD_TEST_URL, with the header in $DOCKYARD_TEST_HEADER) before production "
            "traffic moves; a non-zero exit rolls the deployment back. Not with rolling."))
    smoke_timeout_minutes: Annotated[int, Field(ge=1, le=120, description=(
        "Minutes the smoke test may take; then it counts as failed."))] = 10
    critical_findings: Literal["warn", "refuse"] = Field(default="warn", description=(
        "An image with CRITICAL findings in ECR's scan (each push is scanned): 'warn' "
        "deploys it and says so; 'refuse' deploys nothing (exit 3), and neither does an image "
        "whose scan has not finished."))

    @field_validator("smoke_test")
    @classmethod
    def _smoke_needs_test_traffic(cls, smoke_test: str | None, info: ValidationInfo
                                  ) -> str | None:
        if smoke_test and info.data.get("strategy") == "rolling":
            raise ValueError("a rolling deploy has no test traffic to smoke test: use "
                             "strategy blue-green, canary or linear")
        return smoke_test

    @field_validator(*_PROGRESSIVE_ONLY)
    @classmethod
    def _not_with_rolling(cls, value: float, info: ValidationInfo) -> float:
        if info.data.get("strategy") == "rolling":
            raise ValueError("a rolling deploy does not use it (blue-green, canary and linear "
                             f"do): set strategy, or leave {info.field_name} out")
        return value

    @model_validator(mode="after")
    def _within_awss_hours(self) -> AppDeploy:
        if not self.progressive:
            return self
        from dockyard.deploy.timing import linear_steps

        steps = linear_steps(self.step_percent) - 1
        for strategy, shifting, how in (
                ("canary", self.canary_bake_minutes, "canary_bake_minutes"),
                ("linear", steps * self.step_bake_minutes,
                 f"{steps} steps of step_percent {self.step_percent:g} after the first, x "
                 "step_bake_minutes")):
            minutes = self.bake_minutes + shifting
            if minutes > limits.PROGRESSIVE_MINUTES_MAX:
                also = "" if strategy == self.strategy else \
                    f" (`dockyard deploy --strategy {strategy}`)"
                raise ValueError(
                    f"a {strategy} deploy{also} would hold traffic {minutes:,} minutes ({how}, "
                    f"+ bake_minutes); AWS takes at most {limits.PROGRESSIVE_MINUTES_MAX:,} "
                    f"(33 h: CloudFormation, {strategy.capitalize()}Configuration): shorten "
                    "the bakes or take bigger steps")
        return self

    @property
    def progressive(self) -> bool:
        """Whether the strategy needs the second target group and the test rule."""
        return self.strategy != "rolling"


class App(FargateSize):
    """An application deployed as an ECS service: behind the load balancer (web), or a
    long-running process that takes no traffic (worker)."""

    kind: Kind = Field(default="web", description=(
        "web: an HTTPS service at https://<host>.<domain> behind the shared load balancer. "
        "worker: a long-running process that takes no traffic (a queue consumer): no port, "
        "no host, no load balancer; deployed rolling, scaled on CPU or memory."))
    command: Annotated[list[Annotated[str, Field(min_length=1, max_length=4096),
                                  AfterValidator(_no_nul)]],
                       Field(min_length=1, max_length=100)] | None = Field(
        default=None, description=(
            "What the container runs instead of the image's CMD, as a list (exec form, no "
            "shell): [celery, -A, conduit, worker]. Default: the image's CMD."))
    image_from: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None, description=(
            "Deploy the images built for another app of dockyard.yml (its repository) "
            "instead of building its own: a worker of the same code base as a web app, with "
            "its own command. The app then has no repository of its own."))
    port: Annotated[int, Field(ge=1, le=65535)] | None = Field(default=None, description=(
        "The port the app's container listens on (a web app's, required)."))
    host: Host | None = Field(default=None, description="Default: the app's name (web apps).")
    cpu: Annotated[Cpu, Field(description="CPU units of each task (256 = 0.25 vCPU).")] = 256
    memory: Annotated[int, Field(description="Memory of each task in MiB; must fit its CPU.")] = 512
    count: Annotated[int, Field(ge=0, le=100, description=(
        "How many tasks run (0-100), when the count is fixed (see scale)."))] = 1
    scale: AppScale | None = Field(default=None, description=(
        "Autoscaling instead of a fixed count: min and max tasks and the targets to hold "
        "(cpu_percent, memory_percent, requests_per_target, response_time_ms). Registered "
        "once the service exists: after the first deploy, `dockyard up`."))
    health_check: Annotated[str, _check(_PATH, "a path starting with /"),
                            Field(max_length=limits.HEALTH_CHECK_PATH_CHARACTERS,
                                  description="The path the load balancer checks (200-399 is "
                                              "healthy).")] = "/"
    env: Annotated[dict[EnvName, EnvValue], Field(
        description="Plain environment variables; secrets belong in secrets.")] = {}
    secrets: dict[SecretName, SecretRef] = Field(
        default={}, description="NAME: a Secrets Manager name or ARN, or ssm:/parameter/path."
    )
    priority: Annotated[int, Field(ge=2, le=routing.ISSUER_RULE_PRIORITY - 1)] | None = Field(
        default=None, description="The listener rule's priority (2-49999); default: derived "
                                  "from the app's name.")
    log_retention_days: Annotated[Retention, Field(
        description="Days the app's logs are kept.")] = 30
    health_command: Annotated[str, Field(min_length=1, max_length=1000)] | None = Field(
        default=None, description=(
            "A command the container runs to check itself (a shell command: exit 0 is "
            "healthy), like `curl -fsS http://localhost:8000/healthz`; ECS replaces a task "
            "that fails it three times. Default: none (a web app has the load balancer's "
            "check; a worker then counts as healthy while it runs)."))
    read_only_root: bool = Field(default=True, description=(
        "The container's root file system is read-only, so code that gets in cannot change the "
        "image's files; /tmp is a writable scratch volume. false for an image that writes "
        "elsewhere."))
    exec: bool = Field(default=False, description=(
        "Allow `dockyard exec APP`: a shell (or any command) in a running task through ECS "
        "Exec, its session written to the app's log group. Gives the task role the SSM "
        "messages permissions and needs read_only_root: false (ECS Exec's agent writes to "
        "the root file system). Takes effect for the tasks of the next deploy."))
    alarms: AppAlarms = Field(default_factory=AppAlarms, description=(
        "Deployment alarms: a deploy that trips one fails and ECS rolls it back (exit 4)."))
    job: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None, description=(
            "The Jenkins job (jenkins.jobs[].name) whose trusted builds may build, migrate and "
            "deploy this app; no other pipeline can. Default: the job of the same name, else the "
            "only job. 'none': only the operator deploys it."))
    deploy: AppDeploy = Field(default_factory=AppDeploy, description=(
        "The deployment strategy (rolling, blue-green, canary, linear) and its timings."))

    @field_validator("secrets")
    @classmethod
    def _secret_count(cls, secrets: dict[str, str]) -> dict[str, str]:
        if len(secrets) > limits.MAX_SECRETS:
            raise ValueError(f"{len(secrets)} secrets; at most {limits.MAX_SECRETS}: each is a "
                             "parameter of the app's stack, and CloudFormation takes 200 per "
                             "template")
        return secrets

    @property
    def listen_port(self) -> int:
        """The port of an app behind the load balancer (the checks make a web app name it)."""
        if self.port is None:
            raise ValueError(f"a {self.kind} app has no port")
        return self.port

    @property
    def initial_count(self) -> int:
        """The tasks a new service starts with: the fixed count, or scale.min."""
        return self.scale.min if self.scale else self.count

    @model_validator(mode="after")
    def _fits_task_definition(self) -> App:
        size = limits.env_bytes(self.env, self.secrets)
        if size > limits.ENV_BYTES:
            raise ValueError(f"env and secrets take {size:,} bytes of the task definition; "
                             f"dockyard leaves them {limits.ENV_BYTES:,} of the "
                             f"{limits.TASK_DEFINITION_BYTES:,} ECS allows (ECS service quotas)")
        return self


def _app_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"app name {shown(name)} must be 2-20 characters of lowercase letters, "
                         "digits and single hyphens, starting with a letter")
    # Image repositories are <name>/<app> and <name>/<app>-cache, next to <name>/jenkins-*.
    if name.startswith("jenkins") or name.endswith("-cache"):
        raise ValueError(f"app name {shown(name)} is reserved: names starting with 'jenkins' or "
                         "ending in '-cache' belong to dockyard's own images")
    # Task definition families are <name>-<app> and <name>-<app>-run (one-off tasks), next to
    # <name>-kaniko-*; roles <name>-kaniko-<app> and <name>-pipeline-<app>.
    if name.startswith(("kaniko", "pipeline")) or name.endswith("-run"):
        raise ValueError(f"app name {shown(name)} is reserved: names starting with 'kaniko' or "
                         "'pipeline' or ending in '-run' belong to dockyard's task definitions "
                         "and roles")
    # Roles and tags name an app, or these: untrusted builds, Jenkins' images, quarantine.
    if name in ("untrusted", "platform", "quarantine"):
        raise ValueError(f"app name {shown(name)} is reserved: dockyard names its untrusted "
                         "builds, its own images and their quarantine so")
    return name

