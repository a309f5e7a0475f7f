"""Platform wiring: what the preflight looks up, and how kept data is adopted."""

from __future__ import annotations

import pytest

from dockyard.aws.retained import FileSystem, Repository
from dockyard.errors import DockyardError
from dockyard.stacks.engine import Engine
from dockyard.stacks.platform import Platform, discover
from dockyard.templates import Retained
from dockyard.ui.progress import PlainReporter
from tests.conftest import VARIANTS, example_config
from tests.fakes import FakeAccount, FakeClock, FakeCloudFormation, FakeRetained, text_console


def platform(variant: str, retained: FakeRetained | None = None) -> Platform:
    console, _, _ = text_console()
    return Platform(cfg=example_config(*VARIANTS[variant]),
                    engine=Engine(FakeCloudFormation(), FakeClock(), PlainReporter(console)),
                    account=FakeAccount(), retained=retained or FakeRetained())


def test_preflight_looks_up_only_what_the_config_needs() -> None:
    facts = discover(platform("example"))
    assert facts == {"default-vpc-id": "vpc-1", "default-vpc-subnets": "subnet-a,subnet-b",
                     "hosted-zone-id": "Z123"}
    facts = discover(platform("existing-private"))
    assert "default-vpc-id" not in facts
    assert facts["secret-arn:acme/dockerhub"].startswith("arn:aws:secretsmanager:")


def test_kept_repositories_and_jenkins_home_are_adopted() -> None:
    kept = FakeRetained(
        kept_file_systems=[FileSystem("fs-1234abcd", "arn:fs", "acme-jenkins-home", 10, 0)],
        kept_repositories=[Repository("acme/web", "arn:repo", 3)])
    p = platform("example", kept)
    assert p.kept(Retained("repository", "acme/web")) == "yes"
    assert p.kept(Retained("repository", "acme/web-cache")) == "no"
    assert p.kept(Retained("file-system", "jenkins-home")) == "fs-1234abcd"


def test_two_kept_jenkins_homes_need_a_choice() -> None:
    homes = [FileSystem(f"fs-{n}", "arn", "acme-jenkins-home", 1, 0) for n in ("a1", "b2")]
    p = platform("example", FakeRetained(kept_file_systems=homes))
    with pytest.raises(DockyardError, match="several kept JENKINS_HOME file systems") as caught:
        p.kept(Retained("file-system", "jenkins-home"))
    assert "jenkins.file_system_id" in (caught.value.hint or "")
