"""Where contexts come from: a git URL at a ref (resolved to a commit), an S3 archive."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.builds.context import s3_checksum
from dockyard.builds.sources import kind_of, listing_for, prepare
from dockyard.errors import UsageError
from tests.fakes import Notes


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
                               "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
                               "HOME": str(cwd), "PATH": "/usr/bin:/bin"}).stdout.strip()


@pytest.fixture()
def repo(tmp_path: Path) -> tuple[str, str, str]:
    """A repository with two commits on main and a branch: (url, first commit, main head)."""
    work = tmp_path / "work"
    work.mkdir()
    git("init", "-q", "-b", "main", cwd=work)
    (work / "Dockerfile").write_text("FROM scratch\n")
    git("add", ".", cwd=work)
    git("commit", "-q", "-m", "one", cwd=work)
    first = git("rev-parse", "HEAD", cwd=work)
    (work / "app.py").write_text("print(2)\n")
    git("add", ".", cwd=work)
    git("commit", "-q", "-m", "two", cwd=work)
    head = git("rev-parse", "HEAD", cwd=work)
    return f"file://{work}", first, head


class Objects:
    """A bucket that keeps, as S3 does for an upload with ChecksumAlgorithm=SHA256, the
    checksum of each object's bytes."""

    def __init__(self, existing: set[tuple[str, str]] | None = None) -> None:
        self.existing = existing or set()
        self.checksums: dict[tuple[str, str], str] = {}
        self.uploads: list[str] = []

    def exists(self, bucket: str, key: str) -> bool:
        return (bucket, key) in self.existing

    def checksum(self, bucket: str, key: str) -> str | None:
        return self.checksums.get((bucket, key)) if self.exists(bucket, key) else None

    def upload(self, path: Path, bucket: str, key: str,
               on_bytes: Callable[[int], None] = lambda _: None) -> None:
        self.uploads.append(key)
        self.existing.add((bucket, key))
        self.checksums[(bucket, key)] = s3_checksum(path)

    def presign_get(self, bucket: str, key: str, seconds: int) -> str:
        return f"https://{bucket}.s3.amazonaws.com/{key}?X-Amz-Expires={seconds}"


def test_kinds() -> None:
    assert kind_of("s3://b/k.tar.gz") == "s3"
    assert kind_of("https://github.com/org/repo.git#main") == "git"
    assert kind_of("git@github.com:org/repo.git") == "git"
    assert kind_of("./web") == "local"
    assert kind_of("/abs/path") == "local"


def test_a_git_ref_is_resolved_to_the_commit_the_result_names(repo: tuple[str, str, str],
                                                             tmp_path: Path) -> None:
    url, first, head = repo
    listing, commit, source_url = listing_for(f"{url}#main", "Dockerfile", tmp_path / "a")
    assert commit == head and source_url == url
    assert {e.path for e in listing.entries} == {"Dockerfile", "app.py"}
    listing, commit, _ = listing_for(f"{url}#{first}", "Dockerfile", tmp_path / "b")
    assert commit == first
    assert {e.path for e in listing.entries} == {"Dockerfile"}, "the tree at that commit"


def test_a_git_context_is_packed_uploaded_once_and_labelled(repo: tuple[str, str, str]) -> None:
    url, _, head = repo
    objects = Objects()
    source = prepare(f"{url}#main", "Dockerfile", objects, bucket="ctx",
                     prefix="contexts/apps/web/", url_seconds=60, progress=Notes())
    assert source.kind == "git" and source.revision == head and source.url == url
    assert source.context == f"s3://ctx/{objects.uploads[0]}"
    again = prepare(f"{url}#main", "Dockerfile", objects, bucket="ctx",
                    prefix="contexts/apps/web/", url_seconds=60, progress=Notes())
    assert again.context == source.context and len(objects.uploads) == 1


def test_a_missing_ref_is_a_clear_error(repo: tuple[str, str, str], tmp_path: Path) -> None:
    url, _, _ = repo
    with pytest.raises(UsageError, match=r"cannot fetch .* at nope"):
        listing_for(f"{url}#nope", "Dockerfile", tmp_path)


