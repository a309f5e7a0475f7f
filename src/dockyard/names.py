"""Names shared by the templates that create things and the commands that find them again."""

TAG_KEY = "dockyard:name"
"""The tag on every resource dockyard creates; its value is the config's ``name``."""

ARCH_TO_CPU = {"amd64": "X86_64", "arm64": "ARM64"}
"""ECS's name (``runtimePlatform.cpuArchitecture``) for each architecture dockyard builds."""


def admin_secret_name(project: str) -> str:
    """The Secrets Manager secret holding the Jenkins admin password."""
    return f"{project}-jenkins-admin"


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
