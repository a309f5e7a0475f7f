"""What a build is asked to do, where it runs, and the kaniko command line for it.

The kaniko argv is a pure function of the request and the run: a list of arguments handed to
ECS as the container command, never a shell string.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypedDict

from dockyard.config import fargate
from dockyard.errors import UsageError
from dockyard.rules import IMAGE_TAG, looks_secret, shown

PLATFORMS = {"linux/amd64": "amd64", "linux/arm64": "arm64"}
CACHE_TTL = "168h"  # a week: inside the 14 days the cache repository keeps layers
_BUILD_ARG = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


class BuildOptions(TypedDict, total=False):
    """``dockyard build``'s options as typed (None: not given, the config's default applies)."""

    tags: tuple[str, ...]
    dockerfile: str
    build_args: tuple[str, ...]
    target: str | None
    platforms: str | None
    spot: bool | None
    cpu: int | None
    memory: int | None
    storage_gib: int | None
    no_cache: bool
    timeout: str | None


@dataclass(frozen=True)
class BuildRequest:
    """One ``dockyard build``, as the user asked for it (already validated)."""

    tags: tuple[str, ...] = ()
    dockerfile: str = "Dockerfile"
    build_args: tuple[str, ...] = ()
    target: str | None = None
    architectures: tuple[str, ...] = ("amd64",)
    spot: bool = True
    cpu: int = 2048
    memory: int = 8192
    storage_gib: int = 50
    cache: bool = True
    timeout_seconds: int = 3600
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Destination:
    """Where the image goes: a repository URI, and the ECR repository name when it is ECR;
    ``cache``: the layer cache it reads, when not the one beside it (a quarantined image reads
    its app's)."""

    uri: str
    ecr_repository: str | None
    cache: str | None = None

    @property
    def cache_uri(self) -> str | None:
        """The kaniko layer cache, beside an ECR repository."""
        if self.cache is not None:
            return self.cache
        return f"{self.uri}-cache" if self.ecr_repository else None


@dataclass(frozen=True)
class ArchRun:
    """What is specific to one architecture's task."""

    arch: str
    context: str
    digest_url: str  # "" for ECR destinations: the digest is read from ECR by build_tag
    build_tag: str
    tags: tuple[str, ...] = field(default_factory=tuple)


def new_build_id(now: datetime | None = None) -> str:
    """A sortable, unique id: ``20261128-091500-3f9a1c``."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{secrets.token_hex(3)}"


def parse_platforms(value: str | None, available: list[str],
                    default: str | None = None) -> tuple[str, ...]:
    """``linux/amd64,linux/arm64`` -> ("amd64", "arm64"), checked against the task
    definitions the builder stack has; ``default`` (else the first available) without one."""
    if value is None:
        return (default if default in available else available[0],)
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items:
        raise UsageError(f"--platform {shown(value)}: name linux/amd64 and/or linux/arm64, "
                         "separated by a comma")
    archs: list[str] = []
    for item in items:
        arch = PLATFORMS.get(item)
        if arch is None:
            raise UsageError(f"--platform {shown(item)}: use linux/amd64 and/or linux/arm64")
        if arch not in available:
            raise UsageError(f"--platform {item}: the builder has no {arch} task definition",
                             hint=f"add {arch} to builder.architectures in dockyard.yml, then "
                                  "run dockyard up")
        if arch not in archs:
            archs.append(arch)
    return tuple(archs)


def check_request(request: BuildRequest) -> list[str]:
    """Validate a request; returns warnings worth showing. Raises UsageError on bad input."""
    problem = fargate.task_size_problem(request.cpu, request.memory, request.storage_gib)
    if problem:
        raise UsageError(problem)
    for tag in request.tags:
        if not IMAGE_TAG.match(tag):
            raise UsageError(f"--tag {shown(tag)}: not a valid image tag")
    warnings = []
    for arg in request.build_args:
        if not _BUILD_ARG.match(arg):
            raise UsageError(f"--build-arg {shown(arg)}: expected KEY=VALUE")
        key = arg.split("=", 1)[0]
        if looks_secret(key):
            warnings.append(f"--build-arg {key} looks like a secret: build arguments stay in "
                            "the image's history for anyone who can pull it")
    return warnings


def kaniko_argv(request: BuildRequest, destination: Destination, run: ArchRun, *,
                push_cache: bool = True) -> list[str]:
    """The kaniko executor's arguments for one architecture (README.md, "Builds").
    ``push_cache=False`` reads the layer cache and never writes it (``--no-push-cache``, in
    the kaniko fork and upstream alike): an untrusted build cannot leave a layer that a
    trusted build would reuse, and its role may not push there either."""
    argv = [
        "--force",  # kaniko's container detection fails on Fargate
        f"--context={run.context}",
        f"--dockerfile={request.dockerfile}",
        f"--destination={destination.uri}:{run.build_tag}",
        *(f"--destination={destination.uri}:{tag}" for tag in run.tags),
        *([f"--digest-file={run.digest_url}"] if run.digest_url else []),
        "--push-retry=3",
        "--image-download-retry=3",
        "--log-format=text",
        "--verbosity=info",
    ]
    if request.cache and destination.cache_uri:
        argv += ["--cache=true", f"--cache-repo={destination.cache_uri}",
                 f"--cache-ttl={CACHE_TTL}", *([] if push_cache else ["--no-push-cache"])]
    else:
        argv.append("--cache=false")
    if request.target:
        argv.append(f"--target={request.target}")
    argv += [f"--build-arg={arg}" for arg in request.build_args]
    argv += [f"--label={key}={value}" for key, value in request.labels]
    return argv
