"""--image: every accepted form pins a digest; every refusal names --image and changes nothing."""

from __future__ import annotations

import pytest

from dockyard.aws.errors import AwsPreconditionError
from dockyard.deploy.image import check_findings, parse_image, pin_image
from dockyard.errors import ExitCode, UsageError

REGISTRY = "123456789012.dkr.ecr.ap-southeast-2.amazonaws.com"
DIGEST = "sha256:" + "ab" * 32
OTHER = "sha256:" + "cd" * 32


class Lookup:
    """ECR holding acme/web:v1 -> DIGEST (and nothing else); records what was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    def digest_of(self, repository: str, tag: str) -> str | None:
        self.asked.append((repository, tag))
        return DIGEST if (repository, tag) == ("acme/web", "v1") else None

    def has_digest(self, repository: str, digest: str) -> bool:
        self.asked.append((repository, digest))
        return (repository, digest) == ("acme/web", DIGEST)


def pin(text: str, lookup: Lookup | None = None) -> str:
    return pin_image(text, project="acme", app="web", registry=REGISTRY,
                     lookup=lookup or Lookup())


@pytest.mark.parametrize("text", [
    f"{REGISTRY}/acme/web@{DIGEST}",  # what dockyard build prints
    f"{REGISTRY}/acme/web:v1",
    "v1", "web:v1", "acme/web:v1", f"acme/web@{DIGEST}", f"web:v1@{DIGEST}",
])
def test_every_form_of_the_apps_image_pins_its_digest(text: str) -> None:
    assert pin(text) == f"{REGISTRY}/acme/web@{DIGEST}"


def test_a_tag_is_resolved_through_ecr_and_a_digest_is_checked_there() -> None:
    lookup = Lookup()
    pin("v1", lookup)
    pin(f"acme/web@{DIGEST}", lookup)
    assert lookup.asked == [("acme/web", "v1"), ("acme/web", DIGEST)]


def test_an_image_outside_ecr_needs_a_digest_and_is_kept_as_given() -> None:
    assert pin(f"docker.io/library/nginx:1.27@{OTHER}") == f"docker.io/library/nginx@{OTHER}"
    with pytest.raises(UsageError, match="a tag outside ECR cannot be checked or pinned"):
        pin("docker.io/library/nginx:1.27")


@pytest.mark.parametrize(("text", "words"), [
    ("v9", "ECR acme/web has no tag v9"),
    (f"acme/web@{OTHER}", f"ECR acme/web has no image {OTHER}"),
    ("acme/api:v1", "app web runs images from acme/web only"),
    (f"{REGISTRY}/acme/web", "name a tag or a digest"),
    ("999999999999.dkr.ecr.ap-southeast-2.amazonaws.com/acme/web:v1",
     "that ECR registry is not this platform's"),
    ("web@sha256:123", "the digest must be sha256: and 64 hex digits"),
    ("web:v1 extra", "not an image reference"),
    ("", "not an image reference"),
    ("acme/web:-bad", "is not a valid tag"),
])
def test_refusals_name_the_option_and_are_usage_errors(text: str, words: str) -> None:
    with pytest.raises(UsageError) as raised:
        pin(text)
    assert raised.value.message.startswith("--image")
    assert words in raised.value.message
    assert raised.value.exit_code == ExitCode.USAGE


def test_parsing_keeps_registry_repository_tag_and_digest_apart() -> None:
    ref = parse_image(f"localhost:5000/team/app:1.0@{DIGEST}")
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        "localhost:5000", "team/app", "1.0", DIGEST)
    lone = parse_image("build-20261128-010203-abcdef")
    assert (lone.repository, lone.tag) == ("", "build-20261128-010203-abcdef")


class _Scans:
    def __init__(self, status: str, counts: dict[str, int]) -> None:
        self.answer = (status, counts)
        self.asked: list[tuple[str, str]] = []

    def scan(self, repository: str, digest: str) -> tuple[str, dict[str, int]]:
        self.asked.append((repository, digest))
        return self.answer


_OWN = "123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/acme/web@sha256:" + "a" * 64


@pytest.mark.parametrize(("status", "counts", "mode", "outcome"), [
    ("COMPLETE", {}, "refuse", "quiet"),
    ("COMPLETE", {"HIGH": 3}, "refuse", "quiet"),
    ("COMPLETE", {"CRITICAL": 2}, "warn", "2 CRITICAL vulnerabilities"),
    ("COMPLETE", {"CRITICAL": 1}, "refuse", "refused"),
    ("IN_PROGRESS", {}, "warn", "not complete (IN_PROGRESS)"),
    ("NONE", {}, "refuse", "refused"),
])
def test_critical_findings_warn_or_refuse_as_configured(status: str, counts: dict[str, int],
                                                        mode: str, outcome: str) -> None:
    scans, said = _Scans(status, counts), list[str]()
    if outcome == "refused":
        with pytest.raises(AwsPreconditionError) as refused:
            check_findings(_OWN, project="acme", app="web", mode=mode, lookup=scans,
                           warn=said.append)
        assert refused.value.exit_code == ExitCode.AWS_PRECONDITION
        assert "apps.web.deploy.critical_findings is refuse" in str(refused.value)
        return
    check_findings(_OWN, project="acme", app="web", mode=mode, lookup=scans, warn=said.append)
    assert scans.asked == [("acme/web", "sha256:" + "a" * 64)]
    if outcome == "quiet":
        assert said == []
    else:
        (line,) = said
        assert outcome in line


def test_an_image_outside_the_apps_repository_has_no_scan_to_read() -> None:
    scans = _Scans("NONE", {})
    check_findings("docker.io/library/nginx@sha256:" + "b" * 64, project="acme", app="web",
                   mode="refuse", lookup=scans, warn=lambda line: None)
    assert scans.asked == []
