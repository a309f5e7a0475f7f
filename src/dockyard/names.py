"""Names shared by the templates that create things and the commands that find them again.

Every stack output key, resource name, log group, S3 prefix and ARN pattern that one part of
dockyard writes and another reads is defined here, once: a template writes ``Out.CLUSTER_ARN``
and ``dockyard build`` reads ``Out.CLUSTER_ARN``, so the two cannot drift apart unnoticed
(tests/test_names.py checks that every output a template writes is declared here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TAG_KEY = "dockyard:name"
"""The tag on every resource dockyard creates; its value is the config's ``name``."""

ARCH_TO_CPU = {"amd64": "X86_64", "arm64": "ARM64"}
"""ECS's name (``runtimePlatform.cpuArchitecture``) for each architecture dockyard builds."""

UPLOAD_PART_BYTES = 8 * 1024 * 1024
"""How contexts are uploaded, pinned so the checksum S3 keeps can be computed before uploading:
one PUT below this size, parts of this size from it up (s3transfer: multipart when the size is
at least multipart_threshold)."""

APP_TAG = "dockyard:app"
"""The tag on every task a build, a one-off or a deploy starts: the app it is for, or
``untrusted`` / ``platform`` for builds (dockyard.trust). Pipeline roles may follow and stop only
tasks carrying their own value."""

KANIKO_CONTAINER = "kaniko"
"""The container of the kaniko task definitions."""

BUILD_STREAM_PREFIX = "build"
"""The awslogs stream prefix of build tasks."""


# The header that sends a request to a progressive app's new revision during a deployment (its
# value is random, per app stack); only edge.allowed_cidrs get it through.
TEST_HEADER = "X-Dockyard-Test"
# The value the test rule wants: 40 random hex digits (``new_test_header_value``).
TEST_HEADER_PATTERN = "[0-9a-f]{40}"


def new_test_header_value() -> str:
    """A fresh, unguessable value for a test rule's header."""
    import secrets

    return secrets.token_hex(20)


class Out:
    """Stack output keys: written by templates/, read by the commands through these names."""

    # network stack
    VPC_ID = "VpcId"
    PUBLIC_SUBNETS = "PublicSubnets"
    # builder stack
    CLUSTER_NAME = "ClusterName"
    CLUSTER_ARN = "ClusterArn"
    CONTEXT_BUCKET = "ContextBucket"
    LOG_BUCKET = "LogBucket"  # access logs (dockyard.templates.trail), when they are on
    BUILD_LOG_GROUP = "BuildLogGroup"
    KANIKO_ROLE_ARN = "KanikoRoleArn"  # the builder's: Jenkins' images; an app stack's: its own
    BUILD_SECURITY_GROUP_ID = "BuildSecurityGroupId"
    SUBNETS = "Subnets"
    ASSIGN_PUBLIC_IP = "AssignPublicIp"
    TASK_DEFINITION = "TaskDefinition"  # + the architecture, title-cased: TaskDefinitionAmd64
    AGENT_SECURITY_GROUP_ID = "AgentSecurityGroupId"
    AGENT_EXECUTION_ROLE_ARN = "AgentExecutionRoleArn"
    AGENT_LOG_GROUP = "AgentLogGroup"
    AGENT_SECRET_ARN = "AgentSecretArn"
    TRUSTED_AGENT_EXECUTION_ROLE_ARN = "TrustedAgentExecutionRoleArn"
    TRUSTED_AGENT_SECRET_ARN = "TrustedAgentSecretArn"
    OIDC_PROVIDER_ARN = "OidcProviderArn"  # Jenkins' issuer, trusted by the pipeline roles
    UNTRUSTED_LOG_GROUP = "UntrustedBuildLogGroup"
    UNTRUSTED_TASK_DEFINITION = "UntrustedTaskDefinition"  # + the architecture, title-cased
    REPOSITORY_URI = "RepositoryUri"  # an app stack's; the builder's are Repo<Title>Uri
    QUARANTINE_REPOSITORY_URI = "QuarantineRepositoryUri"  # where untrusted builds push
    PIPELINE_ROLE_ARN = "PipelineRoleArn"  # what the app's trusted builds assume
    # edge stack
    LOAD_BALANCER_ARN = "LoadBalancerArn"
    LOAD_BALANCER_FULL_NAME = "LoadBalancerFullName"  # app/<name>/<id>: CloudWatch's dimension
    HTTPS_LISTENER_ARN = "HttpsListenerArn"
    DNS_NAME = "DnsName"
    CANONICAL_HOSTED_ZONE_ID = "CanonicalHostedZoneId"
    CERTIFICATE_ARN = "CertificateArn"
    # jenkins and app stacks
    URL = "Url"
    SECURITY_GROUP_ID = "SecurityGroupId"
    EXECUTION_ROLE_ARN = "ExecutionRoleArn"
    TASK_ROLE_ARN = "TaskRoleArn"
    LOG_GROUP_NAME = "LogGroupName"
    TARGET_GROUP_ARN = "TargetGroupArn"
    SECRET_ARNS = "SecretArns"
    CONTAINER_PORT = "ContainerPort"  # the port the app stack's target group and group serve
    ALARM_NAMES = "AlarmNames"  # the app's deployment alarms, comma-separated
    # a progressive app's (blue-green, canary, linear): what ECS shifts traffic with
    ALTERNATE_TARGET_GROUP_ARN = "AlternateTargetGroupArn"
    PRODUCTION_RULE_ARN = "ProductionRuleArn"
    TEST_RULE_ARN = "TestRuleArn"
    TEST_HEADER_VALUE = "TestHeaderValue"
    INFRASTRUCTURE_ROLE_ARN = "InfrastructureRoleArn"
    ADMIN_SECRET_ARN = "AdminSecretArn"
    FILE_SYSTEM_ID = "FileSystemId"
    ACCESS_POINT_ID = "AccessPointId"
    SERVICE_NAME = "ServiceName"
    AGENT_SERVICE_NAME = "AgentServiceName"
    TRUSTED_AGENT_SERVICE_NAME = "TrustedAgentServiceName"
    CONTROLLER_SECURITY_GROUP_ID = "ControllerSecurityGroupId"

    @staticmethod
    def task_definition(arch: str, *, untrusted: bool = False) -> str:
        """The builder output holding the kaniko task definition for ``arch`` (trusted builds'
        and Jenkins' images, or untrusted builds')."""
        return (Out.UNTRUSTED_TASK_DEFINITION if untrusted else Out.TASK_DEFINITION) + \
            arch.title()


