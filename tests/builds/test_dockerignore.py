""".dockerignore with Docker's rules: one row per rule, each checked both ways."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.builds.context import scan
from dockyard.builds.dockerignore import IgnoreRules, go_clean, read_patterns

# (.dockerignore text, path, excluded?)
CASES = [
    # comments and blank lines; a '#' later in a line is part of the pattern
    ("# a.txt\n\n   \n", "a.txt", False),
    ("a#b\n", "a#b", True),
    # surrounding whitespace is trimmed
    ("   a.txt   \n", "a.txt", True),
    # exact names match at the root only, and everything below a matched directory
    ("build\n", "build", True),
    ("build\n", "build/out/x.o", True),
    ("build\n", "src/build", False),
    # a leading / and ./ are dropped; .. is cleaned
    ("/build\n", "build/x", True),
    ("./build\n", "build/x", True),
    ("a/../build\n", "build/x", True),
    # * stays within one path segment
    ("*.log\n", "x.log", True),
    ("*.log\n", "sub/x.log", False),
    ("docs/*.md\n", "docs/a.md", True),
    ("docs/*.md\n", "docs/sub/a.md", False),
    # ? is exactly one character, never a separator
    ("a?c\n", "abc", True),
    ("a?c\n", "abbc", False),
    ("a?c\n", "a/c", False),
    # ** matches any number of directories, including none
    ("**/*.tmp\n", "x.tmp", True),
    ("**/*.tmp\n", "a/b/c/x.tmp", True),
    ("**/node_modules\n", "node_modules/x", True),
    ("**/node_modules\n", "a/b/node_modules/y", True),
    ("src/**\n", "src/a/b", True),
    ("src/**\n", "srcx", False),
    ("src/**/test_*.py\n", "src/test_a.py", True),
    ("src/**/test_*.py\n", "src/x/y/test_a.py", True),
    ("src/**/test_*.py\n", "src/x/y/a.py", False),
    ("**foo\n", "barfoo", True),  # Docker matches a leading ** by suffix
    # character classes and escapes
    ("[ab].txt\n", "a.txt", True),
    ("[ab].txt\n", "c.txt", False),
    ("[^a].txt\n", "b.txt", True),
    ("[a-c].txt\n", "b.txt", True),
    ("[a-c].txt\n", "-.txt", False),
    ("\\*.txt\n", "*.txt", True),
    ("\\*.txt\n", "a.txt", False),
    # regex characters are literal
    ("a+b.(c)\n", "a+b.(c)", True),
    ("a.b\n", "axb", False),
    # ! re-includes; the last matching pattern wins
    ("*.log\n!keep.log\n", "keep.log", False),
    ("*.log\n!keep.log\n", "other.log", True),
    ("!keep.log\n*.log\n", "keep.log", True),
    ("docs\n!docs/README.md\n", "docs/README.md", False),
    ("docs\n!docs/README.md\n", "docs/other.md", True),
    ("src/**\n!src/keep/**\n", "src/keep/a/b", False),
]


@pytest.mark.parametrize(("text", "path", "excluded"), CASES)
def test_dockerignore_rule(text: str, path: str, excluded: bool) -> None:
    assert IgnoreRules(read_patterns(text)).excluded(path) is excluded


@pytest.mark.parametrize(("text", "path", "excluded"), CASES)
def test_the_walk_gives_each_rule_the_same_answer(tmp_path: Path, text: str, path: str,
                                                   excluded: bool) -> None:
    """The scan matches per folder and skips the entries of a folder no pattern can reach
    (IgnoreRules.matter_below): each rule still leaves out exactly what it names, among
    neighbours at the same depth and one deeper that it must leave alone."""
    (tmp_path / "Dockerfile").write_text("FROM x\n")
    (tmp_path / ".dockerignore").write_text(text)
    target = tmp_path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("")
    (target.parent / "zz-neighbour").write_text("")
    (target.parent / "zz-sub").mkdir(exist_ok=True)
    (target.parent / "zz-sub" / target.name).write_text("")
    rules = IgnoreRules(read_patterns(text))
    sent = {e.path for e in scan(tmp_path).entries if e.kind == "file"}
    assert (path not in sent) is excluded
    for other in (target.parent / "zz-neighbour", target.parent / "zz-sub" / target.name):
        relative = other.relative_to(tmp_path).as_posix()
        assert (relative not in sent) is rules.excluded(relative), relative


def test_reading_normalises_like_docker() -> None:
    text = "\ufeff# comment\n/abs/path\n!  ./spaced \n\nsub/./x/\n"
    assert read_patterns(text) == ["abs/path", "!spaced", "sub/x"]


def test_go_clean() -> None:
    assert [go_clean(p) for p in ("", "a//b", "./a", "a/b/..", "//a")] == \
        [".", "a/b", "a", "a", "/a"]


def test_excluded_directories_are_walked_only_for_a_named_reinclude() -> None:
    rules = IgnoreRules(read_patterns("docs\n!docs/README.md\nbuild\n"))
    assert rules.may_reinclude_below("docs")
    assert not rules.may_reinclude_below("build")


@pytest.mark.parametrize("bad", ["!", "a[b"])
def test_invalid_patterns_are_errors(bad: str) -> None:
    with pytest.raises(ValueError):
        IgnoreRules([bad])
