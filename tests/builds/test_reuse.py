"""Which builds are reused (dockyard.builds.reuse): the inputs' key, and a tag believed only
when the build record agrees."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from dockyard.builds.request import BuildRequest, Destination
from dockyard.builds.reuse import Inputs, Reuse, inputs_of, record_key
from dockyard.builds.sources import Source

SOURCE = Source(kind="local", description="app", context="s3://b/contexts/apps/web/" +
                "ab" * 32 + ".tar.gz")
DEST = Destination(uri="123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/acme/web",
                   ecr_repository="acme/web")
DIGEST = "sha256:" + "1" * 64


class Bucket:
    def __init__(self) -> None:
        self.objects: dict[str, str] = {}

    def read_text(self, bucket: str, key: str) -> str | None:
        return self.objects.get(key)

    def write_text(self, bucket: str, key: str, text: str) -> None:
        self.objects[key] = text


class Ecr:
    def __init__(self) -> None:
        self.tags: dict[str, str] = {}

    def digest_of(self, repository: str, tag: str) -> str | None:
        return self.tags.get(tag)

    def manifest(self, repository: str, digest: str) -> tuple[str, str]:
        return json.dumps({"digest": digest}), "application/vnd.oci.image.manifest.v1+json"

    def put_manifest(self, repository: str, manifest: str, media_type: str, tag: str) -> str:
        digest = str(json.loads(manifest)["digest"])
        self.tags.setdefault(tag, digest)
        return self.tags[tag]


def inputs(**changes: object) -> Inputs:
    found = inputs_of(BuildRequest(), SOURCE)
    assert found is not None
    return replace(found, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize("change", [
    {"context": "cd" * 32}, {"dockerfile": "Dockerfile.prod"}, {"build_args": ("MODE=fast",)},
    {"target": "runtime"}, {"platforms": ("amd64", "arm64")},
    {"labels": (("org.opencontainers.image.revision", "abc"),)}])
def test_each_input_changes_the_key(change: dict[str, object]) -> None:
    assert inputs(**change).key != inputs().key
    assert inputs(**change).tag.startswith("inputs-") and len(inputs().tag) == 31


def test_an_archive_of_the_users_is_never_reused() -> None:
    archive = Source(kind="s3", description="s3://mine/ctx.tar.gz", context="s3://mine/ctx.tar.gz")
    assert inputs_of(BuildRequest(), archive) is None


def test_a_tag_is_believed_only_with_a_record_that_agrees() -> None:
    bucket, ecr = Bucket(), Ecr()
    reuse = Reuse(bucket, ecr, "b", "web", DEST)
    ecr.tags[inputs().tag] = DIGEST  # pushed by a build's own code, say: no record
    assert reuse.find(inputs()) is None
    bucket.objects[record_key("web", inputs())] = json.dumps(
        {"inputs": inputs().key, "digest": "sha256:" + "2" * 64})
    assert reuse.find(inputs()) is None, "a record of another digest"
    bucket.objects[record_key("web", inputs())] = "not json"
    assert reuse.find(inputs()) is None
    bucket.objects[record_key("web", inputs())] = json.dumps(
        {"inputs": inputs().key, "digest": DIGEST})
    assert reuse.find(inputs()) == DIGEST


def test_a_build_is_recorded_unless_its_tag_is_another_images() -> None:
    bucket, ecr = Bucket(), Ecr()
    reuse = Reuse(bucket, ecr, "b", "web", DEST)
    assert reuse.remember(inputs(), DIGEST, "build-1") is None
    assert reuse.find(inputs()) == DIGEST and ecr.tags[inputs().tag] == DIGEST
    other = inputs(target="runtime")
    ecr.tags[other.tag] = "sha256:" + "9" * 64
    refused = reuse.remember(other, DIGEST, "build-2")
    assert refused is not None and "already another image" in refused
    assert record_key("web", other) not in bucket.objects


def test_untrusted_builds_neither_find_nor_record() -> None:
    bucket, ecr = Bucket(), Ecr()
    trusted = Reuse(bucket, ecr, "b", "web", DEST)
    trusted.remember(inputs(), DIGEST, "build-1")
    untrusted = Reuse(bucket, ecr, "b", "untrusted", DEST)
    assert untrusted.find(inputs()) is None
    assert untrusted.remember(inputs(target="x"), DIGEST, "build-2") is None
    assert not any(key.startswith("digests/untrusted/") for key in bucket.objects)
