""".dockerignore with Docker's semantics (moby/patternmatcher), written for dockyard.

- A line whose first character is ``#`` is a comment; other lines are trimmed; empty ones skipped.
- Patterns are cleaned like Go's ``filepath.Clean`` and made relative (a leading ``/`` is dropped).
- ``*`` matches any run of characters except ``/``, ``?`` one such character, ``[...]`` a class,
  ``\\`` escapes the next character, ``**`` any number of directories (including none).
- A pattern matches a path or any of its parent directories; the last matching pattern wins, and
  ``!`` re-includes what an earlier pattern excluded.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

_REGEX_SPECIALS = frozenset(".+()|{}$")


def go_clean(path: str) -> str:
    """Go's ``filepath.Clean`` for slash paths (Python's normpath keeps a leading ``//``)."""
    if not path:
        return "."
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def read_patterns(text: str) -> list[str]:
    """The patterns of a .dockerignore file, normalised as Docker reads them."""
    patterns = []
    for number, raw in enumerate(text.splitlines()):
        line = raw.removeprefix("\ufeff") if number == 0 else raw
        if line.startswith("#"):
            continue
        pattern = line.strip()
        if not pattern:
            continue
        invert = pattern.startswith("!")
        if invert:
            pattern = pattern[1:].strip()
        if pattern:
            pattern = go_clean(pattern)
            if len(pattern) > 1 and pattern.startswith("/"):
                pattern = pattern[1:]
        patterns.append("!" + pattern if invert else pattern)
    return patterns


@dataclass(frozen=True)
class Pattern:
    """One compiled pattern. Like Docker, a pattern made only of literal characters matches
    exactly, ``foo/**`` by prefix, ``**/foo`` (or ``**foo``) by suffix, anything else by regex."""

    text: str
    exclusion: bool
    kind: str
    regex: re.Pattern[str] | None = None

    def matches(self, path: str) -> bool:
        """Whether the pattern matches ``path`` itself."""
        if self.kind == "exact":
            return path == self.text
        if self.kind == "prefix":
            return path.startswith(self.text[:-2])
        if self.kind == "suffix":
            suffix = self.text[2:]
            return path.endswith(suffix) or (suffix[:1] == "/" and path == suffix[1:])
        assert self.regex is not None
        return self.regex.match(path) is not None

    def may_match_in(self, directory: str) -> bool:
        """Whether the pattern can match an entry of ``directory`` ('' for the root) itself. An
        exact pattern names one folder's entry; ``*``, ``?`` and literals never match a ``/``,
        so a pattern without ``**``, a class or an escape matches only paths with as many
        segments as it has. The rest may match anywhere."""
        if self.kind == "exact":
            return posixpath.dirname(self.text) == directory
        if self.kind != "regexp" or any(c in self.text for c in "[\\") or "**" in self.text:
            return True
        return self.text.count("/") == (directory.count("/") + 1 if directory else 0)

    def matches_or_parent(self, path: str) -> bool:
        """Whether the pattern matches ``path`` or one of its parent directories."""
        if self.matches(path):
            return True
        parts = path.split("/")[:-1]
        return any(self.matches("/".join(parts[:i + 1])) for i in range(len(parts)))


def compile_pattern(raw: str) -> Pattern:
    """Compile one pattern (as returned by :func:`read_patterns`)."""
    exclusion = raw.startswith("!")
    if exclusion and len(raw) == 1:
        raise ValueError('illegal exclusion pattern: "!"')
    text = go_clean(raw[1:] if exclusion else raw)
    kind, regex = _translate(text)
    try:
        compiled = re.compile(regex) if kind == "regexp" else None
    except re.error as err:
        raise ValueError(f"syntax error in pattern {text!r}: {err}") from None
    return Pattern(text=text, exclusion=exclusion, kind=kind, regex=compiled)


