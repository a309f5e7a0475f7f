"""The strict emulated account for the session, and the real ``dockyard`` CLI run against it.

The CLI reaches the account as it reaches AWS: by AWS's host names, over TLS, through the
emulated network (devtools/strict), as the administrator who runs ``up`` or as the Jenkins
role a pipeline build's id token is exchanged for. Tests set up and inspect
the account through the inspector endpoint, which the strict rules do not touch.
"""

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
from devtools.ecs import CLOCK, FACTOR_ENV
from devtools.fake_kaniko import FakeKaniko
from devtools.jenkins_oidc import JenkinsIssuer
from devtools.strict.account import StrictAccount

REGION = "ap-southeast-2"
ACCOUNT = "123456789012"
# ECS's time runs this many times faster than the wall's, in the emulator and in the CLI it
# hands DOCKYARD_EMULATOR_TIME_FACTOR to (devtools/ecs/clock.py): a 10-minute canary bake takes
# 20 s. Not faster: a call through the emulated network takes up to a few tenths of a second
# of wall time on a loaded machine, and the CLI's shortest patience (120 s for a new task to
# show, ECS API Reference, "Eventual consistency") must still span several calls.
TIME_FACTOR = 30.0


@dataclass
class Account:
    """The emulated account: the strict world, a boto3 factory that looks at it, and the
    certificate it holds."""

    emulator: StrictAccount
    certificate: str = ""
    kaniko: FakeKaniko | None = None
    cache_home: Path = Path("/nonexistent")  # XDG_CACHE_HOME of the CLI processes
    _issuer: JenkinsIssuer | None = None

    @property
    def endpoint(self) -> str:
        """Plain moto on the account's backends (for looking, not for the CLI)."""
        return self.emulator.inspector

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=self.endpoint,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def output(self, stack: str, key: str) -> str:
        """An output of a deployed stack."""
        raw = self.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
        return str(next(o["OutputValue"] for o in raw.get("Outputs", [])
                        if o["OutputKey"] == key))

    def pipeline_role(self, app: str | None = "web") -> str:
        """The role a trusted build of ``app`` (or, with None, an untrusted build) assumes."""
        name = f"acme-pipeline-{app or 'untrusted'}"
        return f"arn:aws:iam::{ACCOUNT}:role/{name}"

    def issuer(self, config: str) -> JenkinsIssuer:
        """Jenkins' OIDC issuer for the platform ``config`` (dockyard.yml's text), on the
        internet where AWS STS reaches it, as the controller serves it."""
        from dockyard.config import parse_config

        if self._issuer is None:
            self._issuer = JenkinsIssuer(parse_config(config, "dockyard.yml"))
            self.emulator.publish(self._issuer)
        return self._issuer

    def pipeline_env(self, build: str, config: str, extra: dict[str, str] | None = None, *,
                     token: str | None = None) -> dict[str, str]:
        """What a pipeline step runs dockyard with on a Jenkins agent: no AWS credentials at
        all, the build's id token (``build``: ``web/main``, ``web/PR-12``, as Jenkins names the
        build's job) as the library binds it, and the account the agent's task definition
        names."""
        job, _, branch_job = build.partition("/")
        issuer = self.issuer(config)
        if token is None:
            number = int(branch_job[3:]) if branch_job.startswith("PR-") else None
            token = issuer.token(job, branch_job.replace("%2F", "/") if number is None
                                 else None, pull_request=number)
        environment = {k: v for k, v in self.cli_env(extra).items()
                       if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
        environment.update(DOCKYARD_ID_TOKEN=token, DOCKYARD_ACCOUNT_ID=ACCOUNT)
        return environment

    def cli_env(self, extra: dict[str, str] | None = None, *, role: str | None = None,
                seconds: int | None = None) -> dict[str, str]:
        """The environment of a dockyard process in this account, and nothing else: as the
        administrator, or with ``role``'s credentials from the container credentials
        endpoint (sessions of ``seconds``)."""
        environment = {k: v for k, v in os.environ.items()
                       if not k.startswith(("AWS_", "DOCKYARD_")) and
                       k.lower() not in ("https_proxy", "http_proxy", "no_proxy")}
        environment.update(self.emulator.env(role, seconds))
        environment["AWS_CONFIG_FILE"] = environment["AWS_SHARED_CREDENTIALS_FILE"] = "/dev/null"
        environment["XDG_CACHE_HOME"] = str(self.cache_home)  # not the user's context cache
        environment[FACTOR_ENV] = f"{CLOCK.factor:g}"  # the CLI keeps the emulator's time
        environment.update(extra or {})
        return environment


@pytest.fixture()
def account(strict: StrictAccount, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Account]:
    """A fresh strict account per test, given a hosted zone, a certificate and the GitHub
    secret; kaniko's part is played for every build task (Jenkins' images are built during
    ``up``)."""
    moto_server.task_steps(1)
    CLOCK.set_factor(TIME_FACTOR)
    kaniko = FakeKaniko(strict).start()
    yield Account(strict, moto_server.seed(strict.inspector, REGION), kaniko,
                  tmp_path_factory.mktemp("cache"))
    kaniko.stop()


Dockyard = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture()
def dockyard(account: Account, tmp_path: Path) -> Dockyard:
    """Run the real CLI in ``tmp_path`` (holding the example config) against the account: as
    the operator, or with ``build="web/main"`` as a pipeline step of that Jenkins build runs it
    (its id token, no credentials of its own)."""
    config = moto_server.example_config(account.certificate)
    (tmp_path / "dockyard.yml").write_text(config)

    def run(*args: str, env: dict[str, str] | None = None, stdin: str | None = None,
            build: str | None = None) -> subprocess.CompletedProcess[str]:
        environment = account.pipeline_env(build, config, env) if build else \
            account.cli_env(env)
        return subprocess.run([sys.executable, "-m", "dockyard", *args], cwd=tmp_path,
                              env=environment, input=stdin, capture_output=True, text=True,
                              timeout=300, check=False)

    return run
