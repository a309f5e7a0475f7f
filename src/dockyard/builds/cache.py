"""A local record of the contexts packed before, so an unchanged folder is recognised from a
scan alone, without reading, hashing or compressing its files again.

What it trusts, as git's index does: a file whose size, modification time, change time (both
in nanoseconds), inode, device and mode are what they were when it was packed has the content
it had then. A program can set a file's modification time back (``touch -d``, ``os.utime``),
but not its change time: writing a file, or setting its times, moves its change time to now.
So a one-byte edit that keeps the size and restores the modification time is still seen.

Timestamps have the file system's granularity (a few milliseconds on Linux), so an edit made
in the same tick as the pack could leave the same stamp behind. The cache therefore never
remembers a tree with an entry modified or changed in the :data:`SETTLE_NS` before its scan
began; such a tree is packed again next time. What the key also holds: every path sent, its
kind, normalised mode and link target, the .dockerignore patterns and the Dockerfile's path;
any difference in those is a miss. It also keeps the checksum S3 keeps of the upload, so the
object found in the bucket is checked against what was packed without packing again.

The record lives under ``$XDG_CACHE_HOME/dockyard/contexts`` (``~/.cache`` by default), one
small JSON file per context folder and Dockerfile. It is only ever a shortcut: a record that
cannot be read or written is ignored, and the bucket is still asked whether the content is
there before an upload is skipped. Whatever sits at a record's path is read as warily as a
file anyone could have put there: a named pipe (which blocks a reader until a writer comes),
a link to ``/dev/zero`` (which never ends) or a directory is a miss, never a stalled or
failed build, and a write leaves no partial file behind, whatever stops it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dockyard.builds.context import Listing, Packed, context_key

SETTLE_NS = 2_000_000_000
FORMAT = "dockyard-context-cache 2"
RECORD_BYTES = 4096
"""The most of a record that is read: one is about 300 bytes (two SHA-256 digests, two sizes,
a checksum); anything longer is not one of ours, and a miss."""
# Not following a link (ELOOP instead), and not waiting for a named pipe's writer.
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True)
class Known:
    """A context packed before: its content name, sizes and the checksum S3 keeps of it."""

    tar_sha256: str
    tar_bytes: int
    gz_bytes: int
    s3_checksum: str

    def key(self, prefix: str) -> str:
        """The object key it is stored under."""
        return context_key(prefix, self.tar_sha256)


def default_directory() -> Path:
    """``$XDG_CACHE_HOME/dockyard/contexts``, or ``~/.cache/dockyard/contexts``."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "dockyard" / "contexts"


def signature(listing: Listing) -> str:
    """What the listing says about every file it sends, and the rules that chose them."""
    digest = hashlib.sha256(f"{FORMAT}\n{listing.dockerfile}\n".encode())
    digest.update("\n".join(listing.patterns).encode("utf-8", "surrogateescape") + b"\n\n")
    digest.update("\n".join(
        f"{e.path}\0{e.kind}\0{e.mode}\0{e.target}\0{e.stamp}" for e in listing.entries
    ).encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


class ContextCache:
    """The contexts this machine packed, by folder and Dockerfile."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_directory()

    def record_path(self, listing: Listing) -> Path:
        """Where the record of ``listing``'s folder and Dockerfile is kept."""
        where = f"{os.path.realpath(listing.root)}\0{listing.dockerfile}"
        name = hashlib.sha256(where.encode("utf-8", "surrogateescape")).hexdigest()[:32]
        return self.directory / f"{name}.json"

    def lookup(self, listing: Listing) -> Known | None:
        """The content of ``listing`` if its files are as they were when it was packed."""
        data = read_record(self.record_path(listing))
        if data is None:
            return None
        try:
            record = json.loads(data.decode("utf-8"))
            if record.get("signature") != signature(listing):
                return None
            return Known(str(record["tar_sha256"]), int(record["tar_bytes"]),
                         int(record["gz_bytes"]), str(record["s3_checksum"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def remember(self, listing: Listing, packed: Packed, scan_began_ns: int) -> bool:
        """Record what ``listing`` packed to, unless an entry changed too shortly before the
        scan to be told apart from a later edit; True when recorded."""
        newest = max((max(e.stamp[1], e.stamp[2]) for e in listing.entries if e.stamp),
                     default=0)
        if newest >= scan_began_ns - SETTLE_NS:
            return False
        record = {"signature": signature(listing), "tar_sha256": packed.tar_sha256,
                  "tar_bytes": packed.tar_bytes, "gz_bytes": packed.gz_bytes,
                  "s3_checksum": packed.s3_checksum}
        path = self.record_path(listing)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # A new file of our own (O_EXCL: no link or pipe planted under its name is opened)
            # beside the record, so the rename that publishes it is atomic.
            handle, partial = tempfile.mkstemp(dir=self.directory, prefix=".record-",
                                               suffix=".partial")
        except OSError:
            return False
        done = False
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(json.dumps(record))
            os.replace(partial, path)  # fails on a directory there: the record stays a miss
            done = True
        except OSError:
            pass
        finally:  # on any failure, Ctrl-C included
            if not done:
                with contextlib.suppress(OSError):
                    os.unlink(partial)
        return done


def read_record(path: Path) -> bytes | None:
    """The bytes of the regular file at ``path``, at most :data:`RECORD_BYTES` of them; None
    for anything else, without blocking and without following a link."""
    try:
        handle = os.open(path, _OPEN_FLAGS)
    except OSError:  # none there, a link (ELOOP), unreadable
        return None
    try:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            return None
        data = b""
        while len(data) <= RECORD_BYTES:
            chunk = os.read(handle, RECORD_BYTES + 1 - len(data))
            if not chunk:
                return data
            data += chunk
        return None  # longer than any record
    except OSError:
        return None
    finally:
        os.close(handle)
