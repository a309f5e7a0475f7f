"""The context packer: what is sent, determinism, links, and bounded memory."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from dockyard.builds.context import Listing, iter_listing, pack, pack_to_file, scan
from dockyard.errors import DockyardError, UsageError


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def members(root: Path, dockerfile: str = "Dockerfile") -> dict[str, tarfile.TarInfo]:
    buffer = io.BytesIO()
    pack(scan(root, dockerfile), buffer)
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(buffer.getvalue()))) as archive:
        return {m.name: m for m in archive.getmembers()}


def test_ignored_paths_are_left_out_and_reincluded_ones_sent(tmp_path: Path) -> None:
    root = tree(tmp_path, {"Dockerfile": "FROM x\n", "app.py": "", "debug.log": "",
                           "node_modules/a/index.js": "", "docs/README.md": "",
                           "docs/notes.md": "", ".dockerignore":
                           "*.log\nnode_modules\ndocs\n!docs/README.md\n"})
    sent = members(root)
    assert set(sent) == {".dockerignore", "Dockerfile", "app.py", "docs/README.md"}
    listing = scan(root)
    assert listing.excluded == 4  # debug.log, node_modules, docs itself, docs/notes.md


def test_the_dockerfile_and_dockerignore_are_always_sent(tmp_path: Path) -> None:
    root = tree(tmp_path, {"build/Dockerfile": "FROM x\n", "build/other": "", "src/a": "",
                           ".dockerignore": "build\n.dockerignore\n"})
    assert set(members(root, "build/Dockerfile")) == {".dockerignore", "build/Dockerfile",
                                                       "src", "src/a"}


def test_a_dockerfile_specific_ignore_file_wins(tmp_path: Path) -> None:
    root = tree(tmp_path, {"Dockerfile": "", "Dockerfile.dockerignore": "b\n", "a": "",
                           "b": "", ".dockerignore": "a\n"})
    assert {"a", "Dockerfile"} <= set(members(root))
    assert "b" not in members(root)


def test_links_are_sent_as_links_and_never_followed(tmp_path: Path) -> None:
    secret = tmp_path / "outside.txt"
    secret.write_text("do not send me")
    root = tree(tmp_path / "ctx", {"Dockerfile": "", "real.txt": "inside"})
    (root / "escape").symlink_to(secret)
    (root / "local").symlink_to("real.txt")
    sent = members(root)
    assert sent["escape"].issym() and sent["escape"].linkname == str(secret)
    assert sent["local"].issym() and sent["local"].linkname == "real.txt"
    listing = scan(root)
    assert any("escape links outside the context" in w for w in listing.warnings)
    assert not any("local" in w for w in listing.warnings)
    buffer = io.BytesIO()
    pack(listing, buffer)
    assert b"do not send me" not in gzip.decompress(buffer.getvalue())


def test_metadata_is_normalised(tmp_path: Path) -> None:
    root = tree(tmp_path, {"Dockerfile": "", "run.sh": "#!/bin/sh\n", "data": "x"})
    (root / "run.sh").chmod(0o700)
    (root / "data").chmod(0o600)
    os.utime(root / "data", (1_700_000_000, 1_700_000_000))
    sent = members(root)
    assert sent["run.sh"].mode == 0o755
    assert sent["data"].mode == 0o644
    assert all(m.mtime == 0 and m.uid == 0 and m.gid == 0 and m.uname == "" for m in
               sent.values())


def test_the_same_tree_gives_the_same_bytes_and_name(tmp_path: Path) -> None:
    files = {"Dockerfile": "FROM x\n", "b/z.txt": "z" * 5000, "a/y.txt": "y", "c": "c"}
    first = tree(tmp_path / "one", files)
    second = tree(tmp_path / "two", dict(reversed(list(files.items()))))
    os.utime(second / "c", (1, 1))
    (second / "a/y.txt").chmod(0o664)
    one, two = io.BytesIO(), io.BytesIO()
    digest_one, _ = pack(scan(first), one)
    digest_two, _ = pack(scan(second), two)
    assert digest_one == digest_two
    assert one.getvalue() == two.getvalue()
    (second / "c").write_text("changed")
    assert pack(scan(second), io.BytesIO())[0] != digest_one


def test_entries_are_sorted(tmp_path: Path) -> None:
    root = tree(tmp_path, {"Dockerfile": "", "b/1": "", "a/2": "", "a/1": "", "c": ""})
    assert list(members(root)) == ["Dockerfile", "a", "a/1", "a/2", "b", "b/1", "c"]


def test_packed_file_is_named_by_its_content(tmp_path: Path) -> None:
    root = tree(tmp_path / "ctx", {"Dockerfile": "FROM x\n"})
    packed = pack_to_file(scan(root), tmp_path)
    assert packed.key("contexts/untrusted/") == f"contexts/untrusted/{packed.tar_sha256}.tar.gz"
    assert packed.path.name == f"{packed.tar_sha256}.tar.gz"
    assert packed.gz_bytes == packed.path.stat().st_size
    assert gzip.decompress(packed.path.read_bytes())[:100].startswith(b"Dockerfile")


def test_listing_names_every_entry_and_the_total(tmp_path: Path) -> None:
    root = tree(tmp_path, {"Dockerfile": "12345", "src/a.py": "abc", "x.log": "",
                           ".dockerignore": "*.log\n"})
    lines = list(iter_listing(scan(root)))
    assert lines[-1] == "3 files, 14 bytes sent; 1 paths left out by .dockerignore"
    assert any(line.endswith("  src/") for line in lines)


@pytest.mark.parametrize(("files", "dockerfile", "words"), [
    ({"a": ""}, "Dockerfile", "no such file in the context"),
    ({"Dockerfile": ""}, "../Dockerfile", "must be inside the context"),
    ({"Dockerfile": "", ".dockerignore": "a[b\n"}, "Dockerfile", "syntax error in pattern"),
])
def test_bad_contexts_are_usage_errors(tmp_path: Path, files: dict[str, str], dockerfile: str,
                                       words: str) -> None:
    root = tree(tmp_path / "ctx", files)
    with pytest.raises(UsageError, match=words):
        scan(root, dockerfile)


PACK_BIG = """
import os, resource, sys
from pathlib import Path
from dockyard.builds.context import pack_to_file, scan
root = Path(sys.argv[1])
for i in range(60):
    (root / f"f{i}.bin").write_bytes(os.urandom(2_000_000))
