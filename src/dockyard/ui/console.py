"""Where output goes: data to stdout, everything else (progress, notes, errors) to stderr."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from dockyard.rules import clipped

ERROR_LINE = 360  # characters of one line of an error or hint, before it is cut


class Overlay(Protocol):
    """A live view drawn at the bottom of stderr (dockyard.ui.progress.LiveReporter): lines
    written while it shows go above it, and it steps aside for a prompt or the result."""

    def above(self, text: str) -> None:
        """Print ``text`` above the live view, where it stays."""
        ...

    def pause(self) -> None:
        """Take the view off the screen until the next update (a prompt is about to ask)."""
        ...

    def close(self, ok: bool = True) -> None:
        """Take the view off the screen for good and leave its summary behind (``ok``: the
        command succeeded so far)."""
        ...


@dataclass
class Console:
    """The two streams of a command, and whether a person is watching stderr."""

    out: TextIO
    err: TextIO
    wrote_data: bool = False  # something went to stdout (a result, or part of one)
    summarized: bool = False  # --events: the last event, the summary, is out
    no_color: bool = False  # --no-color
    overlay: Overlay | None = field(default=None, repr=False)  # the live view, while it shows

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
        """Write a result to stdout (a live view is done by then: its summary goes first)."""
        if self.overlay is not None:
            self.overlay.close()
        self.wrote_data = True
        self.out.write(text if text.endswith("\n") else text + "\n")
        self.out.flush()

    def json(self, document: Any) -> None:
        """Write one JSON document to stdout."""
        self.data(json.dumps(document, indent=2, default=str))

    def note(self, text: str) -> None:
        """A line for the person at the terminal, on stderr (above the live view, if one
        shows)."""
        if self.overlay is not None:
            self.overlay.above(text)
            return
        self.err.write(text + "\n")
        self.err.flush()

    def pause(self) -> None:
        """Clear the live view, if one shows, before a prompt."""
        if self.overlay is not None:
            self.overlay.pause()

    def finish(self, ok: bool) -> None:
        """End the live view, if one shows, leaving its summary (before the command's errors;
        ``ok``: the command did not fail)."""
        if self.overlay is not None:
            self.overlay.close(ok)

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
