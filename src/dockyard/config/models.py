"""dockyard.yml as pydantic models: every field, its default, and the checks AWS would make later.

Unknown keys are errors (``extra="forbid"``), so a typo never silently falls back to a default.
Checks that span fields live in checks.py, and how hosts become listener rules in routing.py;
both raise :func:`crossfield.cross_error` with the path of the field to blame, so the loader can
point at its line.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from dockyard.config import checks, fargate, limits, routing
from dockyard.config.kinds import Kind
from dockyard.rules import looks_secret, shown

# The kaniko fork that is maintained since upstream was archived in June 2025
# (github.com/osscontainertools/kaniko). Pin it by digest in dockyard.yml where you can.
DEFAULT_EXECUTOR_IMAGE = "ghcr.io/osscontainertools/kaniko:v1.28.3"

# GitHub's webhooks come from the ranges GitHub publishes as "hooks" (GET
# https://api.github.com/meta; GitHub Docs, "About GitHub's IP addresses"), as listed in 2026-12.
GITHUB_HOOK_CIDRS = ("192.30.252.0/22", "185.199.108.0/22", "140.82.112.0/20", "143.55.64.0/20",
                     "2a0a:a440::/29", "2606:50c0::/32")

_LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                       2192, 2557, 2922, 3288, 3653)
_NAME = re.compile(r"^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){1,19}$")
_DNS_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_DOMAIN = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_REGION = re.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SM_ARN = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[\w/+=.@-]+(:.*)?$")
_SSM_ARN = re.compile(r"^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/[\w/.-]+$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$")
_SM_NAME = re.compile(r"^[\w/+=.@-]{1,512}$")
_SSM_NAME = re.compile(r"^ssm:/?[\w/.-]{1,1011}$")
_REPO_SLUG = re.compile(r"^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$")
_PATH = re.compile(r"^/[\x21-\x7e]*$")
_TAG_FILTER = re.compile(r"^[A-Za-z0-9._*-]{1,128}$")
# A git branch a job deploys from: no wildcard, nothing Jenkins escapes in a job's name but '/',
# and not the name GitHub pull requests get in a multibranch job (PR-12).
_BRANCH = re.compile(r"^(?!PR-[0-9]+$)(?!\.{1,2}$)(?!/)(?!.*//)(?!.*/$)[A-Za-z0-9._/-]{1,200}$")


def _check(pattern: re.Pattern[str], what: str) -> AfterValidator:
    def validate(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"{shown(value)} is not {what}")
        return value

    return AfterValidator(validate)


def _lower(value: Any) -> Any:
    return value.lower().rstrip(".") if isinstance(value, str) else value


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError:
        raise ValueError(f"{shown(value)} is not a CIDR block (like 10.0.0.0/16, with no host "
                         "bits set)") from None


def _retention(days: int) -> int:
    if days not in _LOG_RETENTION_DAYS:
        raise ValueError(f"{days} is not a CloudWatch Logs retention; use one of 1, 3, 7, 14, 30, "
                         "60, 90, 180, 365 (or another value CloudWatch offers)")
    return days


def _known_region(region: str) -> str:
    known = limits.known_regions()
    if known is not None and region not in known:
        raise ValueError(f"{shown(region)} is not an AWS region this installation knows (botocore "
                         "lists every region there is; a newer one needs a newer boto3)")
    return region


def _scalar_to_str(value: Any) -> Any:
    # YAML reads `DEBUG: 1` as an int and `ON: yes` as a bool; environment values are strings.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _env_name(key: str) -> str:
    if not _ENV_NAME.match(key):
        raise ValueError(f"{shown(key)} is not an environment variable name")
    return key


def _not_secret_looking(key: str) -> str:
    if looks_secret(key):
        raise ValueError(f"{key} looks like a secret; move it to 'secrets' as a Secrets Manager or "
                         "SSM reference, so its value never sits in the task definition")
    return key


def _secret_ref(ref: str) -> str:
    if _SM_ARN.match(ref) or _SSM_ARN.match(ref) or _SSM_NAME.match(ref):
        return ref
    if _SM_NAME.match(ref) and not ref.startswith("arn:"):
        return ref
    raise ValueError(f"{shown(ref)} is not a Secrets Manager name or ARN, nor "
                     "ssm:/parameter/path")


Name = Annotated[str, _check(_NAME, "a valid name: 2-20 characters of lowercase letters, digits "
                             "and single hyphens, starting with a letter")]
Host = Annotated[str, BeforeValidator(_lower), _check(_DNS_LABEL, "a DNS label (like 'jenkins')")]
Cidr = Annotated[str, AfterValidator(_cidr)]
Cpu = Annotated[int, AfterValidator(fargate.check_cpu)]
StorageGib = Annotated[int, AfterValidator(fargate.check_storage)]
Retention = Annotated[int, AfterValidator(_retention)]
EnvValue = Annotated[str, BeforeValidator(_scalar_to_str)]
SecretName = Annotated[str, AfterValidator(_env_name)]
EnvName = Annotated[str, AfterValidator(_env_name), AfterValidator(_not_secret_looking)]
SecretRef = Annotated[str, AfterValidator(_secret_ref)]


class Model(BaseModel):
    """Base of every dockyard.yml section: unknown keys are errors, values are immutable, and
    types are strict (``port: true`` is not port 1, ``count: "2"`` is not 2)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class FargateSize(Model):
    """A Fargate task size; memory is checked against the CPU value declared before it."""

    cpu: Cpu
    memory: int

    @field_validator("memory")
    @classmethod
    def _memory_fits_cpu(cls, memory: int, info: ValidationInfo) -> int:
        cpu = info.data.get("cpu")
        return memory if cpu is None else fargate.check_memory(cpu, memory)


