"""The docs' transcripts are what dockyard prints today (devtools/transcripts.py): ``plan``'s
whole, and the walkthrough's from one run of its commands on the emulator (about a minute)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from devtools import transcripts
from devtools.walkthrough import Stable, skeleton

WALKTHROUGH = transcripts.ROOT / "docs" / "walkthrough.md"


@pytest.fixture(scope="module")
def made() -> dict[str, str]:
    """Every transcript the docs hold, each run once."""
    runs: dict[str, str] = {}
    for doc in transcripts.DOCS:
        transcripts.refreshed(doc.read_text(encoding="utf-8"), runs)
    return runs


@pytest.mark.parametrize("doc", transcripts.DOCS, ids=lambda p: p.name)
def test_every_transcript_is_what_its_run_prints(doc: Path, made: dict[str, str]) -> None:
    text = doc.read_text(encoding="utf-8")
    assert transcripts.BLOCK.search(text), "the doc holds at least one transcript"
    assert transcripts.drifted(text, made) == [], (
        f"{doc}: a transcript drifted: run `.venv/bin/python -m devtools.transcripts` and "
        "review the diff")


def test_every_walkthrough_transcript_is_in_the_walkthrough() -> None:
    names = {m["name"] for m in transcripts.BLOCK.finditer(WALKTHROUGH.read_text())}
    assert set(transcripts.WALKTHROUGH) <= names


def test_a_changed_line_is_found(made: dict[str, str]) -> None:
    text = transcripts.DOCS[0].read_text(encoding="utf-8")
    drifted = re.sub(r"acme-app-web +\d+ resources", "acme-app-web   99 resources", text,
                     count=1)
    assert drifted != text
    assert transcripts.refreshed(drifted, dict(made)) == text


@pytest.mark.parametrize(("line", "changed", "found"), [
    ("outcome      unchanged", "outcome      completed", True),   # the result
    ("rolled back from acme-web:2", "rolled back from acme-web:3", True),
    ("(service web) has reached a steady state.", "(service web) has started 9 tasks.", False),
], ids=["result", "sentence", "ECS event"])
def test_a_walkthrough_check_finds_what_every_run_prints_alike(
        made: dict[str, str], line: str, changed: str, found: bool) -> None:
    """What each run prints alike is compared; an ECS event or a stage, which dockyard prints
    as it happens to see them, is not."""
    text = WALKTHROUGH.read_text(encoding="utf-8")
    assert line in text
    edited = text.replace(line, changed, 1)
    assert bool(transcripts.drifted(edited, dict(made))) is found


def test_what_differs_between_runs_is_made_stable_and_the_same_everywhere() -> None:
    stable = Stable()
    first = stable("09:41:07 amd64: started task 5b0c54f4-7080-4d6c-810f-8dc1c19d713d\n"
                   "pushed acme/web@sha256:" + "ab" * 32 + "\nbucket acme-builder-contextbucket"
                   "-pbuvcfk1m04x\n")
    again = stable("registered acme-web:1 (sha256:abababababab) in task 5b0c54f4-7080-4d6c-"
                   "810f-8dc1c19d713d\n")
    assert first.startswith("12:00:00 amd64: started task ")
    task = re.search(r"task (\S+)", first)
    assert task is not None and task[1] != "5b0c54f4-7080-4d6c-810f-8dc1c19d713d"
    assert task[1] in again, "the same id gets the same stand-in wherever it appears"
    digest = re.search(r"sha256:([0-9a-f]{64})", first)
    assert digest is not None and digest[1] != "ab" * 32
    assert f"(sha256:{digest[1][:12]})" in again, "a digest's prefix follows its digest"
    assert "pbuvcfk1m04x" not in first
    assert Stable()(first) != "" and Stable()("task 5b0c54f4-7080-4d6c-810f-8dc1c19d713d") == \
        Stable()("task 00000000-1111-4222-8333-444444444444"), "order decides, not the value"
    assert skeleton("12:00:00 stage SCALE_UP: starting\nkept\n") == "kept\n"
