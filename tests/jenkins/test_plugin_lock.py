"""The controller's plugin lock (jenkins/controller/plugins.lock): every plugin pinned, its
dependencies inside the lock, its required core met by the pinned Jenkins; and the image
build's verdict on what jenkins-plugin-cli resolves (install-plugins.sh --verdict), run on
recorded outputs: exactly the lock passes; a plugin added or raised, or any security warning,
fails the build with the lines that say why."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pytest

CONTROLLER = resources.files("dockyard.jenkins").joinpath("controller")
INSTALLER = Path(str(CONTROLLER.joinpath("install-plugins.sh")))


@dataclass(frozen=True)
class Locked:
    name: str
    version: str
    core: str
    needs: tuple[str, ...]
    needed_by: tuple[str, ...]


def lock() -> dict[str, Locked]:
    text = CONTROLLER.joinpath("plugins.lock").read_text()
    found = {}
    pattern = re.compile(r"^# (?P<name>[\w-]+): requires Jenkins (?P<core>[\d.]+); .+\n"
                         r"#   needs: (?P<needs>.*); needed by: (?P<by>.*)\n"
                         r"(?P=name):(?P<version>\S+)$", re.MULTILINE)
    for m in pattern.finditer(text):
        found[m["name"]] = Locked(m["name"], m["version"], m["core"], _listed(m["needs"]),
                                  _listed(m["by"]))
    entries = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert len(entries) == len(found), "every entry carries its required core and needs"
    return found


def _listed(value: str) -> tuple[str, ...]:
    return tuple(v for v in value.split(", ") if v not in ("-", "(top level)"))


def top_level() -> dict[str, str]:
    lines = CONTROLLER.joinpath("plugins.txt").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if line.strip() and not line.startswith("#"))


def jenkins_version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def pinned_core() -> str:
    dockerfile = CONTROLLER.joinpath("Dockerfile").read_text()
    found = re.search(r"^FROM jenkins/jenkins:(\d+\.\d+\.\d+)-jdk21$", dockerfile, re.MULTILINE)
    assert found, "the controller pins an LTS release (x.y.z)"
    return found.group(1)


def test_the_pinned_core_is_an_lts_release_of_the_lines_the_lock_was_made_for() -> None:
    assert pinned_core() == "2.568.2"
    assert "for Jenkins 2.568.2" in CONTROLLER.joinpath("plugins.lock").read_text()


def test_every_plugins_required_core_is_met_by_the_pinned_core() -> None:
    core = jenkins_version(pinned_core())
    too_new = {p.name: p.core for p in lock().values() if jenkins_version(p.core) > core}
    assert not too_new, f"these need a newer Jenkins than {pinned_core()}: {too_new}"


def test_the_lock_holds_the_chosen_plugins_at_their_versions_and_nothing_unused() -> None:
    locked, chosen = lock(), top_level()
    assert {name: locked[name].version for name in chosen} == chosen
    for plugin in locked.values():
        assert set(plugin.needs) <= set(locked), f"{plugin.name} needs what is not locked"
        for needed in plugin.needs:
            assert plugin.name in locked[needed].needed_by
        if plugin.name not in chosen:
            assert plugin.needed_by, f"{plugin.name} is locked but nothing needs it"
    assert "amazon-ecs" not in locked, "the stale ECS plugin stays out"
    assert len(locked) > len(chosen), "transitive plugins are pinned too"


def test_the_lock_is_a_plugin_file_jenkins_plugin_cli_reads() -> None:
    for line in CONTROLLER.joinpath("plugins.lock").read_text().splitlines():
        assert not line or line.startswith("#") or re.fullmatch(r"[a-z0-9][\w.-]*:[\w.-]+", line), \
            line


def _verdict(tmp_path: Path, resolved: list[str], log: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "resolved").write_text("\n".join(resolved) + "\n")
    (tmp_path / "log").write_text(log)
    lock_file = Path(str(CONTROLLER.joinpath("plugins.lock")))
    return subprocess.run(["bash", str(INSTALLER), "--verdict", str(tmp_path / "resolved"),
                           str(tmp_path / "log"), str(lock_file)],
                          capture_output=True, text=True, timeout=30, check=False)


LOG = "Reading in plugins from /usr/share/jenkins/ref/plugins.lock\n\nDone\n"


def _as_locked() -> list[str]:
    return [f"{p.name}:{p.version}" for p in lock().values()]


def test_exactly_the_lock_passes(tmp_path: Path) -> None:
    done = _verdict(tmp_path, _as_locked(), LOG)
    assert done.returncode == 0, done.stderr
    assert f"plugin lock: {len(lock())} plugins, exactly as locked, no security warning" \
        in done.stdout


@pytest.mark.parametrize("change", ["added", "raised"])
def test_a_resolved_set_that_differs_from_the_lock_fails(tmp_path: Path, change: str) -> None:
    resolved = _as_locked()
    if change == "added":
        resolved.append("amazon-ecs:1.49")
        expected = ["resolved, not locked: amazon-ecs:1.49"]
    else:
        resolved = [r if not r.startswith("credentials:") else "credentials:9999.v0" for r in
                    resolved]
        old = lock()["credentials"].version
        expected = ["resolved, not locked: credentials:9999.v0",
                    f"locked, not resolved: credentials:{old}"]
    done = _verdict(tmp_path, resolved, LOG)
    assert done.returncode == 1
    for line in expected:
        assert line in done.stderr
    assert "regenerate the lock" in done.stderr


def test_a_security_warning_fails_the_build_and_is_shown(tmp_path: Path) -> None:
    log = (LOG.replace("\nDone", "\nSecurity warnings:\nscript-security (1412.v7737b_3405f86): "
                       "SECURITY-9999 Sandbox bypass https://www.jenkins.io/security/advisory/"
                       "\nDone"))
    done = _verdict(tmp_path, _as_locked(), log)
    assert done.returncode == 1
    assert "refusing plugins with security warnings" in done.stderr
    assert "  script-security (1412.v7737b_3405f86): SECURITY-9999 Sandbox bypass" in done.stderr
