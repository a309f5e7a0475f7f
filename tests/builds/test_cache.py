"""The local context cache: an unchanged folder is known from a scan; any edit is a miss."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from dockyard.builds.cache import RECORD_BYTES, SETTLE_NS, ContextCache, read_record
from dockyard.builds.context import Listing, pack_to_file, scan

LATER = time.time_ns() + 3600 * 10**9  # a scan "an hour from now": every file has settled


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "ctx"
    (root / "src").mkdir(parents=True)
    (root / "Dockerfile").write_text("FROM scratch\nCOPY . /app\n")
    (root / "src" / "main.py").write_text("print('hello')\n")
    (root / ".dockerignore").write_text("*.log\n")
    (root / "debug.log").write_text("left out\n")
    return root


def packed(root: Path, cache: ContextCache, out: Path) -> tuple[Listing, str]:
    listing = scan(root)
    result = pack_to_file(listing, out)
    assert cache.remember(listing, result, LATER)
    return listing, result.tar_sha256


def test_an_unchanged_folder_is_known_from_its_scan(tree: Path, tmp_path: Path) -> None:
    cache = ContextCache(tmp_path / "cache")
    _, name = packed(tree, cache, tmp_path)
    known = cache.lookup(scan(tree))
    assert known is not None and known.tar_sha256 == name
    assert known.key("contexts/apps/web/") == f"contexts/apps/web/{name}.tar.gz"
    assert known.s3_checksum == pack_to_file(scan(tree), tmp_path).s3_checksum
    (tree / "debug.log").write_text("left out, edited\n")
    assert cache.lookup(scan(tree)) is not None, "a file .dockerignore leaves out does not count"


def test_a_one_byte_edit_with_the_same_size_and_mtime_is_caught(tree: Path,
                                                                tmp_path: Path) -> None:
    cache = ContextCache(tmp_path / "cache")
    packed(tree, cache, tmp_path)
    target = tree / "src" / "main.py"
    before = target.stat()
    time.sleep(0.05)  # past the file system's timestamp granularity, as SETTLE_NS ensures
    target.write_text("print('hellO')\n")
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = target.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert after.st_ctime_ns != before.st_ctime_ns, "the change time cannot be set back"
    assert cache.lookup(scan(tree)) is None
    listing, name = packed(tree, cache, tmp_path)
    assert cache.lookup(listing) is not None and name != ""


@pytest.mark.parametrize("edit", ["new file", "deleted file", "chmod +x", "ignore rule",
                                  "renamed", "symlink"])
def test_any_change_to_what_is_sent_is_a_miss(tree: Path, tmp_path: Path, edit: str) -> None:
    cache = ContextCache(tmp_path / "cache")
    packed(tree, cache, tmp_path)
    time.sleep(0.05)
    if edit == "new file":
        (tree / "src" / "util.py").write_text("")
    elif edit == "deleted file":
        (tree / "src" / "main.py").unlink()
    elif edit == "chmod +x":
        (tree / "src" / "main.py").chmod(0o755)
    elif edit == "ignore rule":
        (tree / ".dockerignore").write_text("*.log\nsrc\n")
    elif edit == "renamed":
        (tree / "src" / "main.py").rename(tree / "src" / "app.py")
    else:
        os.symlink("main.py", tree / "src" / "link.py")
    assert cache.lookup(scan(tree)) is None


def test_a_tree_changed_just_before_its_scan_is_not_remembered(tree: Path,
                                                               tmp_path: Path) -> None:
    """An edit in the same timestamp tick as the pack could leave the same stamp behind: a
    tree touched within SETTLE_NS of its scan is packed again next time."""
    cache = ContextCache(tmp_path / "cache")
    listing = scan(tree)
    result = pack_to_file(listing, tmp_path)
    assert not cache.remember(listing, result, time.time_ns())
    assert cache.lookup(listing) is None
    assert cache.remember(listing, result, time.time_ns() + SETTLE_NS + 10**9)


def test_an_unreadable_or_damaged_record_is_a_miss(tree: Path, tmp_path: Path) -> None:
    cache = ContextCache(tmp_path / "cache")
    listing, _ = packed(tree, cache, tmp_path)
    (record,) = (tmp_path / "cache").iterdir()
    record.write_text("{not json")
    assert cache.lookup(listing) is None
    unwritable = ContextCache(tmp_path / "cache" / record.name / "below-a-file")
    assert not unwritable.remember(listing, pack_to_file(listing, tmp_path), LATER)


def test_a_build_of_an_unchanged_folder_does_not_pack_it_again(tree: Path,
                                                               tmp_path: Path) -> None:
    from dockyard.builds.sources import prepare
    from tests.builds.test_sources import Objects
    from tests.fakes import Notes

    objects, notes = Objects(), Notes()
    cache = ContextCache(tmp_path / "cache")
    first = prepare(str(tree), "Dockerfile", objects, bucket="ctx",
                    prefix="contexts/apps/web/", url_seconds=60, progress=notes, cache=cache)
    assert cache.lookup(scan(tree)) is None, "just written: not settled, not remembered"
    listing = scan(tree)
    cache.remember(listing, pack_to_file(listing, tmp_path), LATER)  # as if packed long ago
    notes.clear()
    again = prepare(str(tree), "Dockerfile", objects, bucket="ctx",
                    prefix="contexts/apps/web/", url_seconds=60, progress=notes, cache=cache)
    assert again.context == first.context and again.uploaded_bytes == 0
    assert not any("packing" in note for note in notes), notes
    assert any("unchanged since they were packed" in note for note in notes), notes
    objects.existing.clear()  # the bucket lost it (a lifecycle rule expired it)
    third = prepare(str(tree), "Dockerfile", objects, bucket="ctx",
                    prefix="contexts/apps/web/", url_seconds=60, progress=notes, cache=cache)
    assert third.context == first.context and third.uploaded_bytes > 0


# -- whatever sits at the record's path (issue 29's fuzz run: a named pipe there hung `build`,
# a link to /dev/zero read until the kernel killed it, a directory left .partial files) --------

OCCUPANTS = ["named pipe", "link to /dev/zero", "directory", "oversized file"]


def _occupy(path: Path, kind: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "named pipe":
        os.mkfifo(path)
    elif kind == "link to /dev/zero":
        os.symlink("/dev/zero", path)
    elif kind == "directory":  # not empty: no rename can replace it
        (path / "inside").mkdir(parents=True)
    else:
        path.write_bytes(b" " * (RECORD_BYTES + 1))


def _build_beside(cache_dir: str, tree: str, kind: str) -> None:
    """In a child process (see below): a lookup, then a build's context preparation, with
    ``kind`` at the record's path; prints what happened as JSON."""
    import json

    from dockyard.builds.sources import prepare
    from tests.builds.test_sources import Objects
    from tests.fakes import Notes

    cache = ContextCache(Path(cache_dir))
    listing = scan(Path(tree))
    _occupy(cache.record_path(listing), kind)
    began = time.monotonic()
    missed = cache.lookup(listing) is None
    seconds = time.monotonic() - began
    source = prepare(tree, "Dockerfile", Objects(), bucket="ctx", prefix="contexts/apps/web/",
                     url_seconds=60, progress=Notes(), cache=cache)
    kept = cache.remember(listing, pack_to_file(listing, Path(tree).parent), LATER)
    print(json.dumps({"missed": missed, "seconds": seconds, "uploaded": source.uploaded_bytes,
                      "kept": kept, "known_after": cache.lookup(listing) is not None}))


