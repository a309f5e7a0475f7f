"""The end-to-end scenarios against a real AWS account (skipped unless DOCKYARD_LIVE=1).

    DOCKYARD_LIVE=1 AWS_PROFILE=sandbox DOCKYARD_LIVE_DOMAIN=sandbox.example.net \\
        .venv/bin/pytest tests/live -x

Needs credentials for an account you may throw things into (administrator), a public Route 53
hosted zone for DOCKYARD_LIVE_DOMAIN in that account, a default VPC in DOCKYARD_LIVE_REGION
(default us-east-1), and about 45 minutes. Everything is created under a throwaway name
(``dy-`` and six random characters) and deleted with ``down --purge`` at the end of the session,
also when a test fails or the run is interrupted with Ctrl-C; the config used is printed first,
so a run killed outright can be finished with ``dockyard down --purge --config <it>``. A run
costs about USD 1 (load balancer and Fargate hours, a few builds).
"""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

LIVE = os.environ.get("DOCKYARD_LIVE") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason="runs against a real AWS account: set DOCKYARD_LIVE=1 "
                                   "(see tests/live/conftest.py)")
    for item in items:
        if "live" in item.keywords and not LIVE:
            item.add_marker(skip)


@dataclass
class LivePlatform:
    """A throwaway platform in a real account, and the CLI run against it."""

    name: str
    region: str
    domain: str
    folder: Path
    suffix: str
    up: subprocess.CompletedProcess[str] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def config(self) -> Path:
        return self.folder / "dockyard.yml"

    def url(self, host: str) -> str:
        return f"https://{host}-{self.suffix}.{self.domain}/"

    def run(self, *args: str, timeout: float = 3600) -> subprocess.CompletedProcess[str]:
        """The real CLI, with this platform's config and the caller's AWS credentials."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKYARD_")}
        return subprocess.run([sys.executable, "-m", "dockyard", *args, "--config",
                               str(self.config)], cwd=self.folder, env=env,
                              capture_output=True, text=True, timeout=timeout, check=False)

    def client(self, service: str) -> object:
        import boto3

        return boto3.Session(region_name=self.region).client(service)


def _config(name: str, suffix: str, region: str, domain: str) -> str:
    return f"""# dockyard live test platform (throwaway)
name: {name}
region: {region}
network:
  mode: default-vpc
edge:
  domain: {domain}
  certificate: auto
  allowed_cidrs: [0.0.0.0/0]
jenkins:
  host: ci-{suffix}
builder:
  spot: false
  architectures: [amd64]
  timeout_minutes: 30
apps:
  web:
    port: 5001
    host: web-{suffix}
    count: 1
    health_check: /healthz
    env:
      GREETING: Hello from the dockyard live test
  canary:
    port: 5001
    host: canary-{suffix}
    count: 1
    health_check: /healthz
    deploy:
      strategy: canary
      canary_percent: 10
      canary_bake_minutes: 2
      bake_minutes: 1
"""


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePlatform]:
    """``dockyard up`` of a throwaway platform; ``down --purge`` afterwards, whatever happens."""
    domain = os.environ.get("DOCKYARD_LIVE_DOMAIN", "")
    if not domain:
        pytest.fail("DOCKYARD_LIVE_DOMAIN must name a Route 53 public hosted zone in the account")
    region = os.environ.get("DOCKYARD_LIVE_REGION") or os.environ.get("AWS_REGION") or \
        "us-east-1"
    suffix = "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(6))
    platform = LivePlatform(name=f"dy-{suffix}", region=region, domain=domain,
                            folder=tmp_path_factory.mktemp("live"), suffix=suffix)
    platform.config.write_text(_config(platform.name, suffix, region, domain))
    print(f"\ndockyard live platform {platform.name} in {region}: config {platform.config}",
          file=sys.stderr)
    try:
        platform.up = platform.run("up", "--yes", "--no-wait-jenkins")
        yield platform
    finally:
        _teardown(platform)


def _teardown(platform: LivePlatform) -> None:
    """Delete everything, data included; try twice, then say what is left."""
    for _ in range(2):
        done = platform.run("down", "--yes", "--purge", "--yes-really-purge")
        if done.returncode == 0:
            break
        print(f"dockyard down failed ({done.returncode}): {done.stderr[-2000:]}",
              file=sys.stderr)
    cloudformation: Any = platform.client("cloudformation")
    left = [s["StackName"] for page in cloudformation.get_paginator("describe_stacks").paginate()
            for s in page["Stacks"] if {"Key": "dockyard:name", "Value": platform.name}
            in s.get("Tags", [])]
    if left:
        print(f"left behind in {platform.region}: {', '.join(left)}; run: dockyard down "
              f"--purge --config {platform.config}", file=sys.stderr)