def _translate(pattern: str) -> tuple[str, str]:
    """The match kind and the regular expression of a cleaned pattern."""
    out, kind = ["^"], "exact"
    i, step = 0, 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            i, kind = _double_star(pattern, i + 2, kind, out)
            kind = "suffix" if step == 0 else kind
        else:
            i, kind = _single(pattern, i, kind, out)
        step += 1
    out.append("$")
    return kind, "".join(out)


def _double_star(pattern: str, i: int, kind: str, out: list[str]) -> tuple[int, str]:
    if pattern[i:i + 1] == "/":
        i += 1  # "**/" is "**": any number of directories, even none
    if i < len(pattern):
        out.append("(.*/)?")
        return i, "regexp"
    if kind == "exact":
        return i, "prefix"
    out.append(".*")
    return i, "regexp"


def _single(pattern: str, i: int, kind: str, out: list[str]) -> tuple[int, str]:
    ch = pattern[i]
    if ch == "*":
        out.append("[^/]*")
        return i + 1, "regexp"
    if ch == "?":
        out.append("[^/]")
        return i + 1, "regexp"
    if ch in _REGEX_SPECIALS:
        out.append("\\" + ch)
        return i + 1, kind
    if ch == "\\":
        if i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))  # an escaped character is itself
            return i + 2, "regexp"
        out.append("\\\\")
        return i + 1, kind
    if ch in "[]":
        out.append(ch)  # character classes pass through, as in Docker
        return i + 1, "regexp"
    out.append(ch)  # as Docker does: only the characters above mean something else
    return i + 1, kind


Hits = tuple[bool, ...]
"""For a directory, per pattern: whether it matches that directory or one of its parents."""


class IgnoreRules:
    """A .dockerignore, applied to slash paths relative to the context root.

    A walk matches each pattern against each directory once (:meth:`hits_below`), and each
    entry only against its own path (:meth:`excluded_below`): the same answers as
    :meth:`excluded`, without matching every parent again for every file.
    """

    def __init__(self, patterns: list[str]) -> None:
        self.patterns = [compile_pattern(p) for p in patterns]
        self.has_exclusions = any(p.exclusion for p in self.patterns)

    def excluded(self, path: str) -> bool:
        """Whether ``path`` is left out of the context (Docker's MatchesOrParentMatches)."""
        matched = False
        for pattern in self.patterns:
            if pattern.exclusion != matched:
                continue  # an include cannot change a match, an exclusion needs one
            if pattern.matches_or_parent(path):
                matched = not pattern.exclusion
        return matched

    def hits_below(self, directory: str, parent: Hits | None) -> Hits:
        """The hits for the entries of ``directory`` ('' for the root), from its parent's."""
        if parent is None:
            return (False,) * len(self.patterns)
        return tuple(hit or pattern.matches(directory)
                     for hit, pattern in zip(parent, self.patterns, strict=True))

    def matter_below(self, directory: str, hits: Hits) -> bool:
        """Whether any entry of ``directory`` may be excluded: a pattern matched the folder
        or a parent, or may match one of its entries. When not, the walk asks nothing of its
        entries (on a tree of many small files, most of what matching costs)."""
        return any(hits) or any(p.may_match_in(directory) for p in self.patterns)

    def excluded_below(self, path: str, hits: Hits) -> bool:
        """:meth:`excluded` for an entry of the directory whose hits are ``hits``."""
        matched = False
        for hit, pattern in zip(hits, self.patterns, strict=True):
            if pattern.exclusion != matched:
                continue
            if hit or pattern.matches(path):
                matched = not pattern.exclusion
        return matched

    def may_reinclude_below(self, directory: str) -> bool:
        """Whether an excluded directory must still be walked: a ``!`` pattern names a path
        under it. Like Docker, this looks at the pattern's literal prefix only."""
        prefix = directory + "/"
        return any(p.exclusion and (p.text + "/").startswith(prefix) for p in self.patterns)