def _in_a_child(cache_dir: Path, tree: Path, kind: str) -> dict[str, object]:
    """Run :func:`_build_beside` where a regression cannot take the test run down with it: a
    read that blocks is killed at the timeout, one that never ends at 1 GiB of memory."""
    import json
    import resource
    import subprocess
    import sys

    def bounded() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    code = (f"from tests.builds.test_cache import _build_beside; "
            f"_build_beside({str(cache_dir)!r}, {str(tree)!r}, {kind!r})")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=20, preexec_fn=bounded, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


@pytest.mark.parametrize("kind", OCCUPANTS)
def test_whatever_sits_at_the_record_path_is_a_miss_and_the_build_goes_on(
        tree: Path, tmp_path: Path, kind: str) -> None:
    cache_dir = tmp_path / "cache"
    result = _in_a_child(cache_dir, tree, kind)
    assert result["missed"] is True
    assert isinstance(result["seconds"], float) and result["seconds"] < 1, \
        "nothing waited for a writer or read past the cap"
    assert isinstance(result["uploaded"], int) and result["uploaded"] > 0, "packed and uploaded"
    # A new record replaces a pipe, a link or a stray file; a directory stays, and the context
    # is packed each time (which is what a build without the cache does).
    assert result["kept"] is (kind != "directory")
    assert result["known_after"] is (kind != "directory")
    assert not list(cache_dir.rglob("*partial*")), "no partial record left behind"


def test_a_record_is_read_no_further_than_its_cap(tmp_path: Path) -> None:
    record = tmp_path / "record.json"
    record.write_bytes(b"{}" + b" " * (RECORD_BYTES - 2))
    assert read_record(record) == b"{}" + b" " * (RECORD_BYTES - 2)
    record.write_bytes(b" " * (RECORD_BYTES + 1))
    assert read_record(record) is None
    os.symlink(record, tmp_path / "link.json")
    assert read_record(tmp_path / "link.json") is None, "a link is not followed"


def test_a_failed_record_write_leaves_no_partial_file(tree: Path, tmp_path: Path) -> None:
    cache = ContextCache(tmp_path / "cache")
    listing = scan(tree)
    result = pack_to_file(listing, tmp_path)
    _occupy(cache.record_path(listing), "directory")
    for _ in range(3):  # the rename fails every time
        assert not cache.remember(listing, result, LATER)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == \
        [cache.record_path(listing).name]
