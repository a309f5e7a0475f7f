"""The build context of a local folder: what is sent (Docker's rules), and the packed tar.gz.

The archive is deterministic: entries in sorted order, owner root, modes normalised (0644,
0755 when executable, directories 0755), every mtime 0, in tar's GNU format (what Python's
tarfile writes, byte for byte; kaniko reads it with Go's archive/tar). It is named by the
SHA-256 of the uncompressed tar: the same source gets the same name, and an upload that already
exists is skipped.

Packing costs little more than reading the tree: the scan matches the ignore rules once per
directory for its parents, the tar headers are written directly, small files are read whole
with one call, and the hashing and compressing (a pigz-style parallel gzip writer) run in other
threads while the main thread reads, through a bounded queue, so memory stays bounded whatever
the context's size.
"""

from __future__ import annotations

import base64
import contextlib
import gc
import hashlib
import os
import queue
import stat
import tarfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, NamedTuple

from dockyard.builds.dockerignore import Hits, IgnoreRules, read_patterns
from dockyard.errors import DockyardError, UsageError
from dockyard.names import UPLOAD_PART_BYTES
from dockyard.rules import clipped

# ISA-L at level 2: several times faster than zlib at level 6, for an output a few percent
# larger on mixed trees and up to a third larger on trees of text alone (bench/context.py).
# Where builds run, a Jenkins agent of 1 vCPU next to the bucket, the CPU is the scarcer. Blocks
# of 1 MiB keep the compressing threads busy with little memory, and the output is the same
# whatever their number.
GZIP_LEVEL = 2
GZIP_BLOCK = 1 << 20
COPY_BUFFER = 1 << 20


class Entry(NamedTuple):
    """One entry of the context, with its normalised metadata (a tuple: the scan makes one
    per file, and a tuple is made several times faster than a frozen dataclass)."""

    path: str
    kind: str  # "file", "dir" or "symlink"
    size: int = 0
    mode: int = 0o644
    target: str = ""
    # What the local cache compares, as git's index does: size, mtime and ctime in
    # nanoseconds, inode, device and the raw mode (dockyard.builds.cache).
    stamp: tuple[int, ...] = ()


@dataclass
class Listing:
    """What a context sends: its entries in archive order, and what was left out and why."""

    root: Path
    dockerfile: str
    entries: list[Entry] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)  # the ignore rules applied
    excluded: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        """The size of the files sent, before compression."""
        return sum(e.size for e in self.entries)


@dataclass(frozen=True)
class Packed:
    """A packed context on disk, with the checksum S3 keeps of its upload."""

    path: Path
    tar_sha256: str
    tar_bytes: int
    gz_bytes: int
    s3_checksum: str = ""

    def key(self, prefix: str) -> str:
        """The object key the context is stored under: its content hash, under ``prefix``
        (the build's owner's: dockyard.trust.context_prefix)."""
        return context_key(prefix, self.tar_sha256)


def context_key(prefix: str, tar_sha256: str) -> str:
    """``<prefix><sha256 of the tar>.tar.gz``."""
    return f"{prefix}{tar_sha256}.tar.gz"


def s3_checksum(path: Path, part_bytes: int = UPLOAD_PART_BYTES) -> str:
    """The SHA-256 checksum S3 keeps for ``path`` uploaded with ``ChecksumAlgorithm=SHA256``
    (S3 User Guide, "Checking object integrity"): of the whole object for a single PUT; for a
    multipart upload the composite, the SHA-256 of the parts' digests followed by ``-N``."""
    size = path.stat().st_size
    parts: list[bytes] = []
    with open(path, "rb") as source:
        if size < part_bytes:
            return base64.b64encode(hashlib.sha256(source.read()).digest()).decode()
        while chunk := source.read(part_bytes):
            parts.append(hashlib.sha256(chunk).digest())
    composite = hashlib.sha256(b"".join(parts)).digest()
    return f"{base64.b64encode(composite).decode()}-{len(parts)}"