def test_s3_archives_are_read_in_place_or_through_a_presigned_url() -> None:
    objects = Objects({("ctx", "contexts/apps/web/abc.tar.gz"), ("other", "builds/web.tar.gz"),
                       ("ctx", "contexts/untrusted/abc.tar.gz")})
    own = prepare("s3://ctx/contexts/apps/web/abc.tar.gz", "Dockerfile", objects, bucket="ctx",
                  prefix="contexts/apps/web/", url_seconds=60, progress=Notes())
    assert own.context == "s3://ctx/contexts/apps/web/abc.tar.gz"
    # Another owner's context is not kaniko's to read: it is lent through a URL the caller
    # signs, so it is read only where the caller itself may read.
    theirs = prepare("s3://ctx/contexts/untrusted/abc.tar.gz", "Dockerfile", objects,
                     bucket="ctx", prefix="contexts/apps/web/", url_seconds=60,
                     progress=Notes())
    assert theirs.context.startswith("https://ctx.s3.amazonaws.com/contexts/untrusted/")
    elsewhere = prepare("s3://other/builds/web.tar.gz", "Dockerfile", objects, bucket="ctx",
                        prefix="contexts/apps/web/", url_seconds=5400, progress=Notes())
    assert elsewhere.context.startswith("https://other.s3.amazonaws.com/builds/web.tar.gz?")
    assert "X-Amz-Expires=5400" in elsewhere.context
    with pytest.raises(UsageError, match="no such object"):
        prepare("s3://other/missing.tar.gz", "Dockerfile", objects, bucket="ctx",
                prefix="contexts/apps/web/", url_seconds=60, progress=Notes())
    with pytest.raises(UsageError, match="gzipped tar"):
        prepare("s3://other/builds/web.zip", "Dockerfile", objects, bucket="ctx",
                prefix="contexts/apps/web/", url_seconds=60, progress=Notes())


def test_an_object_whose_bytes_are_not_its_name_is_never_built(repo: tuple[str, str, str]
                                                               ) -> None:
    """Something else under the context's name (planted, or left by anything but this
    packing) has another checksum: it is not used, and the real context replaces it."""
    url, _, _ = repo
    objects = Objects()
    source = prepare(f"{url}#main", "Dockerfile", objects, bucket="ctx",
                     prefix="contexts/apps/web/", url_seconds=60, progress=Notes())
    key = objects.uploads[0]
    real = objects.checksums[("ctx", key)]
    objects.checksums[("ctx", key)] = "planted-bytes-checksum="
    notes = Notes()
    again = prepare(f"{url}#main", "Dockerfile", objects, bucket="ctx",
                    prefix="contexts/apps/web/", url_seconds=60, progress=notes)
    assert again.context == source.context and again.uploaded_bytes > 0
    assert objects.uploads == [key, key] and objects.checksums[("ctx", key)] == real
    assert any("does not hold what its name says" in note for note in notes), notes
    del objects.checksums[("ctx", key)]  # there, but without a checksum: not trusted either
    third = prepare(f"{url}#main", "Dockerfile", objects, bucket="ctx",
                    prefix="contexts/apps/web/", url_seconds=60, progress=Notes())
    assert third.uploaded_bytes > 0 and len(objects.uploads) == 3


def test_the_context_goes_under_its_owners_prefix(repo: tuple[str, str, str]) -> None:
    url, _, _ = repo
    objects = Objects()
    for prefix in ("contexts/apps/web/", "contexts/untrusted/"):
        source = prepare(f"{url}#main", "Dockerfile", objects, bucket="ctx", prefix=prefix,
                         url_seconds=60, progress=Notes())
        assert source.context.startswith(f"s3://ctx/{prefix}")
    assert [u.rsplit("/", 1)[0] for u in objects.uploads] == ["contexts/apps/web",
                                                             "contexts/untrusted"]
