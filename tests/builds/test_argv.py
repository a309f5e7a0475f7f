"""The kaniko command line, as a pure function of the request."""

from __future__ import annotations

import pytest

from dockyard.builds.request import (
    ArchRun,
    BuildRequest,
    Destination,
    check_request,
    kaniko_argv,
    parse_platforms,
)
from dockyard.errors import UsageError

ECR = Destination(uri="123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/acme/web",
                  ecr_repository="acme/web")
RUN = ArchRun(arch="amd64", context="s3://bucket/contexts/abc.tar.gz",
              digest_url="https://bucket.s3.amazonaws.com/digests/1/amd64?X-Amz-Signature=x",
              build_tag="build-1", tags=("v1", "latest"))


def test_defaults_follow_the_design() -> None:
    argv = kaniko_argv(BuildRequest(), ECR, RUN)
    assert isinstance(argv, list) and all(isinstance(a, str) for a in argv)
    assert argv[0] == "--force"
    assert "--context=s3://bucket/contexts/abc.tar.gz" in argv
    assert "--dockerfile=Dockerfile" in argv
    assert [a for a in argv if a.startswith("--destination=")] == [
        f"--destination={ECR.uri}:build-1", f"--destination={ECR.uri}:v1",
        f"--destination={ECR.uri}:latest"]
    assert f"--digest-file={RUN.digest_url}" in argv
    assert {"--cache=true", f"--cache-repo={ECR.uri}-cache", "--push-retry=3",
            "--log-format=text", "--cache-ttl=168h"} <= set(argv)
    assert not any(a.startswith(("--reproducible", "--use-new-run")) for a in argv)


def test_an_ecr_build_has_no_digest_file() -> None:
    # kaniko writes the digest file before pushing and fails the build when that write
    # fails: for ECR the digest is read from the registry by the unique tag instead.
    from dataclasses import replace

    argv = kaniko_argv(BuildRequest(), ECR, replace(RUN, digest_url=""))
    assert not any(a.startswith("--digest-file") for a in argv)


def test_build_args_with_spaces_stay_single_arguments() -> None:
    request = BuildRequest(build_args=("GREETING=hello world; rm -rf /", "N=1"),
                           target="runtime", labels=(("org.opencontainers.image.revision",
                                                      "abc123"),))
    argv = kaniko_argv(request, ECR, RUN)
    assert "--build-arg=GREETING=hello world; rm -rf /" in argv
    assert "--build-arg=N=1" in argv
    assert "--target=runtime" in argv
    assert "--label=org.opencontainers.image.revision=abc123" in argv


def test_no_cache_and_other_registries_build_without_the_cache() -> None:
    assert "--cache=false" in kaniko_argv(BuildRequest(cache=False), ECR, RUN)
    hub = Destination(uri="docker.io/acme/web", ecr_repository=None)
    argv = kaniko_argv(BuildRequest(), hub, RUN)
    assert "--cache=false" in argv
    assert not any(a.startswith("--cache-repo") for a in argv)


def test_platforms_map_to_the_builder_architectures() -> None:
    assert parse_platforms(None, ["amd64", "arm64"]) == ("amd64",)
    assert parse_platforms("linux/arm64, linux/amd64", ["amd64", "arm64"]) == ("arm64", "amd64")
    with pytest.raises(UsageError, match="no arm64 task definition"):
        parse_platforms("linux/arm64", ["amd64"])
    with pytest.raises(UsageError, match="use linux/amd64"):
        parse_platforms("windows/amd64", ["amd64"])


def test_requests_are_checked() -> None:
    with pytest.raises(UsageError, match="does not go with cpu 256"):
        check_request(BuildRequest(cpu=256, memory=8192))
    with pytest.raises(UsageError, match="expected KEY=VALUE"):
        check_request(BuildRequest(build_args=("NOVALUE",)))
    with pytest.raises(UsageError, match="not a valid image tag"):
        check_request(BuildRequest(tags=("bad tag",)))
    warnings = check_request(BuildRequest(build_args=("NPM_TOKEN=x",)))
    assert "looks like a secret" in warnings[0]

