"""Questions to the person at the terminal: asked on stderr, answered on stdin.

click's prompts turn the end of input into the same Abort as Ctrl-C; here the end of input is
"no answer" (exit 2: a script piped nothing to a question it should not be asked), a "no" is
a decline (exit 1), and only Ctrl-C is a cancellation (130).
"""

from __future__ import annotations

import sys
from typing import TextIO

from dockyard.errors import Declined, UsageError
from dockyard.ui.console import Console

YES = ("y", "yes")
NO = ("", "n", "no")


def ask(console: Console, question: str, stdin: TextIO | None = None) -> bool:
    """Whether the answer to ``question`` is yes (the default is no)."""
    while True:
        answer = _answer(console, f"{question} [y/N]: ", stdin).lower()
        if answer in YES or answer in NO:
            return answer in YES
        console.note("please answer y or n")


def ask_or_decline(console: Console, question: str, declined: str) -> None:
    """Ask ``question``; a no raises :class:`Declined` with ``declined`` (what was left as it
    was)."""
    if not ask(console, question):
        raise Declined(declined)


def type_to_confirm(console: Console, question: str, expected: str) -> None:
    """Ask the person to type ``expected`` (a project's name before data is deleted)."""
    if _answer(console, f"{question}: ") != expected:
        raise Declined("nothing deleted: the name did not match")


def _answer(console: Console, prompt: str, stdin: TextIO | None = None) -> str:
    console.pause()  # the live view steps aside while the question waits
    console.err.write(prompt)
    console.err.flush()
    line = (stdin or sys.stdin).readline()
    if not line:  # end of input: nobody answered
        console.err.write("\n")
        raise UsageError("no answer: the input ended at the prompt",
                         hint="answer at a terminal, or pass --yes in scripts")
    return line.strip()
