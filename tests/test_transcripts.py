"""The docs' transcripts are what dockyard prints today (devtools/transcripts.py)."""

from __future__ import annotations

import re

import pytest
from devtools import transcripts


@pytest.mark.parametrize("doc", transcripts.DOCS, ids=lambda p: p.name)
def test_every_transcript_is_what_its_run_prints(doc: object) -> None:
    text = doc.read_text(encoding="utf-8")  # type: ignore[attr-defined]
    assert transcripts.BLOCK.search(text), "the doc holds at least one transcript"
    made: dict[str, str] = {}
    assert transcripts.refreshed(text, made) == text, (
        f"{doc}: a transcript drifted: run `.venv/bin/python -m devtools.transcripts` and "
        "review the diff")


def test_a_changed_line_is_found() -> None:
    text = transcripts.DOCS[0].read_text(encoding="utf-8")
    drifted = re.sub(r"acme-app-web +\d+ resources", "acme-app-web   99 resources", text,
                     count=1)
    assert drifted != text
    assert transcripts.refreshed(drifted, {}) == text
