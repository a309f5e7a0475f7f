"""Golden files: every change to a rendered template shows up in review.

After an intended change, regenerate them and read the diff:
    DOCKYARD_UPDATE_GOLDEN=1 .venv/bin/pytest tests/templates/test_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockyard.templates import render_stacks
from tests.conftest import VARIANTS, example_config

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_templates_match_their_golden_files(variant: str) -> None:
    folder = GOLDEN / variant
    stacks = render_stacks(example_config(*VARIANTS[variant]))
    rendered = {f"{s.name}.json": s.to_json() for s in stacks}
    if os.environ.get("DOCKYARD_UPDATE_GOLDEN"):
        folder.mkdir(parents=True, exist_ok=True)
        for stale in set(p.name for p in folder.glob("*.json")) - set(rendered):
            (folder / stale).unlink()
        for name, text in rendered.items():
            (folder / name).write_text(text, encoding="utf-8")
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.json")}
    assert sorted(on_disk) == sorted(rendered), "stacks were added or removed"
    for name, text in rendered.items():
        assert text == on_disk[name], (
            f"{variant}/{name} differs from its golden file; if the change is intended, run "
            "DOCKYARD_UPDATE_GOLDEN=1 pytest tests/templates/test_golden.py and review the diff")
