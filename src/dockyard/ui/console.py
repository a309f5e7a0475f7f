"""Where output goes: data to stdout, everything else (progress, notes, errors) to stderr."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Any, TextIO

from dockyard.rules import clipped

ERROR_LINE = 360  # characters of one line of an error or hint, before it is cut


@dataclass
class Console:
    """The two streams of a command, and whether a person is watching stderr."""

    out: TextIO
    err: TextIO
    wrote_data: bool = False  # something went to stdout (a result, or part of one)
    no_color: bool = False  # --no-color

    @property
    def interactive(self) -> bool:
        """A live display is wanted: stderr is a terminal that can redraw (not TERM=dumb) and
        this is not CI."""
        return self.err.isatty() and not os.environ.get("CI") and \
            os.environ.get("TERM", "") != "dumb"

    @property
    def color(self) -> bool:
        """Colors are wanted: a live display, and neither --no-color nor NO_COLOR
        (no-color.org: set to anything but empty)."""
        return self.interactive and not self.no_color and not os.environ.get("NO_COLOR")

    def data(self, text: str) -> None:
        """Write a result to stdout."""
        self.wrote_data = True
        self.out.write(text if text.endswith("\n") else text + "\n")
        self.out.flush()

    def json(self, document: Any) -> None:
        """Write one JSON document to stdout."""
        self.data(json.dumps(document, indent=2, default=str))

    def note(self, text: str) -> None:
        """A line for the person at the terminal, on stderr."""
        self.err.write(text + "\n")
        self.err.flush()

    def progress(self, text: str) -> None:
        """A progress line on stderr: as is on a terminal, timestamped in logs and CI."""
        self.note(text if self.interactive else f"{time.strftime('%H:%M:%S')} {text}")

    def error(self, message: str, hint: str | None = None) -> None:
        """An error line, and a hint line when there is one. Each line is cut to a readable
        length: whatever a message quotes, stderr never carries a value whole."""
        def cut(text: str) -> str:
            return "\n".join(clipped(line, ERROR_LINE) for line in text.split("\n"))

        self.note(f"error: {cut(message)}")
        if hint:
            self.note(f"hint: {cut(hint)}")