def scan(root: Path, dockerfile: str = "Dockerfile") -> Listing:
    """Walk ``root`` and decide, as ``docker build`` does, what goes into the context."""
    if not root.is_dir():
        raise UsageError(f"CONTEXT {root}: not a folder")
    rel_dockerfile = _relative_dockerfile(root, dockerfile)
    patterns = _patterns(root, rel_dockerfile)
    rules = IgnoreRules(patterns)
    listing = Listing(root=root, dockerfile=rel_dockerfile, patterns=patterns)
    with _collector_paused():
        _walk(root, "", rules, rules.hits_below("", None), listing)
    if not any(e.path == rel_dockerfile and e.kind == "file" for e in listing.entries):
        raise UsageError(f"--dockerfile {rel_dockerfile}: no such file in the context {root}")
    return listing


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """The scan and the packer make a few objects per entry, in no reference cycle; Python's
    cyclic collector would walk every entry made so far again and again (a tenth of the time
    on a tree of 60,000 small files: bench/context.py). Paused while they run."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _relative_dockerfile(root: Path, dockerfile: str) -> str:
    candidate = Path(dockerfile)
    path = candidate if candidate.is_absolute() else root / candidate
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise UsageError(f"--dockerfile {dockerfile}: must be inside the context {root}") from None


def _patterns(root: Path, dockerfile: str) -> list[str]:
    # A Dockerfile-specific ignore file (Dockerfile.dockerignore) wins, as with BuildKit.
    specific = root / f"{dockerfile}.dockerignore"
    general = root / ".dockerignore"
    source = specific if specific.is_file() else general if general.is_file() else None
    try:
        patterns = read_patterns(source.read_text("utf-8")) if source else []
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else err
        raise UsageError(clipped(f"{source}: cannot read it: {reason}")) from None
    try:
        rules = IgnoreRules(patterns)
    except ValueError as err:
        raise UsageError(f"{source}: {err}") from None
    # The Dockerfile and .dockerignore are always sent (the docker CLI does the same).
    for keep in (".dockerignore", dockerfile):
        if rules.excluded(keep):
            patterns.append("!" + keep)
    return patterns


def _walk(root: Path, prefix: str, rules: IgnoreRules, hits: Hits,
          listing: Listing) -> None:
    directory = f"{root}/{prefix}" if prefix else str(root)
    entries = listing.entries
    matter = rules.matter_below(prefix, hits)
    for name, info in _children(directory, below_root=bool(prefix)):
        rel = f"{prefix}/{name}" if prefix else name
        excluded = matter and rules.excluded_below(rel, hits)
        st_mode = info.st_mode
        stamp = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev,
                 st_mode)
        if stat.S_ISREG(st_mode):
            if excluded:
                listing.excluded += 1
                continue
            mode = 0o755 if st_mode & stat.S_IXUSR else 0o644
            entries.append(Entry(rel, "file", info.st_size, mode, "", stamp))
        elif stat.S_ISDIR(st_mode):
            if excluded and not rules.may_reinclude_below(rel):
                listing.excluded += 1
                continue
            if excluded:
                listing.excluded += 1
            else:
                entries.append(Entry(rel, "dir", 0, 0o755, "", stamp))
            _walk(root, rel, rules, rules.hits_below(rel, hits), listing)
        elif stat.S_ISLNK(st_mode):
            if excluded:
                listing.excluded += 1
                continue
            target = os.readlink(f"{directory}/{name}")
            if not _inside(root, Path(directory), target):
                listing.warnings.append(f"{rel} links outside the context ({target}); it is "
                                        "sent as a link and not followed")
            entries.append(Entry(rel, "symlink", 0, 0o777, target, stamp))
        elif not excluded:
            listing.warnings.append(f"{rel} is not a file, folder or link; it is left out")


def _children(directory: str, *, below_root: bool) -> list[tuple[str, os.stat_result]]:
    """A folder's entries, sorted by name, each with its own lstat. The folder is opened once
    (a folder below the root without following a link) and its entries looked up in it
    (fstatat), not by their whole path; it is closed before the walk goes deeper."""
    try:
        fd = os.open(directory, os.O_RDONLY | _DIRECTORY | (_NOFOLLOW if below_root else 0))
        try:
            with os.scandir(fd) as found:
                names = sorted(child.name for child in found)
            return [(name, os.stat(name, dir_fd=fd, follow_symlinks=False)) for name in names]
        finally:
            os.close(fd)
    except OSError as err:
        raise DockyardError(f"cannot read {directory}: {err.strerror}") from None


def _inside(root: Path, parent: Path, target: str) -> bool:
    resolved = os.path.normpath(os.path.join(parent, target))
    real_root = os.path.normpath(root.absolute())
    return resolved == real_root or resolved.startswith(real_root + os.sep)


# One 512-byte header of tar's GNU format, as tarfile writes it for an owner root, an mtime of 0
# and no user or group name: name, mode, uid, gid, size, mtime, checksum, type, link name, then
# the GNU magic and empty fields (tests/builds/test_context.py compares it with tarfile's).
_BLOCK = 512
_RECORD = 20 * _BLOCK
_UID_GID = b"0000000\x00" * 2
_MTIME = b"00000000000\x00"
_TAIL = b"ustar  \x00" + bytes(_BLOCK - 265)
_FLUSH = 1 << 20  # bytes gathered before they go to the hashing and compressing thread
_READ_WHOLE = 4 << 20  # files up to this size are read with one call
_TYPES = {"file": b"0", "symlink": b"2", "dir": b"5"}


# What the checksum adds for the fields every header has alike (NULs add nothing).
_FIXED_SUM = sum(_UID_GID) + sum(_MTIME) + sum(b"        ") + sum(_TAIL)


def _header(name: str, mode: int, size: int, kind: str, link: str = "") -> bytes:
    encoded = name.encode("utf-8", "surrogateescape")
    target = link.encode("utf-8", "surrogateescape")
    if len(encoded) > 100 or len(target) > 100:  # GNU long names: tarfile writes those
        return _long_header(name, mode, size, kind, link)
    mode_field, size_field, kind_field = b"%07o\x00" % mode, b"%011o\x00" % size, _TYPES[kind]
    # The checksum is the sum of the header's bytes with its own field as spaces; summed from
    # the parts that vary, not over the 512 bytes (the packer writes one header per file).
    checksum = _FIXED_SUM + sum(encoded) + sum(mode_field) + sum(size_field) + \
        kind_field[0] + sum(target)
    return b"".join((encoded.ljust(100, b"\x00"), mode_field, _UID_GID, size_field, _MTIME,
                     b"%06o\x00 " % checksum, kind_field, target.ljust(100, b"\x00"), _TAIL))


# A regular file's header, the fast way (the packer writes one per file): one formatting of
# the name, the mode, uid and gid, the size and the checksum into the fields that never vary.
_FILE_FORMAT = b"%s%s%s\x00" + _MTIME + b"%06o\x00 0" + bytes(100) + _TAIL
_FILE_MODES = {mode: b"%07o\x00" % mode + _UID_GID for mode in (0o644, 0o755)}
_FILE_SUMS = {mode: _FIXED_SUM - sum(_UID_GID) + sum(field) + ord("0")
              for mode, field in _FILE_MODES.items()}


def _file_header(name: str, mode: int, size: int) -> bytes:
    encoded = name.encode("utf-8", "surrogateescape")
    if len(encoded) > 100 or mode not in _FILE_MODES:
        return _header(name, mode, size, "file")
    size_field = b"%011o" % size
    checksum = _FILE_SUMS[mode] + sum(encoded) + sum(size_field)
    return _FILE_FORMAT % (encoded.ljust(100, b"\x00"), _FILE_MODES[mode], size_field, checksum)


def _long_header(name: str, mode: int, size: int, kind: str, link: str) -> bytes:
    info = tarfile.TarInfo(name)
    info.mode, info.size, info.mtime, info.uid, info.gid, info.uname, info.gname = \
        mode, size, 0, 0, 0, "", ""
    info.type = {"file": tarfile.REGTYPE, "symlink": tarfile.SYMTYPE,
                 "dir": tarfile.DIRTYPE}[kind]
    info.linkname = link
    return info.tobuf(tarfile.GNU_FORMAT, "utf-8", "surrogateescape")


class _Sink:
    """Hashes the tar stream and compresses it, in a thread of its own: the reading thread
    hands it chunks through a bounded queue (at most ``depth`` chunks of about 1 MiB wait)."""

    def __init__(self, out: BinaryIO, threads: int, depth: int = 8) -> None:
        from isal import igzip_threaded

        self._gz = igzip_threaded.open(  # type: ignore[no-untyped-call]
            out, "wb", compresslevel=GZIP_LEVEL, threads=threads, block_size=GZIP_BLOCK)
        self.sha = hashlib.sha256()
        self.size = 0
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="dockyard-pack", daemon=True)
        self._thread.start()

    def put(self, chunk: bytes) -> None:
        if self._error is not None:
            raise self._error
        self.size += len(chunk)
        self._queue.put(chunk)

    def _drain(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self.sha.update(chunk)
                    self._gz.write(chunk)
                except BaseException as err:  # handed to the reading thread
                    self._error = err

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self._gz.close()
        if self._error is not None:
            raise self._error


def pack(listing: Listing, out: BinaryIO, *, threads: int | None = None,
         on_entry: Callable[[Entry], None] = lambda _: None) -> tuple[str, int]:
    """Write the context as a deterministic tar.gz to ``out``; returns (tar sha256, tar size)."""
    sink = _Sink(out, threads or min(os.cpu_count() or 1, 4))
    root = str(listing.root)
    try:
        with _Folders(root) as folders, _collector_paused():
            parts: list[bytes] = []
            gathered = 0
            for entry in listing.entries:
                if entry.kind == "file":
                    header = _file_header(entry.path, entry.mode, entry.size)
                    if entry.size > _READ_WHOLE:
                        parts.append(header)
                        sink.put(b"".join(parts))
                        parts, gathered = [], 0
                        _stream(f"{root}/{entry.path}", entry, sink)
                    else:
                        folder, _, name = entry.path.rpartition("/")
                        padding = -entry.size % _BLOCK
                        parts += (header, _read(name, entry, folders.open(folder)),
                                  _ZEROS[:padding])
                        gathered += _BLOCK + entry.size + padding
                else:
                    name = entry.path + "/" if entry.kind == "dir" else entry.path
                    header = _header(name, entry.mode, 0, entry.kind, entry.target)
                    parts.append(header)
                    gathered += len(header)
                if gathered >= _FLUSH:
                    sink.put(b"".join(parts))
                    parts, gathered = [], 0
                on_entry(entry)
            written = sink.size + sum(len(part) for part in parts) + 2 * _BLOCK
            parts.append(bytes(2 * _BLOCK + (-written % _RECORD)))  # tar's end, a whole record
            sink.put(b"".join(parts))
    finally:
        sink.close()
    return sink.sha.hexdigest(), sink.size


_ZEROS = bytes(_BLOCK)


class _Folders:
    """The folders whose files are being read, each opened once (without following a link)
    and its files opened in it (openat), so the kernel resolves a file's own name rather than
    its whole path. The walk's order comes back to a folder after each of its subfolders, so
    the last few stay open."""

    def __init__(self, root: str, keep: int = 32) -> None:
        self._root = root
        self._keep = keep
        self._open: dict[str, int] = {}

    def open(self, folder: str) -> int:
        fd = self._open.get(folder)
        if fd is None:
            if len(self._open) >= self._keep:
                os.close(self._open.pop(next(iter(self._open))))
            try:
                fd = os.open(f"{self._root}/{folder}" if folder else self._root,
                             os.O_RDONLY | _NOFOLLOW | _DIRECTORY)
            except OSError as err:
                raise DockyardError(f"cannot read {folder or '.'}: "
                                    f"{err.strerror or err}") from None
            self._open[folder] = fd
        return fd

    def __enter__(self) -> _Folders:
        return self

    def __exit__(self, *_: object) -> None:
        for fd in self._open.values():
            os.close(fd)
        self._open.clear()


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


def _read(path: str, entry: Entry, folder: int | None = None) -> bytes:
    """A small file, whole, in one read (``path`` in the open ``folder``, when given); it must
    still have the size the scan saw."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW, dir_fd=folder)
        try:
            data = os.read(fd, entry.size + 1) if entry.size else b""
        finally:
            os.close(fd)
    except OSError as err:
        raise DockyardError(f"cannot read {entry.path}: {err.strerror or err}") from None
    if len(data) != entry.size:
        raise _changed(entry)
    return data


