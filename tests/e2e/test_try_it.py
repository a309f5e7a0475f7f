"""The README's "Try it without an AWS account", run as written, for a project named ``shop``.

The commands come from the README itself (its three shell blocks under that heading), so the
README cannot drift from what works: ``dockyard init --name shop``, the emulator serving that
config, then every command of the second shell with the exit code the README promises.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from devtools.moto_server import announced

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
EXAMPLE_APP = ROOT / "examples" / "web"
BIN = Path(sys.executable).parent


def try_it_blocks() -> list[list[str]]:
    """The shell blocks of the README's "Try it" section, as lists of lines."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Try it without an AWS account", 1)[1].split("\n## ", 1)[0]
    return [block.strip().splitlines()
            for block in re.findall(r"```sh\n(.*?)```", section, re.DOTALL)]


def local(line: str, folder: Path) -> str:
    """A README line pointed at this checkout's interpreter and the test's folder."""
    return line.replace(".venv/bin/", f"{BIN}/").replace("/tmp/try", str(folder))


def clean_env(folder: Path) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("AWS_", "DOCKYARD_")) and
                   k.lower() not in ("https_proxy", "http_proxy", "no_proxy")}
    environment.update(AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                       XDG_CACHE_HOME=str(folder / "cache"),
                       PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return environment


@pytest.fixture()
def emulator(tmp_path: Path) -> Iterator[tuple[dict[str, str], str]]:
    """The first block run as written (``init``, then the emulator on a free port): the
    environment it tells the second shell to export, and everything it printed."""
    setup, _, _ = try_it_blocks()
    environment = clean_env(tmp_path)
    init = next(line for line in setup if " init " in line)
    done = subprocess.run(shlex.split(local(init, tmp_path)), env=environment, cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    serve = next(line for line in setup if "devtools.moto_server" in line)
    server = subprocess.Popen([*shlex.split(local(serve, tmp_path)), "--port", "0"],
                              env=environment, cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    assert server.stdout is not None
    printed, exported = announced(server.stdout)
    exports = {name: value.replace("$PATH", environment["PATH"])
               for name, value in exported.items()}
    try:
        yield {**environment, **exports}, printed
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_readmes_try_it_path_works_for_a_project_named_shop(
        emulator: tuple[dict[str, str], str], tmp_path: Path) -> None:
    environment, printed = emulator
    assert "region us-west-2, project shop" in printed, printed
    assert f"cd {tmp_path}" in printed  # the folder of the config it serves
    _, exports, commands = try_it_blocks()
    assert {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "DOCKYARD_EMULATOR_TIME_FACTOR"} <= {
        name for line in exports for name in re.findall(r"(\w+)=", line)}
    script = []
    for line in commands:
        command = line.replace("/path/to/a/folder/with/a/Dockerfile", str(EXAMPLE_APP)) \
            .replace("/same/folder", str(EXAMPLE_APP))
        script += [command, 'echo "::rc $?::"']
    done = subprocess.run(["bash", "-c", "\n".join(script)], cwd=tmp_path, env=environment,
                          capture_output=True, text=True, timeout=600, check=False)
    codes = [int(code) for code in re.findall(r"::rc (\d+)::", done.stdout)]
    promised = [int(m.group(1)) if (m := re.search(r"\(exit (\d+)\)", line)) else 0
                for line in commands]
    assert codes == promised, done.stdout + done.stderr
    assert "shop-app-web" in done.stderr and "acme" not in done.stdout + done.stderr
    assert ".dkr.ecr.us-west-2.amazonaws.com/shop/web@sha256:" in done.stdout
    assert "Nothing would change." in done.stdout