class DefaultVpc(Model):
    """Use the region's default VPC and two of its subnets in different zones (as the seed did)."""

    mode: Annotated[Literal["default-vpc"], Field(
        description="default-vpc: the region's default VPC (the default).")] = "default-vpc"


class ExistingNetwork(Model):
    """Use a VPC you already have."""

    mode: Annotated[Literal["existing"], Field(description="existing: a VPC you already have.")]
    vpc_id: Annotated[
        str, _check(re.compile(r"^vpc-[0-9a-f]{8,17}$"), "a VPC id (vpc-...)"),
        Field(description="The VPC's id (vpc-...).")]
    subnets: Annotated[
        list[Annotated[str, _check(re.compile(r"^subnet-[0-9a-f]{8,17}$"), "a subnet id")]],
        Field(min_length=2, description="Public subnets in two or more zones (load balancer)."),
    ]
    private_subnets: Annotated[
        list[Annotated[str, _check(re.compile(r"^subnet-[0-9a-f]{8,17}$"), "a subnet id")]],
        Field(description="Subnets with a NAT route for tasks and EFS; no public IPs then."),
    ] = []

    @field_validator("private_subnets")
    @classmethod
    def _two_or_none(cls, subnets: list[str]) -> list[str]:
        if len(subnets) == 1:
            raise ValueError("give at least two private subnets in different zones, or none")
        return subnets


class CreateNetwork(Model):
    """Create a VPC with two public subnets in two zones and an internet gateway."""

    mode: Annotated[Literal["create"], Field(
        description="create: a new VPC with two public subnets.")]
    cidr: Annotated[Cidr, Field(
        description="The new VPC's IPv4 block, /16 to /24.")] = "10.0.0.0/16"

    @field_validator("cidr")
    @classmethod
    def _size(cls, cidr: str) -> str:
        network = ipaddress.ip_network(cidr)
        if network.version != 4 or not 16 <= network.prefixlen <= 24:
            raise ValueError(f"{cidr} must be an IPv4 block between /16 and /24")
        problem = limits.vpc_cidr_problem(cidr)
        if problem:
            raise ValueError(f"{problem} (Amazon VPC User Guide, \"VPC CIDR blocks\")")
        return cidr


Network = Annotated[DefaultVpc | ExistingNetwork | CreateNetwork, Field(discriminator="mode")]


