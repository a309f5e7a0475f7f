"""Shared fixtures: the bundled example, its variants, rendered templates and a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from dockyard.config import Config, parse_config, starter_text
from dockyard.templates import StackTemplate, render_stacks

REPO = Path(__file__).resolve().parents[1]


def example_text(*replacements: tuple[str, str]) -> str:
    """The bundled example's YAML, with each (old, new) replaced once (old must be present)."""
    text = starter_text()
    for old, new in replacements:
        assert old in text, f"the example no longer contains {old!r}"
        text = text.replace(old, new, 1)
    return text


CERTIFICATE_ARN = ("arn:aws:acm:ap-southeast-2:123456789012:certificate/"
                   "0f0e0d0c-0b0a-0908-0706-050403020100")

# The bundled example and two variants that exercise the other branches of the templates:
# a created network with a given certificate, and an existing VPC with private subnets,
# multi-arch builds, all-immutable tags and an explicit Jenkins image.
VARIANTS: dict[str, tuple[tuple[str, str], ...]] = {
    "example": (),
    "create-network": (
        ("mode: default-vpc", "mode: create\n  cidr: 10.20.0.0/16"),
        ("certificate: auto", f"certificate: {CERTIFICATE_ARN}"),
    ),
    "existing-private": (
        ("mode: default-vpc", "mode: existing\n  vpc_id: vpc-0123456789abcdef0\n"
                              "  subnets: [subnet-0aaaaaaaaaaaaaaaa, subnet-0bbbbbbbbbbbbbbbb]\n"
                              "  private_subnets: [subnet-0cccccccccccccccc, "
                              "subnet-0dddddddddddddddd]"),
        ("architectures: [amd64]", "architectures: [amd64, arm64]\n  mutable_tags: []\n"
                                   "  registry_auth_secret: acme/dockerhub"),
        ("  host: jenkins\n", "  host: ci\n  image: 123456789012.dkr.ecr.ap-southeast-2."
                              "amazonaws.com/ops/jenkins@sha256:" + "a" * 64 + "\n"),
        ("secrets: {}", "secrets: {DATABASE_URL: acme/web/database}"),
        ("    - 0.0.0.0/0", "    - 203.0.113.0/24"),
        ("strategy: rolling", "strategy: canary\n      smoke_test: curl -fsS -H "
                              "\"$DOCKYARD_TEST_HEADER\" $DOCKYARD_TEST_URL/healthz"),
        ("    count: 1\n    health_check", "    scale: {min: 2, max: 8, cpu_percent: 60, "
         "memory_percent: 75, requests_per_target: 1200, response_time_ms: 300}\n"
         "    health_check"),
    ),
}


# The example with people signing in to Jenkins with GitHub (jenkins.sign_in.github).
GITHUB_SIGN_IN = ("\n  github:\n", "\n  sign_in:\n    github:\n      client_id: Ov23liExample\n"
                  "      client_secret: acme/jenkins-oauth\n"
                  "      admins: [example-org*platform]\n"
                  "      developers: [example-org*web-developers]\n  github:\n")


def example_config(*replacements: tuple[str, str]) -> Config:
    """The bundled example, optionally changed, validated."""
    return parse_config(example_text(*replacements), "dockyard.yml")


def bodies(cfg: Config) -> dict[str, dict[str, Any]]:
    """Rendered templates of ``cfg`` by stack key."""
    return {stack.key: stack.to_dict() for stack in render_stacks(cfg)}


@pytest.fixture(scope="session")
def example() -> Config:
    return example_config()


@pytest.fixture(scope="session")
def stacks(example: Config) -> dict[str, StackTemplate]:
    return {stack.key: stack for stack in render_stacks(example)}


@pytest.fixture(scope="session")
def templates(stacks: dict[str, StackTemplate]) -> dict[str, dict[str, Any]]:
    return {key: stack.to_dict() for key, stack in stacks.items()}


@pytest.fixture(scope="session")
def emulator() -> Iterator[Any]:
    """The strict emulated account of this test process (devtools/strict), started once.

    DOCKYARD_STRICT_STALE_READS, DOCKYARD_STRICT_FAULT_RATE and DOCKYARD_STRICT_SEED change
    its profile (2 stale reads, 2% faults and a fixed seed by default), to shake the suite
    harder than CI does.
    """
    from devtools.strict import profile
    from devtools.strict.account import StrictAccount

    settings = profile.Profile()
    settings.stale_reads = int(os.environ.get("DOCKYARD_STRICT_STALE_READS",
                                              settings.stale_reads))
    settings.fault_rate = float(os.environ.get("DOCKYARD_STRICT_FAULT_RATE",
                                               settings.fault_rate))
    settings.seed = int(os.environ.get("DOCKYARD_STRICT_SEED", settings.seed))
    settings.reseed()
    account = StrictAccount(settings).start()
    profile.ACTIVE = None  # strict only while a test uses it (see `strict`)
    yield account
    account.stop()


@pytest.fixture()
def strict(emulator: Any) -> Iterator[Any]:
    """The strict account, emptied, its profile switched on for this test (and restored)."""
    from dataclasses import fields

    from devtools.strict import profile

    saved = {f.name: getattr(emulator.profile, f.name) for f in fields(emulator.profile)
             if f.init}
    emulator.reset()
    profile.ACTIVE = emulator.profile
    yield emulator
    profile.ACTIVE = None
    for name, value in saved.items():
        setattr(emulator.profile, name, value)


CliRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture()
def run_cli(tmp_path: Path) -> CliRunner:
    """Run the real ``dockyard`` CLI in a subprocess, in an empty directory by default."""

    def run(*args: str, cwd: Path | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        environment = {k: v for k, v in os.environ.items()
                       if not k.startswith(("AWS_", "DOCKYARD_"))}
        environment.update(env or {})
        return subprocess.run([sys.executable, "-m", "dockyard", *args], cwd=cwd or tmp_path,
                              env=environment, capture_output=True, text=True, timeout=120,
                              check=False)

    return run


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """The resources of one type in a template, by logical id."""
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``long`` first, then the end-to-end tests, then the rest: xdist hands tests
    out in order, and a minute-long test handed out last keeps one worker busy while the others
    wait. The end-to-end tests mostly wait on the emulated account, so the quick tests that
    need the CPU fill the time they leave."""
    def weight(item: pytest.Item) -> int:
        if item.get_closest_marker("long") is not None:
            return 0
        return 1 if "tests/e2e/" in item.nodeid or "tests/emulator/" in item.nodeid else 2

    items.sort(key=weight)



# The CLI, for a test that sends it SIGINT, with SIGINT's Python handler installed whatever it
# inherits: a shell without job control starts background jobs with SIGINT ignored, children
# inherit that, and Python then installs no KeyboardInterrupt handler (POSIX's intent for
# background jobs); tests started that way would see their Ctrl-C ignored.
INTERRUPTIBLE_DOCKYARD = [
    sys.executable, "-c",
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'dockyard'; runpy.run_module('dockyard', run_name='__main__')"]


def pytest_configure(config: pytest.Config) -> None:
    """The context cache of every build the tests run (in process or in a CLI process) goes
    to a folder of this run, not the user's ~/.cache."""
    import tempfile

    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="dockyard-test-cache-")
