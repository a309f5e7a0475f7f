"""The build context of a local folder: what is sent (Docker's rules), and the packed tar.gz.

The archive is deterministic: entries in sorted order, owner root, modes normalised (0644,
0755 when executable, directories 0755), every mtime 0. It is written as a stream through a
pigz-style parallel gzip writer, so memory stays bounded whatever the context's size, and named
by the SHA-256 of the uncompressed tar: the same source gets the same name, and an upload that
already exists is skipped.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from dockyard.builds.dockerignore import IgnoreRules, read_patterns
from dockyard.errors import DockyardError, UsageError
from dockyard.names import CONTEXT_PREFIX
from dockyard.rules import clipped

# isal level 2 runs several times faster than zlib level 6 for an output a few percent larger;
# blocks of 1 MiB keep two compressing threads busy with little memory.
GZIP_LEVEL = 2
GZIP_BLOCK = 1 << 20
COPY_BUFFER = 1 << 20


@dataclass(frozen=True)
class Entry:
    """One entry of the context, with its normalised metadata."""

    path: str
    kind: str  # "file", "dir" or "symlink"
    size: int = 0
    mode: int = 0o644
    target: str = ""


@dataclass
class Listing:
    """What a context sends: its entries in archive order, and what was left out and why."""

    root: Path
    dockerfile: str
    entries: list[Entry] = field(default_factory=list)
    excluded: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        """The size of the files sent, before compression."""
        return sum(e.size for e in self.entries)


@dataclass(frozen=True)
class Packed:
    """A packed context on disk."""

    path: Path
    tar_sha256: str
    tar_bytes: int
    gz_bytes: int

    @property
    def key(self) -> str:
        """The object key the context is stored under: its content hash."""
        return f"{CONTEXT_PREFIX}{self.tar_sha256}.tar.gz"


def scan(root: Path, dockerfile: str = "Dockerfile") -> Listing:
    """Walk ``root`` and decide, as ``docker build`` does, what goes into the context."""
    if not root.is_dir():
        raise UsageError(f"CONTEXT {root}: not a folder")
    rel_dockerfile = _relative_dockerfile(root, dockerfile)
    rules = IgnoreRules(_patterns(root, rel_dockerfile))
    listing = Listing(root=root, dockerfile=rel_dockerfile)
    _walk(root, "", rules, listing)
    if not any(e.path == rel_dockerfile and e.kind == "file" for e in listing.entries):
        raise UsageError(f"--dockerfile {rel_dockerfile}: no such file in the context {root}")
    return listing


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


def _walk(root: Path, prefix: str, rules: IgnoreRules, listing: Listing) -> None:
    directory = root / prefix if prefix else root
    try:
        children = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as err:
        raise DockyardError(f"cannot read {directory}: {err.strerror}") from None
    for child in children:
        rel = f"{prefix}/{child.name}" if prefix else child.name
        excluded = rules.excluded(rel)
        info = child.stat(follow_symlinks=False)
        if stat.S_ISLNK(info.st_mode):
            if excluded:
                listing.excluded += 1
                continue
            target = os.readlink(child.path)
            if not _inside(root, Path(child.path).parent, target):
                listing.warnings.append(f"{rel} links outside the context ({target}); it is "
                                        "sent as a link and not followed")
            listing.entries.append(Entry(rel, "symlink", mode=0o777, target=target))
        elif stat.S_ISDIR(info.st_mode):
            if excluded and not rules.may_reinclude_below(rel):
                listing.excluded += 1
                continue
            if excluded:
                listing.excluded += 1
            else:
                listing.entries.append(Entry(rel, "dir", mode=0o755))
            _walk(root, rel, rules, listing)
        elif stat.S_ISREG(info.st_mode):
            if excluded:
                listing.excluded += 1
                continue
            mode = 0o755 if info.st_mode & stat.S_IXUSR else 0o644
            listing.entries.append(Entry(rel, "file", size=info.st_size, mode=mode))
        elif not excluded:
            listing.warnings.append(f"{rel} is not a file, folder or link; it is left out")


def _inside(root: Path, parent: Path, target: str) -> bool:
    resolved = os.path.normpath(os.path.join(parent, target))
    real_root = os.path.normpath(root.absolute())
    return resolved == real_root or resolved.startswith(real_root + os.sep)


class _HashingGzip:
    """The file object tarfile writes to: hashes the tar bytes, then compresses them."""

    def __init__(self, out: BinaryIO, threads: int) -> None:
        from isal import igzip_threaded

        self._gz = igzip_threaded.open(  # type: ignore[no-untyped-call]
            out, "wb", compresslevel=GZIP_LEVEL, threads=threads, block_size=GZIP_BLOCK)
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        self._gz.write(data)
        return len(data)

    def tell(self) -> int:
        return self.size

    def close(self) -> None:
        self._gz.close()


def pack(listing: Listing, out: BinaryIO, *, threads: int | None = None,
         on_entry: Callable[[Entry], None] = lambda _: None) -> tuple[str, int]:
    """Write the context as a deterministic tar.gz to ``out``; returns (tar sha256, tar size)."""
    sink = _HashingGzip(out, threads or min(os.cpu_count() or 1, 4))
    tar = tarfile.TarFile(fileobj=sink, mode="w", format=tarfile.GNU_FORMAT,  # type: ignore[arg-type]
                          copybufsize=COPY_BUFFER)
    try:
        for entry in listing.entries:
            _add(tar, listing.root, entry)
            on_entry(entry)
        tar.close()
    finally:
        sink.close()
    return sink.sha.hexdigest(), sink.size


def _add(tar: tarfile.TarFile, root: Path, entry: Entry) -> None:
    info = tarfile.TarInfo(entry.path)
    info.mode, info.mtime, info.uid, info.gid, info.uname, info.gname = \
        entry.mode, 0, 0, 0, "", ""
    if entry.kind == "dir":
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
    elif entry.kind == "symlink":
        info.type, info.linkname = tarfile.SYMTYPE, entry.target
        tar.addfile(info)
    else:
        info.size = entry.size
        try:
            with open(root / entry.path, "rb") as source:
                tar.addfile(info, source)
        except OSError as err:
            raise DockyardError(f"cannot read {entry.path}: {err.strerror or err}") from None


def pack_to_file(listing: Listing, directory: Path) -> Packed:
    """Pack into a file in ``directory``, named after its content once known."""
    partial = directory / f"context-{os.getpid()}.partial"
    with open(partial, "wb") as out:
        digest, size = pack(listing, out)
    final = directory / f"{digest}.tar.gz"
    partial.replace(final)
    return Packed(path=final, tar_sha256=digest, tar_bytes=size, gz_bytes=final.stat().st_size)


def iter_listing(listing: Listing) -> Iterator[str]:
    """Lines for ``--list-context``: every entry sent, then the totals."""
    for entry in listing.entries:
        suffix = "/" if entry.kind == "dir" else f" -> {entry.target}" \
            if entry.kind == "symlink" else ""
        yield f"{entry.size:>12,}  {entry.path}{suffix}"
    files = sum(1 for e in listing.entries if e.kind == "file")
    yield (f"{files} files, {listing.total_bytes:,} bytes sent; {listing.excluded} "
           "paths left out by .dockerignore")
