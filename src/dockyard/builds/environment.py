"""From dockyard.yml, the command line and the builder stack's outputs to what a build is
asked to do and where its image goes (pure: no AWS calls)."""

from __future__ import annotations

from collections.abc import Callable
from fnmatch import fnmatchcase

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
from dockyard.trust import (
    PLATFORM,
    UNTRUSTED,
    Acting,
    kaniko_role,
    quarantine_repository,
    role_arn,
)


def environment_from_outputs(out: dict[str, str], cfg: Config,
                             owner: str = PLATFORM) -> BuildEnvironment:
    """Where the builds of ``owner`` run, from the builder stack's outputs: an untrusted
    build's kaniko is the untrusted task definition (its own quarantine role, its own logs,
    the cache read and never written); anyone else's is the trusted one with the owner's kaniko
    role passed in (an app's by its name, Jenkins' images' from the stack)."""
    account = out[Out.CLUSTER_ARN].split(":")[4]
    untrusted = owner == UNTRUSTED
    prefix = Out.UNTRUSTED_TASK_DEFINITION if untrusted else Out.TASK_DEFINITION
    definitions = {key.removeprefix(prefix).lower(): value for key, value in out.items()
                   if key.startswith(prefix) and
                   (untrusted or not key.startswith(Out.UNTRUSTED_TASK_DEFINITION))}
    if untrusted:
        role = None
    elif owner == PLATFORM:
        role = out.get(Out.KANIKO_ROLE_ARN)
    else:
        role = role_arn(cfg, account, kaniko_role(cfg, owner))
    return BuildEnvironment(
        cluster=out[Out.CLUSTER_ARN], subnets=[s for s in out.get(Out.SUBNETS, "").split(",") if s],
        security_group=out[Out.BUILD_SECURITY_GROUP_ID],
        assign_public_ip=out.get(Out.ASSIGN_PUBLIC_IP, "ENABLED") == "ENABLED",
        task_definitions=definitions, bucket=out[Out.CONTEXT_BUCKET],
        log_group=out[Out.UNTRUSTED_LOG_GROUP if untrusted else Out.BUILD_LOG_GROUP],
        registry=registry_host(account, cfg.region), project=cfg.name, owner=owner,
        task_role=role, push_cache=not untrusted)


def owner_of(cfg: Config, repository: str, acting: Acting | None) -> str:
    """Whose build ``--repo REPOSITORY`` is: a pipeline build's tier (the app it is trusted
    with, else ``untrusted``); for the operator the app, or ``platform`` (Jenkins' own images,
    another registry)."""
    if acting is not None:
        return acting.app or UNTRUSTED
    name = repository.removeprefix(f"{cfg.name}/")
    return name if name in cfg.apps else PLATFORM


def destination_for(cfg: Config, repository: str, registry: str,
                    owner: str = PLATFORM) -> Destination:
    """``web`` -> the platform's ECR repository acme/web (an untrusted build's: its quarantine,
    acme/quarantine/web, reading acme/web-cache); ``docker.io/you/app`` stays itself."""
    if names_registry(repository):
        if owner == UNTRUSTED:
            raise UsageError(f"--repo {repository}: an untrusted build pushes only to its "
                             "app's quarantine repository",
                             hint="build an app of dockyard.yml, such as --repo web")
        if not cfg.builder.registry_auth_secret:
            raise UsageError(f"--repo {repository}: pushing outside ECR needs credentials",
                             hint="set builder.registry_auth_secret to a Secrets Manager secret "
                                  "holding a Docker config JSON, then run dockyard up")
        return Destination(uri=repository, ecr_repository=None)
    name = repository if repository.startswith(f"{cfg.name}/") else f"{cfg.name}/{repository}"
    known = repository_names(cfg)
    app = name.split("/", 1)[1]
    borrower = cfg.apps.get(app)
    if borrower is not None and borrower.image_from is not None:
        raise UsageError(f"--repo {repository}: app {app} builds no images "
                         f"of its own: it runs {borrower.image_from}'s (apps.<name>.image_from)",
                         hint=f"build --repo {borrower.image_from}, then deploy that image to "
                              "both apps")
    if name not in known:
        names = ", ".join(n.split("/", 1)[1] for n in known)
        raise UsageError(f"--repo {repository}: no such repository in this platform",
                         hint=f"use one of {names}, or add an app to dockyard.yml and run up")
    if owner == UNTRUSTED:
        if app not in cfg.apps:
            raise UsageError(f"--repo {repository}: an untrusted build cannot build Jenkins' "
                             "images", hint="`dockyard up` builds them")
        quarantine = quarantine_repository(cfg, app)
        return Destination(uri=f"{registry}/{quarantine}", ecr_repository=quarantine,
                           cache=f"{registry}/{name}-cache")
    return Destination(uri=f"{registry}/{name}", ecr_repository=name)


def check_destination(cfg: Config, destination: Destination, exists: Callable[[str], bool]
                      ) -> None:
    """Refuse, before anything is uploaded or started, a platform repository that is not in
    ECR yet: an app's lives in its app stack, Jenkins' in the builder stack."""
    name = destination.ecr_repository
    if name is None or exists(name):
        return
    image = name.split("/", 1)[1].removeprefix("quarantine/")
    stack = "builder" if image.startswith("jenkins-") else f"app-{image}"
    raise AwsPreconditionError(f"--repo {image}: the repository {name} does not exist yet",
                               hint=f"dockyard up --only {stack} creates it")


def may_move(cfg: Config, destination: Destination, tag: str) -> bool:
    """Whether ``tag`` may be put on another image in ``destination``: in ECR, only the tags
    ``builder.mutable_tags`` lists, and only in an app's or Jenkins' repository (the
    repositories' IMMUTABLE_WITH_EXCLUSION filters, where ``*`` matches any characters);
    quarantine repositories are IMMUTABLE. Any tag may move elsewhere."""
    name = destination.ecr_repository
    if name is None:
        return True
    if name.startswith(f"{cfg.name}/quarantine/"):
        return False
    return any(fnmatchcase(tag, pattern) for pattern in cfg.builder.mutable_tags)


def check_tags(cfg: Config, destination: Destination, tags: tuple[str, ...],
               digest_of: Callable[[str, str], str | None], *, image: str | None = None) -> None:
    """Refuse, before anything is built, a ``--tag`` that already names another image where
    tags never move: ECR would refuse kaniko's push at the end of the build (a tag on an
    immutable repository cannot be overwritten: ECR User Guide, "Preventing image tags from
    being overwritten"). ``image``: the digest this build will give, when known (a reused
    image already under the tag is no move)."""
    name = destination.ecr_repository
    for tag in tags:
        if name is None or may_move(cfg, destination, tag):
            continue
        current = digest_of(name, tag)
        if current is not None and current != image:
            raise UsageError(
                f"--tag {tag}: {name}:{tag} is already the image {current[:19]}, and tags in "
                "dockyard's repositories never move",
                hint="give this build a tag of its own (a version or a commit), or list the "
                     "tag in builder.mutable_tags to let it move")


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
