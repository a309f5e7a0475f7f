"""Where a build's digest comes from: ECR by the unique tag for ECR destinations (checked
against kaniko's own "Pushed" line), the presigned digest file elsewhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dockyard.aws.ecs import TaskSpec
from dockyard.builds.request import BuildRequest, Destination
from dockyard.builds.runner import Build, BuildEnvironment, BuildResult
from dockyard.builds.sources import Source
from dockyard.builds.task import Runner, StopSignal
from dockyard.errors import DockyardError
from tests.fakes import FakeClock, FakeEcs, FakeLogs, Notes, TaskScript

ENV = BuildEnvironment(cluster="arn:aws:ecs:ap-southeast-2:123456789012:cluster/acme",
                       subnets=["subnet-a"], security_group="sg-1", assign_public_ip=True,
                       task_definitions={"amd64": "kaniko-amd64:1"}, bucket="ctx",
                       log_group="/dockyard/acme/builds",
                       registry="123456789012.dkr.ecr.ap-southeast-2.amazonaws.com",
                       project="acme")
ECR = Destination(uri=f"{ENV.registry}/acme/web", ecr_repository="acme/web")
HUB = Destination(uri="docker.io/acme/web", ecr_repository=None)
DIGEST = "sha256:" + "ab" * 32
OTHER = "sha256:" + "cd" * 32
SOURCE = Source(kind="local", description=".", context="s3://ctx/contexts/x.tar.gz")


class Digests:
    def __init__(self, stored: str | None = None) -> None:
        self.stored, self.signed = stored, list[str]()

    def presign_put(self, bucket: str, key: str, seconds: int) -> str:
        self.signed.append(key)
        return f"https://{bucket}.s3.ap-southeast-2.amazonaws.com/{key}?X-Amz-Signature=x"

    def read_text(self, bucket: str, key: str) -> str | None:
        return self.stored


class Registry:
    def __init__(self, digest: str | None) -> None:
        self.digest = digest

    def digest_of(self, repository: str, tag: str) -> str | None:
        return self.digest

    def manifest(self, repository: str, digest: str) -> tuple[str, str]:
        raise AssertionError("no index for one architecture")

    def put_manifest(self, repository: str, manifest: str, media_type: str, tag: str) -> str:
        raise AssertionError("no index for one architecture")


def run(destination: Destination, *, pushed_line: str, stored: str | None = None,
        ecr: str | None = DIGEST, expiry: datetime | None = None
        ) -> tuple[BuildResult, Digests, list[TaskSpec], list[str]]:
    logs, notes = FakeLogs(), Notes()
    script = TaskScript(lines=["INFO step"], late_lines=[pushed_line])
    runner = Runner(tasks=FakeEcs(logs, [script]), logs=logs, clock=FakeClock(),
                    log_group=ENV.log_group, container="kaniko", stop=StopSignal(),
                    progress=notes)
    digests = Digests(stored)
    build = Build(env=ENV, request=BuildRequest(timeout_seconds=3600), destination=destination,
                  runner=runner, digests=digests, registry=Registry(ecr),
                  signing_expiry=lambda: expiry)
    ecs = runner.tasks
    result = build.run("b1", SOURCE, 0.0)
    return result, digests, [c for c in getattr(ecs, "started", [])], notes


def test_an_ecr_build_takes_the_digest_ecr_holds_and_signs_no_url() -> None:
    result, digests, started, _ = run(ECR, pushed_line=f"INFO Pushed {ECR.uri}@{DIGEST}")
    assert result.digest == DIGEST and result.digest_source == "ecr"
    assert digests.signed == [], "no presigned URL to expire"
    assert not any(a.startswith("--digest-file") for a in started[0].command)


def test_an_ecr_digest_that_contradicts_kanikos_log_is_an_error() -> None:
    with pytest.raises(DockyardError, match=f"kaniko logged {OTHER} but ECR has {DIGEST}"):
        run(ECR, pushed_line=f"INFO Pushed {ECR.uri}@{OTHER}")


def test_nothing_under_the_unique_tag_is_an_error() -> None:
    with pytest.raises(DockyardError, match="ECR has no image under build-b1"):
        run(ECR, pushed_line="INFO done", ecr=None)


def test_another_registry_reads_the_digest_file() -> None:
    result, digests, started, _ = run(HUB, pushed_line=f"INFO Pushed {HUB.uri}@{DIGEST}",
                                      stored=DIGEST)
    assert result.digest == DIGEST and result.digest_source == "digest-file"
    assert digests.signed == ["digests/platform/b1/amd64"]
    assert any(a.startswith("--digest-file=https://ctx.s3.ap-southeast-2.amazonaws.com/")
               for a in started[0].command)


def test_a_missing_digest_file_says_the_url_may_have_expired() -> None:
    with pytest.raises(DockyardError) as caught:
        run(HUB, pushed_line="INFO done", stored=None)
    assert "left no digest file" in caught.value.message
    assert "expired" in (caught.value.hint or "")


def test_signing_credentials_shorter_than_the_timeout_are_warned_about() -> None:
    soon = datetime.now(UTC) + timedelta(minutes=20)
    _, _, _, notes = run(HUB, pushed_line="INFO done", stored=DIGEST, expiry=soon)
    warning = next(n for n in notes if n.startswith("warning: the credentials signing"))
    assert "before the build's timeout (60 min)" in warning
    _, _, _, quiet = run(ECR, pushed_line="INFO done", expiry=soon)
    assert not any(n.startswith("warning:") for n in quiet), "ECR builds sign nothing"