class Edge(Model):
    """The shared HTTPS entry point: one load balancer, one certificate, one hosted zone."""

    domain: Annotated[str, BeforeValidator(_lower), _check(_DOMAIN, "a domain name")] = Field(
        description="The Route 53 hosted zone; Jenkins and apps get hosts under it."
    )
    hosted_zone_id: Annotated[
        str, _check(re.compile(r"^Z[A-Z0-9]{1,31}$"), "a hosted zone id (Z...)")
    ] | None = Field(default=None, description="Default: looked up by domain at deploy time.")
    certificate: str = Field(
        default="auto", description="'auto' (ACM, DNS-validated in the zone) or an ACM ARN."
    )
    allowed_cidrs: Annotated[list[Cidr], Field(min_length=1)] = Field(
        description="Who may reach the load balancer on 80/443. No default: decide who gets in."
    )

    @field_validator("allowed_cidrs")
    @classmethod
    def _fits_security_group(cls, cidrs: list[str]) -> list[str]:
        if len(set(cidrs)) != len(cidrs):
            twice = next(c for c in cidrs if cidrs.count(c) > 1)
            raise ValueError(f"{twice} is listed twice (EC2 refuses duplicate security group "
                             "rules)")
        for version in (4, 6):
            count = sum(1 for c in cidrs if ipaddress.ip_network(c).version == version)
            if count > limits.MAX_ALLOWED_CIDRS:
                raise ValueError(
                    f"{count} IPv{version} blocks need {count * limits.EDGE_PORTS} inbound rules "
                    f"(ports 80 and 443); a security group takes {limits.SECURITY_GROUP_RULES} "
                    f"(Amazon VPC quotas): at most {limits.MAX_ALLOWED_CIDRS}, so merge blocks")
        return cidrs

    @field_validator("certificate")
    @classmethod
    def _certificate(cls, value: str) -> str:
        if value != "auto" and not checks.ACM_ARN.match(value):
            raise ValueError(f"{shown(value)} is neither 'auto' nor an ACM certificate ARN")
        return value


class GitHub(Model):
    """Where Jenkins finds its GitHub credentials."""

    credentials_secret: Annotated[str, _check(_SM_NAME, "a Secrets Manager secret name")] = \
        Field(description='A JSON secret: {"private_key": ..., "webhook_secret": ...} with app_id '
                          '(the GitHub App\'s PKCS#8 key), else {"username": ..., "token": ..., '
                          '"webhook_secret": ...} (a personal access token, the fallback).')
    app_id: Annotated[str, _check(re.compile(r"^[1-9][0-9]{0,11}$"),
                                  "a GitHub App's ID (its number)")] | None = Field(
        default=None, description=(
            "The GitHub App Jenkins reads GitHub as (recommended): its tokens last an hour, and "
            "the one a build receives reads only the build's own repository. Without it, Jenkins "
            "uses the secret's personal access token for everything."))
    webhook_secret: bool = Field(
        default=True, description="Jenkins accepts only GitHub webhooks signed with the secret's "
                                  "webhook_secret (set the same value in GitHub).")


_TEAM = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\*[A-Za-z0-9._-]{1,100}$")
_TEAMS = Annotated[
    list[Annotated[str, _check(_TEAM, "a GitHub team as organization*team-slug")]],
    Field(max_length=20)]


class GitHubSignIn(Model):
    """People sign in to Jenkins with GitHub (the github-oauth plugin), by their teams."""

    client_id: Annotated[str, _check(re.compile(r"^[A-Za-z0-9._-]{1,100}$"),
                                     "a GitHub OAuth App's client ID")] = Field(
        description="The client ID of the GitHub OAuth App whose callback URL is "
                    "https://<jenkins host>/securityRealm/finishLogin.")
    client_secret: Annotated[str, _check(_SM_NAME, "a Secrets Manager secret name")] = Field(
        description="The Secrets Manager secret that holds the OAuth App's client secret (the "
                    "secret's whole text).")
    admins: Annotated[_TEAMS, Field(min_length=1, description=(
        "The teams whose members administer Jenkins, as organization*team-slug."))]
    developers: Annotated[_TEAMS, Field(description=(
        "The teams whose members see jobs and start, stop and read builds (not configure, "
        "not replay: a replay would run edited code as a trusted build)."))] = []


class SignIn(Model):
    """Who signs in to Jenkins."""

    github: GitHubSignIn | None = Field(default=None, description=(
        "Sign in with GitHub, admins and developers by team. Without it, one local 'admin' "
        "whose password is the Secrets Manager secret <name>-jenkins-admin. Removing it (and "
        "running up) is the way back in should GitHub sign-in fail."))


