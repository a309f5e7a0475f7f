"""dockyard.yml as pydantic models: every field, its default, and the checks AWS would make later.

Unknown keys are errors (``extra="forbid"``), so a typo never silently falls back to a default.
The building blocks (the strict base model, the annotated types) live in fields.py and the
``apps.<name>`` section in apps.py. Checks that span fields live in checks.py, the kinds of app
in kinds.py, and how hosts become listener rules in routing.py; they raise
:func:`crossfield.cross_error` with the path of the field to blame, so the loader can point at
its line.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    field_validator,
    model_validator,
)

from dockyard.config import checks, limits, routing
from dockyard.config.apps import (  # re-exported: what most of dockyard imports from here
    STRATEGIES,
    App,
    AppAlarms,
    AppDeploy,
    AppScale,
    Strategy,
    _app_name,
)
from dockyard.config.fields import (
    _BRANCH,
    _DOMAIN,
    _REGION,
    _REPO_SLUG,
    _ROLE_ARN,
    _SM_NAME,
    _TAG_FILTER,
    Cidr,
    Cpu,
    FargateSize,
    Host,
    Model,
    Name,
    Retention,
    StorageGib,
    _check,
    _known_region,
    _lower,
)
from dockyard.rules import shown

__all__ = ["STRATEGIES", "App", "AppAlarms", "AppDeploy", "AppScale", "Config", "Strategy"]

# The kaniko fork that is maintained since upstream was archived in June 2025
# (github.com/osscontainertools/kaniko). Pin it by digest in dockyard.yml where you can.
DEFAULT_EXECUTOR_IMAGE = "ghcr.io/osscontainertools/kaniko:v1.28.3"

# GitHub's webhooks come from the ranges GitHub publishes as "hooks" (GET
# https://api.github.com/meta; GitHub Docs, "About GitHub's IP addresses"), as listed in 2026-12.
GITHUB_HOOK_CIDRS = ("192.30.252.0/22", "185.199.108.0/22", "140.82.112.0/20", "143.55.64.0/20",
                     "2a0a:a440::/29", "2606:50c0::/32")

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
