"""Option and argument types that refuse what click's own would take and then ignore: a
number in digits other than ASCII's, an empty name. A refused value is click's usage error
(exit 2) naming the option, before the command runs and so before any AWS call."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dockyard.rules import shown

if TYPE_CHECKING:  # generic from click 8.4; pyproject allows 8.1, where it is not
    _IntType = click.ParamType[int]
    _StrType = click.ParamType[str]
else:
    _IntType = _StrType = click.ParamType

# click's INT is Python's int(), which takes full-width digits (U+FF15 is 5), '1_024', ' 512 '
# and '+512': a value the user can hardly see is the one they typed. Nine digits are more
# than any count, size or limit here.
_WHOLE = re.compile(r"[0-9]{1,9}")


class Whole(_IntType):
    """A whole number written in ASCII digits, ``low`` to ``high`` when they are given."""

    name = "integer"

    def __init__(self, low: int | None = None, high: int | None = None) -> None:
        self.low, self.high = low, high

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        if isinstance(value, int):  # a default
            return value
        if not _WHOLE.fullmatch(str(value)):
            self.fail(f"{shown(str(value))} is not a whole number in the digits 0-9", param, ctx)
        number = int(value)
        if (self.low is not None and number < self.low) or \
                (self.high is not None and number > self.high):
            self.fail(f"{number} is not in the range {self._range()}", param, ctx)
        return number

    def _range(self) -> str:
        if self.high is None:
            return f"{self.low} or more"
        return f"{self.low}-{self.high}" if self.low is not None else f"up to {self.high}"


def _nameless(value: str) -> str | None:
    """Why ``value`` names nothing (empty, blanks, a NUL no file or AWS name holds), or None."""
    if not value.strip():
        return f"{shown(value)} names nothing"
    if "\x00" in value:
        return f"{shown(value)} holds a NUL character"
    return None


class Name(_StrType):
    """A value that names something: a stage, an image, a stack, a context. An empty one was
    taken as if the option were not given (``--target ''`` built the last stage)."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> str:
        problem = _nameless(str(value))
        if problem:
            self.fail(problem, param, ctx)
        return str(value)


class NamedPath(click.Path):
    """A path that is not empty: ``Path('')`` is the current folder, so ``plan --out ''``
    wrote its templates (and removed stale ones) there, and ``-f ''`` read no Dockerfile."""

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            problem = _nameless(value)
            if problem:
                self.fail(problem, param, ctx)
        return super().convert(value, param, ctx)


NAME = Name()
PATH = NamedPath(path_type=Path)
