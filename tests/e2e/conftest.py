"""A moto server for the session, and the real ``dockyard`` CLI run against it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from devtools import moto_server
from devtools.fake_kaniko import FakeKaniko

REGION = "ap-southeast-2"


@dataclass
class Account:
    """The emulated account: its endpoint, a boto3 factory, and the certificate it holds."""

    endpoint: str
    certificate: str = ""
    kaniko: FakeKaniko | None = None

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def env(self) -> dict[str, str]:
        return {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true"}

    def cli_env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The environment of a dockyard process pointed at this account, and nothing else."""
        environment = {k: v for k, v in os.environ.items()
                       if not k.startswith(("AWS_", "DOCKYARD_"))}
        environment.update(self.env())
        environment["AWS_CONFIG_FILE"] = environment["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
        environment.update(extra or {})
        return environment


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    server, endpoint = moto_server.start(port=0)
    yield endpoint
    server.stop()


@pytest.fixture()
def account(moto_endpoint: str) -> Iterator[Account]:
    """A fresh account per test: emptied, then given a hosted zone and a certificate; kaniko's
    part is played for every build task (Jenkins' images are built during ``up``)."""
    moto_server.reset(moto_endpoint)
    moto_server.task_steps(1)
    kaniko = FakeKaniko(moto_endpoint).start()
    yield Account(moto_endpoint, moto_server.seed(moto_endpoint, REGION), kaniko)
    kaniko.stop()


Dockyard = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture()
def dockyard(account: Account, tmp_path: Path) -> Dockyard:
    """Run the real CLI in ``tmp_path`` (holding the example config) against the account."""
    (tmp_path / "dockyard.yml").write_text(moto_server.example_config(account.certificate))

    def run(*args: str, env: dict[str, str] | None = None,
            stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "dockyard", *args], cwd=tmp_path,
                              env=account.cli_env(env), input=stdin, capture_output=True, text=True,
                              timeout=300, check=False)

    return run