def declared_outputs() -> set[str]:
    """Every output key declared on :class:`Out` (the per-architecture ones are patterns)."""
    return {value for key, value in vars(Out).items() if key.isupper() and isinstance(value, str)}


def log_group_name(project: str, what: str) -> str:
    """A log group dockyard creates: ``builds``, ``agents``, ``jenkins`` or ``apps/<app>``."""
    return f"/dockyard/{project}/{what}"


def build_log_stream(task_id: str) -> str:
    """The log stream of a build task (awslogs: prefix/container/task id)."""
    return f"{BUILD_STREAM_PREFIX}/{KANIKO_CONTAINER}/{task_id}"


def app_stack_key(app_name: str) -> str:
    """The stack key of an app: ``app-<name>``."""
    return f"app-{app_name}"


def log_bucket_name(project: str, account: str, region: str) -> str:
    """The bucket access logs go to: named, so an ``up`` after ``down`` adopts the one kept
    (bucket names are global: the account and region make it this platform's)."""
    return f"{project}-logs-{account}-{region}"


def admin_secret_name(project: str) -> str:
    """The Secrets Manager secret holding the Jenkins admin password."""
    return f"{project}-jenkins-admin"


def agent_secret_name(project: str, *, trusted: bool = False) -> str:
    """The Secrets Manager secret holding the password a Jenkins agent pool joins with."""
    return f"{project}-jenkins-agents" + ("-trusted" if trusted else "")


# The agent pools' ECS services (their Jenkins users: JenkinsUsers below): untrusted
# builds run on the first, trusted builds (a job's deploy branches) on the second.
AGENT_SERVICE = "jenkins-agents"
TRUSTED_AGENT_SERVICE = "jenkins-agents-trusted"


@dataclass(frozen=True)
class JenkinsUsers:
    """The Jenkins users that are not people: each agent pool's, and the one every build runs
    as (jenkins/casc.py, BUILD_USER)."""

    agents: str
    trusted_agents: str
    builds: str

    def pool(self, *, trusted: bool) -> str:
        return self.trusted_agents if trusted else self.agents


LOCAL_USERS = JenkinsUsers(agents="agents", trusted_agents="agents-trusted", builds="builds")
# Under GitHub sign-in a Jenkins user is whoever has that GitHub login, so these names are
# ones no GitHub account can have: logins are letters, digits and single hyphens (managed
# users add "_<shortcode>"), never a dot.
GITHUB_USERS = JenkinsUsers(agents="dockyard.agents", trusted_agents="dockyard.agents-trusted",
                            builds="dockyard.builds")


def jenkins_users(cfg: Any) -> JenkinsUsers:
    """The agents' and builds' users under ``cfg``'s sign-in."""
    return GITHUB_USERS if cfg.jenkins.sign_in.github else LOCAL_USERS


def internal_namespace(project: str) -> str:
    """The private DNS namespace (Cloud Map) the controller registers in."""
    return f"{project}.internal"


def controller_internal_url(project: str) -> str:
    """Where agents reach the controller: its Cloud Map name, inside the VPC (the load balancer
    is open only to edge.allowed_cidrs)."""
    return f"http://jenkins.{internal_namespace(project)}:8080/"


def registry_host(account: str, region: str) -> str:
    """The ECR registry of an account in a region."""
    return f"{account}.dkr.ecr.{region}.amazonaws.com"


def short_arn(arn: str) -> str:
    """The last part of an ARN, as people say it: ``acme-web:3`` for a task definition."""
    return arn.rsplit("/", 1)[-1]
