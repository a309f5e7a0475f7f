"""The local context cache: an unchanged folder is known from a scan; any edit is a miss."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from dockyard.builds.cache import SETTLE_NS, ContextCache
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
