"""What the Jenkins tests share: the stand-ins of the Jenkins API (stubs/), compiled once."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.pipeline.groovy import environment, require

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def stubs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Jenkins stand-ins, compiled (the controller's init scripts run against them)."""
    require()
    out = tmp_path_factory.mktemp("stubs")
    done = subprocess.run(["groovyc", "-d", str(out), *map(str, sorted((HERE / "stubs").glob(
        "*.groovy")))], env=environment(), capture_output=True, text=True, timeout=300,
        check=False)
    assert done.returncode == 0, done.stderr
    return out
