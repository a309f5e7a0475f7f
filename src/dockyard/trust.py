"""Who may do what: the trust tiers of pipeline builds, decided from what Jenkins knows.

Every build gets its AWS credentials from a short-lived OpenID Connect token that the Jenkins
controller signs for that build (the oidc-provider plugin), exchanged with AWS STS
(AssumeRoleWithWebIdentity) for a role whose trust policy names exactly which builds may have
it. For an issuer that is not one of the providers AWS knows, IAM evaluates only the token's
``aud`` and ``sub`` (IAM User Guide, "Available keys for AWS OIDC federation"), so ``sub``
carries what is trusted: the build's job and branch, as Jenkins names the branch's job
(``JOB_NAME``: ``web/main``, ``web/PR-12``, ``web/feature%2Fx``). The plugin computes it on the
controller from the build record; nothing a Jenkinsfile does (``withEnv``, ``environment {}``)
reaches it.

- *untrusted*: every pull request, and every branch that is not one of its job's
  ``deploy_branches``. It may build into its app's quarantine repository and read the trusted
  layer cache, nothing more.
- *trusted for app A*: a deploy branch of the job that ``apps.A.job`` names. It may build into
  A's repository, run A's one-off tasks and deploy A; nothing of any other app.

This module is pure: the templates render the roles from it, the CLI picks the role a command
needs from it, and the two cannot disagree.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass

from dockyard.config.models import Config, JenkinsJob
from dockyard.errors import DockyardError, ExitCode, UsageError

AUDIENCE = "sts.amazonaws.com"
"""The ``aud`` of every token: the one client id the IAM OIDC provider accepts."""

ISSUER_PATH = "oidc"
"""Where the oidc-provider plugin serves its issuer under the Jenkins URL (``Keys``)."""

ID_TOKEN_CREDENTIALS = "dockyard-aws"
"""The Jenkins credential (an ``idToken``) the pipeline library binds for each step."""

TOKEN_LIFETIME_SECONDS = 300
"""How long a token is valid: it is exchanged the moment a dockyard command starts, and a
stolen one is worth little five minutes later."""

TRUSTED_LABEL = "dockyard-trusted"
"""The label trusted agents carry besides ``dockyard``; the controller, not the label, decides
(see the controller's dockyard-trust.groovy)."""

def agent_node_prefix(user: str) -> str:
    """What a pool's nodes are called: the swarm client joins as ``fargate-<user>`` and the
    swarm plugin appends ``-<8 hex digits>`` (jenkins/agent/swarm-agent.sh). The controller lets
    each pool's user create only nodes so named, so the two pools' names never meet."""
    return f"fargate-{user}"

SESSION_MARGIN_SECONDS = 900
"""Credentials outlive the command they serve by this much (start-up, the final reads)."""

MAX_SESSION_SECONDS = 43_200  # IAM: a role's MaxSessionDuration is 3600-43200 seconds
MIN_SESSION_SECONDS = 900  # STS: DurationSeconds is at least 900

UNTRUSTED = "untrusted"
PLATFORM = "platform"

_ENCODE = {"%": "%25", "/": "%2F"}  # branch-api's NameEncoder, for the characters branches take
_SESSION_NAME = re.compile(r"[^\w+=,.@-]")


def issuer_host(cfg: Config) -> str:
    """The issuer without its scheme: the IAM provider's name and its condition keys' prefix
    (``jenkins.example.com/oidc:sub``)."""
    return f"{cfg.jenkins.host}.{cfg.edge.domain}/{ISSUER_PATH}"


def issuer_url(cfg: Config) -> str:
    """The tokens' ``iss``: the Jenkins URL's ``oidc`` (the plugin's default issuer)."""
    return f"https://{issuer_host(cfg)}"


def encode_branch(branch: str) -> str:
    """A branch as its job is named in a multibranch project (``feature/x`` ->
    ``feature%2Fx``)."""
    return "".join(_ENCODE.get(c, c) for c in branch)


def subject(job: str, branch: str) -> str:
    """The ``sub`` of a build of ``branch`` in ``job``: its ``JOB_NAME``."""
    return f"{job}/{encode_branch(branch)}"


def trusted_subjects(cfg: Config, app: str) -> list[str]:
    """The builds that may deploy ``app``: the deploy branches of the job that deploys it."""
    job = cfg.deploying_job(app)
    return [subject(job.name, branch) for branch in job.deploy_branches] if job else []


def untrusted_subjects(cfg: Config) -> list[str]:
    """Any build of the platform's jobs (IAM ``StringLike`` patterns)."""
    return [f"{job.name}/*" for job in cfg.jenkins.jobs]


def trusted_builds(cfg: Config) -> list[str]:
    """Every trusted build's ``JOB_NAME``: what the controller lets onto trusted agents."""
    return sorted({s for app in cfg.apps for s in trusted_subjects(cfg, app)} |
                  {subject(job.name, b) for job in cfg.jenkins.jobs for b in job.deploy_branches})


def apps_of(cfg: Config, job: JenkinsJob) -> list[str]:
    """The apps ``job`` deploys."""
    return [app for app in cfg.apps if (found := cfg.deploying_job(app)) and
            found.name == job.name]


# -- names ----------------------------------------------------------------------------------------

def pipeline_role(cfg: Config, app: str | None) -> str:
    """The role a build assumes: ``<name>-pipeline-<app>`` for a trusted build of the app,
    ``<name>-pipeline-untrusted`` for any other."""
    return f"{cfg.name}-pipeline-{app or UNTRUSTED}"


def kaniko_role(cfg: Config, destination: str) -> str:
    """kaniko's task role for a destination: an app, ``untrusted`` or ``platform``."""
    return f"{cfg.name}-kaniko-{destination}"


def quarantine_repository(cfg: Config, app: str) -> str:
    """Where an untrusted build's image of ``app`` goes: deploys never pull from here."""
    return f"{cfg.name}/quarantine/{app}"


def context_prefix(destination: str) -> str:
    """Where a destination's build contexts live in the builder's bucket; only its own
    identities write there and only its own kaniko role reads there."""
    if destination in (UNTRUSTED, PLATFORM):
        return f"contexts/{destination}/"
    return f"contexts/apps/{destination}/"


def digest_prefix(destination: str) -> str:
    """Where kaniko writes the digest files of a destination's builds."""
    return "digests/" + context_prefix(destination).removeprefix("contexts/")


# -- how long credentials last ---------------------------------------------------------------------

def longest_command_seconds(cfg: Config, app: str | None) -> int:
    """The longest a pipeline command of ``app``'s trusted builds (or of untrusted ones) may
    run: a build at builder.timeout_minutes, a one-off at its default 30 minutes, a deploy's
    default wait (every stage of its longest strategy, the smoke test's whole timeout, a
    margin)."""
    from dockyard.deploy.timing import longest_wait_seconds

    builds = cfg.builder.timeout_minutes * 60
    if app is None:
        return builds
    return max(builds, 30 * 60, math.ceil(longest_wait_seconds(cfg.apps[app])))


def max_session_seconds(cfg: Config, app: str | None) -> int:
    """A pipeline role's MaxSessionDuration: the longest command and a margin, in whole hours
    (IAM takes 1 to 12 hours)."""
    needed = longest_command_seconds(cfg, app) + SESSION_MARGIN_SECONDS
    return min(MAX_SESSION_SECONDS, max(3600, math.ceil(needed / 3600) * 3600))


def session_seconds(cfg: Config, app: str | None, command_seconds: float) -> int:
    """What a command asks STS for: its own timeout and a margin, within the role's maximum."""
    wanted = math.ceil(command_seconds) + SESSION_MARGIN_SECONDS
    return max(MIN_SESSION_SECONDS, min(wanted, max_session_seconds(cfg, app)))


# -- a build's token ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Build:
    """A Jenkins build as its token names it (read, not verified: STS verifies)."""

    subject: str
    build_number: int | None = None

    @property
    def job(self) -> str:
        """The multibranch job's name."""
        return self.subject.split("/", 1)[0]

    @property
    def branch_job(self) -> str:
        """The branch's job name (the encoded branch, or ``PR-12``)."""
        return self.subject.split("/", 1)[1] if "/" in self.subject else ""

    def session_name(self) -> str:
        """The role session's name, so CloudTrail names the build: ``web.main.42``."""
        name = f"{self.job}.{self.branch_job}.{self.build_number or 0}"
        return _SESSION_NAME.sub("-", name)[:64]


def read_token(token: str) -> Build:
    """The build a token was issued for; refused when it is not a JWT with a ``sub``."""
    parts = token.strip().split(".")
    try:
        if len(parts) != 3:
            raise ValueError("not three parts")
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
        sub = claims["sub"]
        if not isinstance(sub, str) or not sub:
            raise ValueError("no sub")
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise UsageError("DOCKYARD_ID_TOKEN is not a Jenkins id token (a JWT with a sub)",
                         hint="the pipeline library binds it from the dockyard-aws credential; "
                              "do not set it by hand") from None
    number = claims.get("build_number")
    return Build(subject=sub, build_number=number if isinstance(number, int) else None)


def trusted_apps(cfg: Config, build: Build) -> list[str]:
    """The apps ``build`` is trusted with (by dockyard.yml; IAM decides in the end)."""
    return [app for app in cfg.apps if build.subject in trusted_subjects(cfg, app)]


@dataclass(frozen=True)
class Acting:
    """What a pipeline command runs as: the role, and whom its builds are for."""

    role: str
    app: str | None  # None: untrusted
    build: Build

    @property
    def trusted(self) -> bool:
        """Whether the command runs with a trusted build's role."""
        return self.app is not None


def for_build(cfg: Config, build: Build, repository: str) -> Acting:
    """The role a ``dockyard build --repo APP`` of ``build`` uses: the app's when the build is
    trusted with it, else the untrusted one (its image goes to quarantine). An image for
    another registry is built as the app the build is trusted with, if exactly one."""
    from dockyard.rules import names_registry

    if names_registry(repository):
        return for_any(cfg, build)
    app = repository.removeprefix(f"{cfg.name}/")
    if app in trusted_apps(cfg, build):
        return Acting(pipeline_role(cfg, app), app, build)
    return Acting(pipeline_role(cfg, None), None, build)


def for_app(cfg: Config, build: Build, app: str, what: str) -> Acting:
    """The role a command acting on ``app`` (deploy, run, rollback) uses; refused for a build
    that is not trusted with it."""
    if app not in trusted_apps(cfg, build):
        job = cfg.deploying_job(app)
        allowed = (", ".join(trusted_subjects(cfg, app)) + f" (jobs[{job.name}].deploy_branches)"
                   if job else "no pipeline: apps." + app + ".job is none")
        raise DockyardError(
            f"{what} {app}: this build ({build.subject}) is untrusted for {app}; it may build "
            "and test, not deploy or run tasks", hint=f"builds trusted with {app}: {allowed}",
            exit_code=ExitCode.AWS_PRECONDITION)
    return Acting(pipeline_role(cfg, app), app, build)


def for_any(cfg: Config, build: Build) -> Acting:
    """The role of a command that names no app: the app's when the build is trusted with
    exactly one, else the untrusted one."""
    apps = trusted_apps(cfg, build)
    app = apps[0] if len(apps) == 1 else None
    return Acting(pipeline_role(cfg, app), app, build)


def role_arn(cfg: Config, account: str, role: str) -> str:
    """The ARN of a role of the platform's account."""
    partition = ("aws-cn" if cfg.region.startswith("cn-") else
                 "aws-us-gov" if cfg.region.startswith("us-gov-") else "aws")
    return f"arn:{partition}:iam::{account}:role/{role}"