def _stream(path: str, entry: Entry, sink: _Sink) -> None:
    """A large file, in chunks, padded to whole blocks."""
    left = entry.size
    try:
        with open(path, "rb", buffering=0) as source:
            while left:
                chunk = source.read(min(COPY_BUFFER, left))
                if not chunk:
                    raise _changed(entry)
                sink.put(chunk)
                left -= len(chunk)
            if source.read(1):
                raise _changed(entry)
    except OSError as err:
        raise DockyardError(f"cannot read {entry.path}: {err.strerror or err}") from None
    if entry.size % _BLOCK:
        sink.put(bytes(-entry.size % _BLOCK))


def _changed(entry: Entry) -> DockyardError:
    return DockyardError(f"{entry.path} changed while the context was packed (it was "
                         f"{entry.size:,} bytes)", hint="run the build again when the files "
                                                       "are settled")


def pack_to_file(listing: Listing, directory: Path) -> Packed:
    """Pack into a file in ``directory``, named after its content once known."""
    partial = directory / f"context-{os.getpid()}.partial"
    try:
        with open(partial, "wb") as out:
            digest, size = pack(listing, out)
        final = directory / f"{digest}.tar.gz"
        partial.replace(final)
    except BaseException:  # a file that changed while packed, a full disk, Ctrl-C
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise
    return Packed(path=final, tar_sha256=digest, tar_bytes=size, gz_bytes=final.stat().st_size,
                  s3_checksum=s3_checksum(final))


def iter_listing(listing: Listing) -> Iterator[str]:
    """Lines for ``--list-context``: every entry sent, then the totals."""
    for entry in listing.entries:
        suffix = "/" if entry.kind == "dir" else f" -> {entry.target}" \
            if entry.kind == "symlink" else ""
        yield f"{entry.size:>12,}  {entry.path}{suffix}"
    files = sum(1 for e in listing.entries if e.kind == "file")
    yield (f"{files} files, {listing.total_bytes:,} bytes sent; {listing.excluded} "
           "paths left out by .dockerignore")
