"""The wheel carries every module and every data file the package reads at run time."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_wheel_has_every_module_and_data_file(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--wheel-dir", str(tmp_path), str(REPO)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("dockyard-*.whl")
    inside = set(zipfile.ZipFile(wheel).namelist())
    source = REPO / "src"
    expected = {p.relative_to(source).as_posix() for p in (source / "dockyard").rglob("*")
                if p.is_file() and "__pycache__" not in p.parts}
    assert expected - inside == set()
