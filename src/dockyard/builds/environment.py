"""From dockyard.yml, the command line and the builder stack's outputs to what a build is
asked to do and where its image goes (pure: no AWS calls)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from dockyard.aws.errors import AwsPreconditionError
from dockyard.builds.request import (
    PLATFORMS,
    BuildOptions,
    BuildRequest,
    Destination,
    check_request,
    parse_platforms,
)
from dockyard.builds.runner import BuildEnvironment
from dockyard.builds.sources import Source
from dockyard.config.models import Config
from dockyard.errors import UsageError
from dockyard.names import Out, registry_host
from dockyard.rules import names_registry, parse_duration
from dockyard.templates.builder import repository_names

if TYPE_CHECKING:
    pass


def environment_from_outputs(out: dict[str, str], cfg: Config) -> BuildEnvironment:
    """Where builds run, from the builder stack's outputs."""
    account = out[Out.CLUSTER_ARN].split(":")[4]
    definitions = {key.removeprefix(Out.TASK_DEFINITION).lower(): value
                   for key, value in out.items() if key.startswith(Out.TASK_DEFINITION)}
    return BuildEnvironment(
        cluster=out[Out.CLUSTER_ARN], subnets=[s for s in out.get(Out.SUBNETS, "").split(",") if s],
        security_group=out[Out.BUILD_SECURITY_GROUP_ID],
        assign_public_ip=out.get(Out.ASSIGN_PUBLIC_IP, "ENABLED") == "ENABLED",
        task_definitions=definitions, bucket=out[Out.CONTEXT_BUCKET],
        log_group=out[Out.BUILD_LOG_GROUP],
        registry=registry_host(account, cfg.region), project=cfg.name)


def destination_for(cfg: Config, repository: str, registry: str) -> Destination:
    """``web`` -> the platform's ECR repository acme/web; ``docker.io/you/app`` stays itself."""
    if names_registry(repository):
        if not cfg.builder.registry_auth_secret:
            raise UsageError(f"--repo {repository}: pushing outside ECR needs credentials",
                             hint="set builder.registry_auth_secret to a Secrets Manager secret "
                                  "holding a Docker config JSON, then run dockyard up")
        return Destination(uri=repository, ecr_repository=None)
    name = repository if repository.startswith(f"{cfg.name}/") else f"{cfg.name}/{repository}"
    known = repository_names(cfg)
    if name not in known:
        names = ", ".join(n.split("/", 1)[1] for n in known)
        raise UsageError(f"--repo {repository}: no such repository in this platform",
                         hint=f"use one of {names}, or add an app to dockyard.yml and run up")
    return Destination(uri=f"{registry}/{name}", ecr_repository=name)


def check_destination(cfg: Config, destination: Destination, exists: Callable[[str], bool]
                      ) -> None:
    """Refuse, before anything is uploaded or started, a platform repository that is not in
    ECR yet: an app's lives in its app stack, Jenkins' in the builder stack."""
    name = destination.ecr_repository
    if name is None or exists(name):
        return
    image = name.split("/", 1)[1]
    stack = "builder" if image.startswith("jenkins-") else f"app-{image}"
    raise AwsPreconditionError(f"--repo {image}: the repository {name} does not exist yet",
                               hint=f"dockyard up --only {stack} creates it")


def make_request(cfg: Config, options: BuildOptions, architectures: list[str]) -> BuildRequest:
    """The request from the command line, with dockyard.yml's builder defaults (the first of
    builder.architectures when no --platform is given)."""
    b = cfg.builder
    given = options.get("timeout")
    # The same bound as builder.timeout_minutes: a build task is stopped at its timeout.
    timeout = b.timeout_minutes * 60 if given is None else parse_duration(given, most=86400)
    request = BuildRequest(
        tags=tuple(options.get("tags") or ()),
        dockerfile=options.get("dockerfile") or "Dockerfile",
        build_args=tuple(options.get("build_args") or ()), target=options.get("target"),
        architectures=parse_platforms(options.get("platforms"), architectures,
                                      default=cfg.builder.architectures[0]),
        spot=b.spot if options.get("spot") is None else bool(options["spot"]),
        cpu=_given(options.get("cpu"), b.cpu), memory=_given(options.get("memory"), b.memory),
        storage_gib=_given(options.get("storage_gib"), b.storage_gib),
        cache=not options.get("no_cache"), timeout_seconds=timeout)
    check_request(request)
    return request


def check_options(cfg: Config, options: BuildOptions) -> None:
    """Refuse bad option values before any AWS call: everything :func:`make_request` checks
    except which architectures the builder stack has."""
    make_request(cfg, options, list(PLATFORMS.values()))


def _given(value: int | None, default: int) -> int:
    """An option's value when it was given at all (``--storage 0`` is checked, not ignored)."""
    return default if value is None else value


def with_labels(request: BuildRequest, source: Source) -> BuildRequest:
    """Stamp the OCI labels for where the image came from."""
    from dataclasses import replace

    labels = []
    if source.revision:
        labels.append(("org.opencontainers.image.revision", source.revision))
    if source.url:
        labels.append(("org.opencontainers.image.source", source.url))
    return replace(request, labels=tuple(labels))