(root / "Dockerfile").write_text("FROM x")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
packed = pack_to_file(scan(root), Path(sys.argv[2]))
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(packed.tar_bytes, (after - before) * 1024)
"""


def test_a_large_context_is_packed_in_bounded_memory(tmp_path: Path) -> None:
    (tmp_path / "ctx").mkdir()
    done = subprocess.run([sys.executable, "-c", PACK_BIG, str(tmp_path / "ctx"),
                           str(tmp_path)], capture_output=True, text=True, check=True, timeout=120)
    tar_bytes, growth = (int(v) for v in done.stdout.split())
    assert tar_bytes > 120_000_000
    # 120 MB went through; memory grew by a few blocks, not by the context's size
    assert growth < 40_000_000, growth


def _tarfile_reference(listing: Listing) -> bytes:
    """The archive as Python's tarfile writes it, with the same normalised metadata: what the
    direct header writer must reproduce byte for byte."""
    buffer = io.BytesIO()
    with tarfile.TarFile(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for entry in listing.entries:
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
                with open(listing.root / entry.path, "rb") as source:
                    tar.addfile(info, source)
    return buffer.getvalue()


def test_the_direct_tar_writer_writes_what_tarfile_writes(tmp_path: Path) -> None:
    import random

    rng = random.Random(7)
    root = tmp_path / "ctx"
    deep = root / ("d" * 60) / ("e" * 60)  # paths past tar's 100 bytes: GNU long names
    deep.mkdir(parents=True)
    (root / "Dockerfile").write_text("FROM scratch\n")
    (root / "empty").write_bytes(b"")
    (root / "block").write_bytes(b"x" * 512)
    (root / "blöck-ünïcode.txt").write_text("ü" * 1000)
    (root / "big.bin").write_bytes(rng.randbytes(5 * 1024 * 1024 + 3))  # read in chunks
    (deep / ("f" * 40)).write_bytes(rng.randbytes(1500))
    tool = root / "run.sh"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    os.symlink("Dockerfile", root / "link")
    os.symlink("../" * 40 + "x" * 10, root / "long-link")  # a link target past 100 bytes
    for index in range(300):
        (root / f"f{index:03d}").write_bytes(rng.randbytes(rng.randint(0, 3000)))
    listing = scan(root)
    out = io.BytesIO()
    digest, size = pack(listing, out)
    reference = _tarfile_reference(listing)
    ours = gzip.decompress(out.getvalue())
    assert ours == reference
    assert (digest, size) == (hashlib.sha256(reference).hexdigest(), len(reference))


def test_a_file_that_changes_size_while_packed_is_an_error(tmp_path: Path) -> None:
    root = tmp_path / "ctx"
    root.mkdir()
    (root / "Dockerfile").write_text("FROM scratch\n")
    (root / "app.log").write_text("one line\n")
    listing = scan(root)
    (root / "app.log").write_text("one line\nand another\n")
    with pytest.raises(DockyardError, match=r"app\.log changed while the context was packed"):
        pack(listing, io.BytesIO())


def test_save_context_writes_what_a_build_uploads_without_aws(tmp_path: Path) -> None:
    """`build --save-context` needs no dockyard.yml and no credentials; its file is the very
    archive a build uploads (pack_to_file, as sources.prepare uploads it), under its name."""
    root = tmp_path / "ctx"
    (root / "src").mkdir(parents=True)
    (root / "Dockerfile").write_text("FROM scratch\nCOPY . /app\n")
    (root / "src" / "main.py").write_text("print('hello')\n" * 100)
    (root / ".dockerignore").write_text("*.log\n")
    (root / "x.log").write_text("left out\n")
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("AWS_", "DOCKYARD_"))}
    environment["AWS_CONFIG_FILE"] = environment["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
    done = subprocess.run([sys.executable, "-m", "dockyard", "build", "ctx", "--save-context",
                           "out/ctx.tgz"], cwd=tmp_path, env=environment, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert "--save-context out/ctx.tgz: the folder out does not exist" in done.stderr
    (tmp_path / "out").mkdir()
    done = subprocess.run([sys.executable, "-m", "dockyard", "build", "ctx", "--save-context",
                           "out/ctx.tgz"], cwd=tmp_path, env=environment, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    uploaded = pack_to_file(scan(root), tmp_path)
    saved = (tmp_path / "out" / "ctx.tgz").read_bytes()
    assert saved == uploaded.path.read_bytes()
    assert done.stdout.strip() == (f"out/ctx.tgz: {len(saved):,} bytes (tar "
                                   f"{uploaded.tar_bytes:,} bytes); a build uploads it as "
                                   f"{uploaded.key('contexts/<owner>/')}")
    with tarfile.open(fileobj=io.BytesIO(saved)) as archive:
        assert "x.log" not in archive.getnames()
    assert list(tmp_path.joinpath("out").iterdir()) == [tmp_path / "out" / "ctx.tgz"]