class JenkinsJob(Model):
    """One multibranch pipeline job, seeded by Job DSL."""

    name: Annotated[
        str, _check(re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"), "a job name"),
        Field(description="The job's name in Jenkins (unique).")]
    repository: Annotated[
        str, _check(_REPO_SLUG, "a GitHub repository as owner/name"),
        Field(description="The GitHub repository, owner/name.")]
    jenkinsfile: Annotated[str, _check(re.compile(r"^[A-Za-z0-9._/-]{1,200}$"),
                                       "a path in the repository (like ci/Jenkinsfile)"),
                           Field(description="The pipeline's path in the repository.")] \
        = "Jenkinsfile"
    deploy_branches: Annotated[
        list[Annotated[str, _check(_BRANCH, "a branch name (letters, digits, '.', '_', '-' and "
                                            "'/'; not PR-<number>)")]],
        Field(min_length=0, max_length=10, description=(
            "The branches whose builds are trusted: they may deploy and run one-off tasks of the "
            "apps this job deploys (apps.<name>.job). Every other build of the job, and every "
            "pull request, is untrusted: it builds and tests into quarantine."))] = ["main"]
    fork_pull_requests: bool = Field(default=False, description=(
        "Build pull requests from forks (as untrusted builds). Off by default: a stranger's "
        "code runs on your agents only when you say so."))

    @field_validator("deploy_branches")
    @classmethod
    def _distinct(cls, branches: list[str]) -> list[str]:
        if len(set(branches)) != len(branches):
            raise ValueError("a branch is listed twice")
        return branches


class JenkinsAgents(FargateSize):
    """The Jenkins agents pipelines run on (the controller runs no builds): a pool of Fargate
    tasks that join the controller over WebSocket, run as the ECS service jenkins-agents."""

    count: Annotated[int, Field(ge=0, le=100, description=(
        "How many agents run (0 to 100). Each runs one build at a time; 0 runs none. "
        "`dockyard jenkins agents N` resizes the pool until the next `up`."))] = 1
    cpu: Annotated[Cpu, Field(description="Each agent's CPU units (1024 = 1 vCPU).")] = 1024
    memory: Annotated[int, Field(
        description="Each agent's memory in MiB; must fit its CPU.")] = 2048
    storage_gib: Annotated[StorageGib, Field(
        description="Each agent's task storage in GiB (21-200).")] = 30
    spot: bool = Field(default=True, description=(
        "The first agent on demand, the rest mostly on Fargate Spot (3 Spot to 1 on demand)."))
    trusted_count: Annotated[int, Field(ge=0, le=100, description=(
        "How many agents run trusted builds (a job's deploy branches) in a pool of their own: "
        "untrusted builds never run there. Each agent runs one build and is replaced."))] = 1
    log_retention_days: Annotated[Retention, Field(
        description="Days the agents' logs are kept.")] = 7


class Jenkins(FargateSize):
    """The Jenkins controller: one Fargate task with JENKINS_HOME on EFS."""

    host: Annotated[Host, Field(
        description="The controller's host under edge.domain (jenkins.example.com).")] = "jenkins"
    architecture: Literal["amd64", "arm64"] = Field(
        default="amd64", description="What the controller and its agents run on; dockyard "
                                     "builds their images for it, whatever the apps use.")
    cpu: Annotated[Cpu, Field(description="The controller's CPU units (2048 = 2 vCPU).")] = 2048
    memory: Annotated[int, Field(
        description="The controller's memory in MiB; must fit its CPU.")] = 4096
    storage_gib: Annotated[StorageGib, Field(
        description="The controller's task storage in GiB (21-200), for war and plugins.")] = 30
    image: str | None = Field(default=None, description="Use this image instead of building one.")
    file_system_id: Annotated[
        str, _check(re.compile(r"^fs-[0-9a-f]{8,40}$"), "an EFS file system id (fs-...)")
    ] | None = Field(default=None, description="Adopt this EFS file system as JENKINS_HOME.")
    log_retention_days: Annotated[Retention, Field(
        description="Days the controller's log is kept.")] = 30
    allowed_cidrs: Annotated[list[Cidr], Field(min_length=1)] | None = Field(
        default=None, description="Who may reach Jenkins: sign-in, the UI and the API. Default: "
                                  "edge.allowed_cidrs; an office or VPN range is safer. "
                                  "GitHub's webhooks are let in apart (webhook_cidrs).")
    webhook_cidrs: Annotated[list[Cidr], Field(min_length=1)] = Field(
        default_factory=lambda: list(GITHUB_HOOK_CIDRS),
        description="Where requests to /github-webhook/ may come from: GitHub's hook ranges "
                    "(https://api.github.com/meta, \"hooks\"; `dockyard plan` says how to "
                    "refresh them).")
    github: Annotated[GitHub | None, Field(
        description="GitHub credentials for scans and webhooks (a Secrets Manager secret).")] \
        = None
    sign_in: Annotated[SignIn, Field(
        description="Who signs in: a local admin (default) or people with GitHub.")] = SignIn()

    @field_validator("allowed_cidrs", "webhook_cidrs")
    @classmethod
    def _once_each(cls, cidrs: list[str] | None) -> list[str] | None:
        if cidrs and len(set(cidrs)) != len(cidrs):
            twice = next(c for c in cidrs if cidrs.count(c) > 1)
            raise ValueError(f"{twice} is listed twice")
        return cidrs
    jobs: Annotated[list[JenkinsJob], Field(
        description="Multibranch pipeline jobs, one per repository.")] = []
    agents: Annotated[JenkinsAgents, Field(
        description="The pool of Fargate agents pipelines run on.")] = JenkinsAgents()


class Builder(FargateSize):
    """kaniko image builds as one-off Fargate tasks."""

    cpu: Annotated[Cpu, Field(
        description="CPU units of a build task (2048 = 2 vCPU); --cpu overrides once.")] = 2048
    memory: Annotated[int, Field(
        description="Memory of a build task in MiB; must fit its CPU.")] = 8192
    storage_gib: Annotated[StorageGib, Field(
        description="Task storage of a build in GiB (21-200): kaniko unpacks layers here.")] = 50
    spot: Annotated[bool, Field(
        description="Builds on Fargate Spot, retried once on demand when interrupted.")] = True
    architectures: Annotated[list[Literal["amd64", "arm64"]], Field(
        min_length=1, description="What images are built for: amd64, arm64 or both (one "
                                  "index).")] = ["amd64"]
    timeout_minutes: Annotated[int, Field(
        ge=1, le=1440, description="A build running longer is stopped (1-1440).")] = 60
    executor_image: Annotated[str, Field(
        description="The kaniko executor image, pinned by digest.")] = DEFAULT_EXECUTOR_IMAGE
    mutable_tags: Annotated[
        list[Annotated[str, _check(_TAG_FILTER, "an ECR tag filter")]],
        Field(max_length=5, description=(
            "Tags that may be put on another image, such as 'latest' (ECR wildcard filters, "
            "'*' for any characters). None by default: a tag names one image for good, and a "
            "build asking for a tag that is already another image's is refused before it "
            "starts.")),
    ] = []
    log_retention_days: Annotated[Retention, Field(description="Days build logs are kept.")] = 14
    registry_auth_secret: Annotated[str, _check(_SM_NAME, "a Secrets Manager secret name")] | None \
        = Field(default=None, description="A secret holding a Docker config JSON ({\"auths\": "
                "...}) for pushing to registries other than ECR, such as Docker Hub.")

    @field_validator("architectures")
    @classmethod
    def _unique(cls, archs: list[str]) -> list[str]:
        if len(set(archs)) != len(archs):
            raise ValueError("each architecture may appear once")
        return archs


class AccessLogs(Model):
    """Who asked what of the platform, kept where the attacks the doors turn away would leave a
    trail: the load balancer's access logs and the build-context bucket's server access logs,
    in one lifecycle-managed log bucket that `dockyard down` keeps."""

    enabled: bool = Field(default=True, description=(
        "Write the load balancer's and the context bucket's access logs (S3 storage is the "
        "only charge; the plan prices it)."))
    keep_days: Annotated[int, Field(ge=1, le=3650, description=(
        "Days a log file is kept before S3 expires it (1-3650)."))] = 90


class Stacks(Model):
    """How `up` and `down` drive CloudFormation."""

    role_arn: Annotated[str, _check(_ROLE_ARN, "an IAM role ARN")] | None = Field(
        default=None, description=(
            "A CloudFormation service role: CloudFormation creates, updates and deletes the "
            "stacks with its permissions, so whoever runs `up` needs only CloudFormation on "
            "these stacks and iam:PassRole on this role (as Copilot does per environment). "
            "Default: the caller's own permissions."))


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
            raise ValueError("give at least one target: cpu_percent, memory_percent, "
                             "requests_per_target or response_time_ms")
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


class Config(Model):
    """The whole of dockyard.yml."""

    name: Name = Field(description="Prefix of every stack and resource.")
    region: Annotated[str, _check(_REGION, "an AWS region (like ap-southeast-2)"),
                      AfterValidator(_known_region),
                      Field(description="The AWS region everything is created in.")]
    network: Annotated[Network, Field(
        description="Which VPC: default-vpc, existing or create.")] = DefaultVpc()
    edge: Annotated[Edge, Field(
        description="The domain, certificate and who may reach the load balancer.")]
    jenkins: Annotated[Jenkins, Field(
        description="The Jenkins controller, its jobs and agents.")] = Jenkins()
    builder: Annotated[Builder, Field(
        description="Image builds with kaniko on Fargate.")] = Builder()
    apps: Annotated[dict[Annotated[str, AfterValidator(_app_name)], App], Field(
        description="Applications deployed as ECS services, by name.")] = {}
    access_logs: Annotated[AccessLogs, Field(
        description="The load balancer's and the context bucket's access logs.")] = \
        AccessLogs()
    stacks: Annotated[Stacks, Field(
        description="How up and down drive CloudFormation.")] = Stacks()

    @field_validator("apps", mode="before")
    @classmethod
    def _app_count(cls, apps: Any) -> Any:
        if isinstance(apps, dict) and len(apps) > limits.MAX_APPS:
            raise ValueError(
                f"{len(apps)} apps; at most {limits.MAX_APPS}: the load balancer's security group "
                f"has one outbound rule per app and one for Jenkins, and takes "
                f"{limits.SECURITY_GROUP_RULES} (Amazon VPC quotas)")
        return apps

    @model_validator(mode="after")
    def _across_fields(self) -> Config:
        checks.check(self)
        return self

    def deploying_job(self, app_name: str) -> JenkinsJob | None:
        """The job whose trusted builds may deploy ``app_name`` (``apps.<name>.job``; by
        default the job of the same name, else the only job), or None: the operator only."""
        chosen = self.apps[app_name].job
        jobs = self.jenkins.jobs
        if chosen == "none":
            return None
        if chosen is not None:
            return next(job for job in jobs if job.name == chosen)
        same = next((job for job in jobs if job.name == app_name), None)
        return same or (jobs[0] if len(jobs) == 1 else None)

    def jenkins_cidrs(self) -> list[str]:
        """The source-ip values of Jenkins' host rules (routing.jenkins_cidrs)."""
        return routing.jenkins_cidrs(self)

    def webhook_cidrs(self) -> list[str]:
        """The source-ip values of Jenkins' webhook rules (routing.webhook_cidrs)."""
        return routing.webhook_cidrs(self)

    def jenkins_rule_priorities(self) -> list[int]:
        """The priorities of Jenkins' listener rules (routing.jenkins_rule_priorities)."""
        return routing.jenkins_rule_priorities(self)

    def host_rule_cidrs(self) -> list[str]:
        """The source-ip values every host rule carries (routing.host_rule_cidrs)."""
        return routing.host_rule_cidrs(self)

    def test_rule_cidrs(self) -> list[str]:
        """The source-ip values of a progressive app's test rule (routing.header_rule_cidrs)."""
        return routing.header_rule_cidrs(self)

    def repository_of(self, app_name: str) -> str:
        """The image repository whose images ``app_name`` runs: its own, ``<name>/<app>``, or
        that of the app it takes them from (apps.<name>.image_from)."""
        return f"{self.name}/{self.apps[app_name].image_from or app_name}"

    def stack_name(self, key: str) -> str:
        """The CloudFormation stack name for a stack key such as ``edge`` or ``app-web``."""
        return f"{self.name}-{key}"

    def url(self, host: str) -> str:
        """The public HTTPS URL of a host under the edge domain, with a trailing slash."""
        return f"https://{host}.{self.edge.domain}/"
