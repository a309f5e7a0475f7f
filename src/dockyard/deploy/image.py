"""``--image``: from what a user types to an image pinned by digest, checked before anything
changes.

Accepted forms, for app ``web`` of project ``acme``:

- what ``dockyard build`` prints: ``<account>.dkr.ecr.<region>.amazonaws.com/acme/web@sha256:...``
- a tag of the app's repository: ``v1.2.0``, ``web:v1.2.0``, ``acme/web:v1.2.0`` or the full URI
  with a tag; resolved to its digest through ECR
- an image outside ECR, pinned by digest: ``docker.io/library/nginx@sha256:...``
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from dockyard.aws.errors import AwsPreconditionError
from dockyard.errors import UsageError
from dockyard.rules import DIGEST, ECR_HOST, IMAGE_TAG, names_registry

if TYPE_CHECKING:
    from dockyard.config.models import Config


class ImageLookup(Protocol):
    """Reading ECR (``dockyard.aws.storage.Registry``, or a fake)."""

    def digest_of(self, repository: str, tag: str) -> str | None: ...
    def has_digest(self, repository: str, digest: str) -> bool: ...


@dataclass(frozen=True)
class ImageRef:
    """An image reference taken apart."""

    registry: str  # '' when none was given
    repository: str
    tag: str | None
    digest: str | None


def parse_image(text: str) -> ImageRef:
    """Split ``registry/repository:tag@digest``; a lone word is a tag."""
    if not text or text != text.strip() or any(c.isspace() for c in text):
        raise UsageError(f"--image {text!r}: not an image reference")
    name, _, digest = text.partition("@")
    if digest and not DIGEST.match(digest):
        raise UsageError(f"--image {text}: the digest must be sha256: and 64 hex digits")
    tag: str | None = None
    if ":" in name.rsplit("/", 1)[-1]:
        name, tag = name.rsplit(":", 1)
        if not IMAGE_TAG.match(tag):
            raise UsageError(f"--image {text}: {tag!r} is not a valid tag")
    if names_registry(name):
        registry, repository = name.split("/", 1)
    else:
        registry, repository = "", name
    if not repository:
        raise UsageError(f"--image {text}: no repository name")
    if not registry and "/" not in repository and tag is None and not digest:
        if not IMAGE_TAG.match(repository):
            raise UsageError(f"--image {text}: not an image reference")
        return ImageRef("", "", repository, None)  # a lone word: a tag of the app's repository
    return ImageRef(registry, repository, tag, digest or None)


def pin_image(text: str, *, project: str, app: str, registry: str, lookup: ImageLookup,
              repository: str | None = None) -> str:
    """The reference to deploy, ``<registry>/<repository>@sha256:...``, checked against ECR.

    ``registry`` is the platform's ECR host. An app's execution role pulls only from its
    repository (``repository``: ``<project>/<app>``, or that of the app it takes its images
    from), so an image of another ECR repository is refused here rather than failing to pull
    minutes later.
    """
    ref = parse_image(text)
    own = repository or f"{project}/{app}"
    builder = own.split("/", 1)[1]
    if ref.registry and not ECR_HOST.match(ref.registry):
        if ref.digest is None:
            raise UsageError(f"--image {text}: a tag outside ECR cannot be checked or pinned",
                             hint="pin it by digest: name@sha256:...")
        return f"{ref.registry}/{ref.repository}@{ref.digest}"
    if ref.registry and ref.registry != registry:
        raise UsageError(f"--image {text}: that ECR registry is not this platform's ({registry})",
                         hint=f"push the image to {registry}/{own}")
    named = ref.repository or own
    if "/" not in named:
        named = f"{project}/{named}"
    if named.startswith(f"{project}/quarantine/"):
        raise UsageError(f"--image {text}: a quarantined image (built by an untrusted build: a "
                         "pull request or a branch that does not deploy) is never deployed",
                         hint=f"build {builder} from one of its job's deploy branches")
    if named != own:
        raise UsageError(f"--image {text}: app {app} runs images from {own} only",
                         hint=f"its execution role pulls only from that repository; build with "
                              f"dockyard build --repo {builder}")
    if ref.digest:
        if not lookup.has_digest(own, ref.digest):
            raise UsageError(f"--image {text}: ECR {own} has no image {ref.digest}")
        return f"{registry}/{own}@{ref.digest}"
    if ref.tag is None:
        raise UsageError(f"--image {text}: name a tag or a digest",
                         hint=f"for example {own}:v1 or what dockyard build printed")
    digest = lookup.digest_of(own, ref.tag)
    if digest is None:
        raise UsageError(f"--image {text}: ECR {own} has no tag {ref.tag}",
                         hint=f"dockyard build --repo {builder} --tag {ref.tag} pushes one")
    return f"{registry}/{own}@{digest}"


class ScanLookup(Protocol):
    """ECR's scan findings (``dockyard.aws.storage.Registry``, or a fake)."""

    def scan(self, repository: str, digest: str) -> tuple[str, dict[str, int]]: ...


def critical_findings(cfg: Config, app: str) -> str:
    """How ``app`` treats CRITICAL findings: its own deploy.critical_findings, or for an app
    that runs another's images (image_from) the stricter of the two, so an image its builder
    refuses is never deployed under another name."""
    modes = {cfg.apps[app].deploy.critical_findings}
    if (source := cfg.apps[app].image_from) is not None:
        modes.add(cfg.apps[source].deploy.critical_findings)
    return "refuse" if "refuse" in modes else "warn"


def check_findings(pinned: str, *, project: str, app: str, mode: str, lookup: ScanLookup,
                   warn: Callable[[str], None], repository: str | None = None) -> None:
    """Hold ``pinned`` (an app's own ECR image) to ECR's scan of it: CRITICAL findings are a
    warning, or a refusal when ``mode`` is ``refuse`` (apps.<app>.deploy.critical_findings);
    refusing, an image whose scan has not finished is refused too. Images outside ECR have no
    scan here and pass. ``repository``: where the app's images come from (its own)."""
    repository = repository or f"{project}/{app}"
    name, _, digest = pinned.partition("@")
    if not name.endswith("/" + repository) or not ECR_HOST.match(name.split("/", 1)[0]):
        return
    status, counts = lookup.scan(repository, digest)
    setting = f"apps.{app}.deploy.critical_findings"
    if status != "COMPLETE":
        if mode == "refuse":
            raise AwsPreconditionError(
                f"ECR's scan of {repository}@{digest[:19]} is not complete ({status}), and "
                f"{setting} is refuse", hint="deploy again once ECR has scanned the push "
                                             "(usually within minutes)")
        warn(f"ECR's scan of this image is not complete ({status}): deploying without "
             "its findings")
        return
    critical = counts.get("CRITICAL", 0)
    if not critical:
        return
    found = f"ECR's scan found {critical} CRITICAL vulnerabilit{'y' if critical == 1 else 'ies'}"
    where = (f"aws ecr describe-image-scan-findings --repository-name {repository} "
             f"--image-id imageDigest={digest}")
    if mode == "refuse":
        raise AwsPreconditionError(f"{found} in {repository}@{digest[:19]}; {setting} is "
                                   "refuse", hint=f"see them: {where}")
    warn(f"warning: {found} in this image (deploying: {setting} is warn); see them: {where}")
