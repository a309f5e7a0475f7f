"""Builds that never repeat work: an image a trusted build already pushed from the same inputs
is found and returned, and no kaniko task starts.

The inputs are everything that makes the image: the context's content hash (the packed tar's
SHA-256, which names its upload), the Dockerfile, the build arguments, the target stage, the
platforms and the labels (the commit and source URL). An image built from them is found by a
tag derived from them (``inputs-<hash>``; tags are immutable in dockyard's repositories) and
verified by a build record: a small document in the builder's bucket, under the digest prefix
of the app (dockyard.trust.digest_prefix), that says which digest those inputs gave. Only the
identities that may build the app's trusted images write there: the operator and the app's
deploy-branch pipelines. An untrusted pipeline's role cannot, and neither can a build's own
code, whose Dockerfile ``RUN`` steps run with kaniko's role (which has no S3 write at all);
untrusted builds push to quarantine and never record or reuse anything. A tag without a record
that agrees (one pushed by a build's own code, say) is never reused.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Protocol

from dockyard.builds.request import BuildRequest, Destination
from dockyard.builds.sources import Source
from dockyard.trust import UNTRUSTED, digest_prefix

TAG_PREFIX = "inputs-"
TAG_HEX = 24


@dataclass(frozen=True)
class Inputs:
    """What an image is built from."""

    context: str  # the packed context's SHA-256
    dockerfile: str
    build_args: tuple[str, ...]
    target: str | None
    platforms: tuple[str, ...]
    labels: tuple[tuple[str, str], ...]

    @property
    def key(self) -> str:
        """The inputs' own hash (SHA-256 of their canonical JSON)."""
        text = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def tag(self) -> str:
        """The tag an image built from these inputs carries."""
        return TAG_PREFIX + self.key[:TAG_HEX]


def inputs_of(request: BuildRequest, source: Source) -> Inputs | None:
    """The inputs of a build, or None when its context is not named by its content (an
    ``s3://`` archive of the user's, whose bytes dockyard never read)."""
    if source.kind not in ("local", "git") or not source.context.endswith(".tar.gz"):
        return None
    context = source.context.rsplit("/", 1)[-1].removesuffix(".tar.gz")
    return Inputs(context=context, dockerfile=request.dockerfile,
                  build_args=tuple(sorted(request.build_args)), target=request.target,
                  platforms=tuple(sorted(request.architectures)),
                  labels=tuple(sorted(request.labels)))


def record_key(owner: str, inputs: Inputs) -> str:
    """Where the build record of ``inputs`` lives in the builder's bucket."""
    return f"{digest_prefix(owner)}records/{inputs.key}.json"


class RecordStore(Protocol):
    """The builder's bucket (dockyard.aws.storage.Objects)."""

    def read_text(self, bucket: str, key: str) -> str | None: ...
    def write_text(self, bucket: str, key: str, text: str) -> None: ...


class ImageStore(Protocol):
    """ECR (dockyard.aws.storage.Registry)."""

    def digest_of(self, repository: str, tag: str) -> str | None: ...
    def manifest(self, repository: str, digest: str) -> tuple[str, str]: ...
    def put_manifest(self, repository: str, manifest: str, media_type: str, tag: str) -> str: ...


@dataclass
class Reuse:
    """Finds and records the images of trusted builds in one repository."""

    records: RecordStore
    images: ImageStore
    bucket: str
    owner: str
    destination: Destination

    @property
    def possible(self) -> bool:
        """Only a trusted build in ECR reuses or records anything."""
        return self.owner != UNTRUSTED and self.destination.ecr_repository is not None

    def find(self, inputs: Inputs) -> str | None:
        """The digest a trusted build made from ``inputs``: the tag and the record agree."""
        repository = self.destination.ecr_repository
        if not self.possible or repository is None:
            return None
        tagged = self.images.digest_of(repository, inputs.tag)
        if tagged is None:
            return None
        text = self.records.read_text(self.bucket, record_key(self.owner, inputs))
        try:
            record = json.loads(text) if text else {}
        except ValueError:
            return None
        if not isinstance(record, dict) or record.get("digest") != tagged or \
                record.get("inputs") != inputs.key:
            return None
        return tagged

    def remember(self, inputs: Inputs, digest: str, build_id: str) -> str | None:
        """Record that ``inputs`` gave ``digest`` and tag the image with the inputs' tag.
        Returns why not, when the tag is already another image's (then nothing is recorded,
        and these inputs are built each time)."""
        repository = self.destination.ecr_repository
        if not self.possible or repository is None:
            return None
        tagged = self.images.digest_of(repository, inputs.tag)
        if tagged is None:
            manifest, media_type = self.images.manifest(repository, digest)
            tagged = self.images.put_manifest(repository, manifest, media_type, inputs.tag)
        if tagged != digest:
            return f"{repository}:{inputs.tag} is already another image ({tagged[:19]})"
        self.records.write_text(self.bucket, record_key(self.owner, inputs), json.dumps(
            {"inputs": inputs.key, "digest": digest, "build_id": build_id,
             "detail": asdict(inputs)}, sort_keys=True))
        return None

    def tag(self, digest: str, tags: tuple[str, ...]) -> None:
        """Put a reused image under the tags this build asked for."""
        repository = self.destination.ecr_repository
        if repository is None or not tags:
            return
        manifest, media_type = self.images.manifest(repository, digest)
        for tag in tags:
            if self.images.digest_of(repository, tag) != digest:
                self.images.put_manifest(repository, manifest, media_type, tag)
