"""Where the build context comes from: a local folder, a git URL at a ref, or an S3 archive.

Local folders and git checkouts are packed here (the .dockerignore applied, the archive named by
its content) and uploaded only when the bucket does not have them yet. A git ref is resolved to
the commit the result names. An S3 archive elsewhere is handed to kaniko as a presigned URL, so
its task role never needs read access beyond its own bucket.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dockyard.builds.cache import ContextCache
from dockyard.builds.context import Listing, context_key, pack_to_file, scan
from dockyard.errors import DockyardError, UsageError
from dockyard.progress import Progress

_GIT_URL = re.compile(r"^(?P<url>(?:https?|ssh|git|file)://[^#]+|git@[^#]+)(?:#(?P<ref>[^#]+))?$")
_S3_URL = re.compile(r"^s3://(?P<bucket>[^/]+)/(?P<key>.+)$")
_SHA = re.compile(r"^[0-9a-f]{7,40}$")


class ObjectApi(Protocol):
    """The bucket calls a source needs (``dockyard.aws.storage.Objects``, or a fake)."""

    def exists(self, bucket: str, key: str) -> bool: ...
    def checksum(self, bucket: str, key: str) -> str | None: ...
    def upload(self, path: Path, bucket: str, key: str,
               on_bytes: Callable[[int], None] = ...) -> None: ...
    def presign_get(self, bucket: str, key: str, seconds: int) -> str: ...


@dataclass(frozen=True)
class Source:
    """A resolved build context."""

    kind: str  # "local", "git" or "s3"
    description: str
    context: str  # what kaniko's --context gets
    revision: str | None = None
    url: str | None = None
    uploaded_bytes: int = 0


def kind_of(spec: str) -> str:
    """``git``, ``s3`` or ``local`` for a CONTEXT argument."""
    if _S3_URL.match(spec):
        return "s3"
    if _GIT_URL.match(spec) and (spec.startswith(("git@", "ssh://", "git://", "file://"))
                                 or ".git" in spec or "#" in spec):
        return "git"
    return "local"


def check_local(spec: str) -> None:
    """Refuse a local CONTEXT that is not a folder before any AWS call (the walk that packs it
    comes after the builder's stack is read)."""
    if kind_of(spec) == "local" and not Path(spec).is_dir():
        raise UsageError(f"CONTEXT {spec}: not a folder",
                         hint="a folder with a Dockerfile, a git URL at a ref, or an "
                              "s3://bucket/key.tar.gz")


def listing_for(spec: str, dockerfile: str,
                workdir: Path) -> tuple[Listing, str | None, str | None]:
    """The files a local or git context sends; for git also its commit and URL."""
    kind = kind_of(spec)
    if kind == "s3":
        raise UsageError(f"CONTEXT {spec}: an S3 archive is sent as it is; nothing to list")
    if kind == "git":
        url, ref = _split_git(spec)
        checkout, commit = clone(url, ref, workdir)
        return scan(checkout, dockerfile), commit, url
    root = Path(spec)
    local_commit, origin = _local_git_info(root)
    return scan(root, dockerfile), local_commit, origin


def prepare(spec: str, dockerfile: str, objects: ObjectApi, *, bucket: str, prefix: str,
            url_seconds: int, progress: Progress, cache: ContextCache | None = None) -> Source:
    """Resolve CONTEXT into what kaniko reads, uploading a packed context under ``prefix`` (the
    build's owner's: only its identities write there, only its kaniko reads there) when
    needed. A local folder unchanged since it was last packed here (``cache``) is not read
    again.

    An object already in the bucket under the context's name is used only when the checksum
    S3 keeps of it (verified by S3 at upload, SHA-256 of the very bytes) is the checksum of
    what was packed: an object whose bytes are not what its name says, however it got there,
    is never built; it is replaced by an upload of the real context."""
    if (match := _S3_URL.match(spec)) is not None:
        return _s3_source(spec, match["bucket"], match["key"], objects, bucket=bucket,
                          prefix=prefix, url_seconds=url_seconds)
    kind = kind_of(spec)
    cache = cache if kind == "local" else None  # a git checkout is new each time
    with tempfile.TemporaryDirectory(prefix="dockyard-context-") as tmp:
        began = time.time_ns()
        listing, commit, url = listing_for(spec, dockerfile, Path(tmp))
        for warning in listing.warnings:
            progress.note("context", f"warning: {warning}")
        files = sum(1 for e in listing.entries if e.kind == "file")
        known = cache.lookup(listing) if cache else None
        if known is not None and _holds(objects, bucket, known.key(prefix), known.s3_checksum,
                                        progress):
            progress.note("context", f"context {known.tar_sha256[:12]} is already uploaded "
                                     f"({files} files unchanged since they were packed)")
            name, uploaded = known.tar_sha256, 0
        else:
            progress.note("context", f"packing {files} files ({listing.total_bytes / 1e6:.1f} "
                                     f"MB; {listing.excluded} left out by .dockerignore)")
            packed = pack_to_file(listing, Path(tmp))
            if cache:
                cache.remember(listing, packed, began)
            name, uploaded, key = packed.tar_sha256, 0, packed.key(prefix)
            if _holds(objects, bucket, key, packed.s3_checksum, progress):
                progress.note("context", f"context {packed.tar_sha256[:12]} is already uploaded")
            else:
                progress.note("context", f"uploading {packed.gz_bytes / 1e6:.1f} MB as {key}")
                objects.upload(packed.path, bucket, key)
                uploaded = packed.gz_bytes
    description = f"{url}#{commit}" if kind == "git" else f"{spec} ({name[:12]})"
    return Source(kind=kind, description=description,
                  context=f"s3://{bucket}/{context_key(prefix, name)}",
                  revision=commit, url=url, uploaded_bytes=uploaded)


def _holds(objects: ObjectApi, bucket: str, key: str, checksum: str, progress: Progress) -> bool:
    """Whether ``key`` holds exactly the bytes whose S3 checksum is ``checksum``."""
    found = objects.checksum(bucket, key)
    # A multipart object's checksum ends in -<parts> (S3 User Guide, "Checking object
    # integrity"; moto 5.2 leaves it off): the digest before it is what identifies the bytes.
    same = found is not None and found.split("-")[0] == checksum.split("-", maxsplit=1)[0]
    if found is not None and not same:
        progress.note("context", f"warning: s3://{bucket}/{key} does not hold what its name says "
                                 "(its checksum differs); it is not built, but uploaded again")
    return same


def _s3_source(spec: str, source_bucket: str, key: str, objects: ObjectApi, *, bucket: str,
               prefix: str, url_seconds: int) -> Source:
    if not key.endswith((".tar.gz", ".tgz")):
        raise UsageError(f"CONTEXT {spec}: kaniko reads a gzipped tar (.tar.gz)")
    if not objects.exists(source_bucket, key):
        raise UsageError(f"CONTEXT {spec}: no such object, or this identity may not read it")
    if source_bucket == bucket and key.startswith(prefix):
        return Source(kind="s3", description=spec, context=spec)
    # kaniko's role reads only its owner's contexts; a URL lends it this one object.
    return Source(kind="s3", description=spec,
                  context=objects.presign_get(source_bucket, key, url_seconds))


def _split_git(spec: str) -> tuple[str, str | None]:
    match = _GIT_URL.match(spec)
    assert match is not None
    return match["url"], match["ref"]


def clone(url: str, ref: str | None, workdir: Path) -> tuple[Path, str]:
    """A shallow checkout of ``url`` at ``ref`` (a branch, tag or commit); returns it and the
    commit it is at."""
    checkout = workdir / "checkout"
    if ref and _SHA.match(ref):
        steps = [["git", "init", "-q", str(checkout)],
                 ["git", "-C", str(checkout), "fetch", "-q", "--depth", "1", url, ref],
                 ["git", "-C", str(checkout), "checkout", "-q", "FETCH_HEAD"]]
    else:
        branch = ["--branch", ref] if ref else []
        steps = [["git", "clone", "-q", "--depth", "1", *branch, url, str(checkout)]]
    for step in steps:
        _git(step, f"fetch {url}" + (f" at {ref}" if ref else ""))
    commit = _git(["git", "-C", str(checkout), "rev-parse", "HEAD"], "read the commit").strip()
    # As with BuildKit's git contexts, the repository's own metadata is not part of the build.
    shutil.rmtree(checkout / ".git", ignore_errors=True)
    return checkout, commit


def _git(argv: list[str], what: str) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    except FileNotFoundError:
        raise DockyardError("git is not installed; it is needed for git contexts") from None
    except subprocess.TimeoutExpired:
        raise DockyardError(f"cannot {what}: git took more than 10 minutes") from None
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["git failed"])[-1]
        raise UsageError(f"cannot {what}: {detail}")
    return done.stdout


def _local_git_info(root: Path) -> tuple[str | None, str | None]:
    """The commit and origin URL of a local folder in a git work tree, for the image labels."""
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=10, check=False)
        origin = subprocess.run(["git", "-C", str(root), "remote", "get-url", "origin"],
                                capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None, None
    return (commit.stdout.strip() or None if commit.returncode == 0 else None,
            origin.stdout.strip() or None if origin.returncode == 0 else None)
