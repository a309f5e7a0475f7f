"""What ``dockyard build`` tells the user when the build fails or never runs: the exit code,
the stopped reason and the last log lines (fakes behind the command's wiring, because moto
always exits 0)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dockyard.builds.builder import BuildClients, Builder
from dockyard.builds.runner import BuildEnvironment
from dockyard.builds.sources import Source
from dockyard.cli import main
from dockyard.cli.wiring import Wiring
from tests.conftest import example_text
from tests.fakes import FakeClock, FakeEcs, FakeLogs, TaskScript

ENV = BuildEnvironment(cluster="arn:aws:ecs:ap-southeast-2:123456789012:cluster/acme",
                       subnets=["subnet-a"], security_group="sg-1", assign_public_ip=True,
                       task_definitions={"amd64": "kaniko-amd64:1"}, bucket="ctx",
                       log_group="/dockyard/acme/builds",
                       registry="123456789012.dkr.ecr.ap-southeast-2.amazonaws.com",
                       project="acme")


class Digests:
    def __init__(self) -> None:
        self.store: dict[str, str] = {}

    def presign_put(self, bucket: str, key: str, seconds: int) -> str:
        return f"https://{bucket}.s3.example/{key}?sig=1"

    def read_text(self, bucket: str, key: str) -> str | None:
        return self.store.get(key)

    def write_text(self, bucket: str, key: str, text: str) -> None:
        self.store[key] = text  # a build record (dockyard.builds.reuse)


class Registry:
    def repository_exists(self, name: str) -> bool:
        return True

    def digest_of(self, repository: str, tag: str) -> str | None:
        return "sha256:" + "ab" * 32

    def manifest(self, repository: str, digest: str) -> tuple[str, str]:
        raise AssertionError("single-arch builds push no index")

    def put_manifest(self, repository: str, manifest: str, media_type: str, tag: str) -> str:
        raise AssertionError("single-arch builds push no index")


@pytest.fixture()
def scripted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[TaskScript]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dockyard.yml").write_text(example_text())  # a project, not the example
    scripts: list[TaskScript] = []
    logs = FakeLogs()
    clients = BuildClients(stacks=None, tasks=FakeEcs(logs, scripts), logs=logs,  # type: ignore[arg-type]
                           objects=Digests(), registry=Registry())  # type: ignore[arg-type]
    # The fakes go in where the command's wiring makes its clients; the builder stack's
    # outputs and the upload are stood in for.
    monkeypatch.setattr(Wiring, "build_clients", clients)
    monkeypatch.setattr(Wiring, "clock", FakeClock())
    monkeypatch.setattr(Builder, "env", ENV)
    monkeypatch.setattr(Builder, "source", lambda self, context, request: Source(
        kind="local", description=context, context="s3://ctx/contexts/x.tar.gz"))
    return scripts


def test_success_prints_only_the_reference(scripted: list[TaskScript],
                                           capsys: pytest.CaptureFixture[str]) -> None:
    scripted.append(TaskScript())
    assert main(["build", "--repo", "web", "."]) == 0
    out = capsys.readouterr().out
    assert out == f"{ENV.registry}/acme/web@sha256:{'ab' * 32}\n"


def test_a_failed_build_exits_1_naming_kanikos_code_and_shows_the_last_lines(
        scripted: list[TaskScript], capsys: pytest.CaptureFixture[str]) -> None:
    # kaniko exits with the failed RUN step's code: 2 would read as dockyard's usage error.
    scripted.append(TaskScript(exit_code=2, lines=["INFO RUN make", "make: *** [all] Error 2"],
                               late_lines=["error building image: exit status 2"]))
    code = main(["build", "--repo", "web", "."])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    tail = captured.err.split("last log lines:")[1]
    assert "  make: *** [all] Error 2" in tail
    assert "  error building image: exit status 2" in tail
    assert "error: the build failed: amd64: build failed (kaniko exited 2; Essential " \
           "container in task exited)" in captured.err


def test_json_keeps_kanikos_own_code_apart_from_dockyards(
        scripted: list[TaskScript], capsys: pytest.CaptureFixture[str]) -> None:
    scripted.append(TaskScript(exit_code=3, late_lines=["error building image: exit status 3"]))
    assert main(["build", "--repo", "web", "-o", "json", "."]) == 1
    document = json.loads(capsys.readouterr().out)
    assert (document["ok"], document["exit_code"]) == (False, 1)
    assert [(t["status"], t["exit_code"]) for t in document["tasks"]] == [("build failed", 3)]


def test_a_task_that_never_ran_is_exit_70_with_the_stopped_reason(
        scripted: list[TaskScript], capsys: pytest.CaptureFixture[str]) -> None:
    scripted.append(TaskScript(statuses=["PENDING", "STOPPED"], lines=[], late_lines=[],
                               exit_code=None, stop_code="TaskFailedToStart",
                               stopped_reason="ResourceInitializationError: unable to pull "
                                              "secrets or registry auth"))
    code = main(["build", "--repo", "web", "."])
    captured = capsys.readouterr()
    assert code == 70
    assert "error: the build task did not run: amd64: failed to start " \
           "(ResourceInitializationError: unable to pull secrets" in captured.err


def test_spot_interrupted_twice_is_exit_71(scripted: list[TaskScript],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    scripted += [TaskScript(exit_code=143, stop_code="SpotInterruption"),
                 TaskScript(exit_code=143, stop_code="SpotInterruption")]
    assert main(["build", "--repo", "web", "--spot", "."]) == 71
    assert "Spot took the task back" in capsys.readouterr().err


def test_build_args_past_runtasks_limit_are_a_usage_error_before_any_task(
        scripted: list[TaskScript], capsys: pytest.CaptureFixture[str]) -> None:
    scripted.append(TaskScript())
    code = main(["build", "--repo", "web", "--build-arg", "NOTES=" + "x" * 8000, "."])
    assert code == 2
    assert "error: the kaniko task of amd64: RunTask takes at most 8,192 characters of " \
           "overrides" in capsys.readouterr().err
    assert len(scripted) == 1, "no task was started"


def test_bad_options_are_usage_errors(scripted: list[TaskScript],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "."]) == 2
    assert "--repo is required" in capsys.readouterr().err
    assert main(["build", "--repo", "web", "--cpu", "256", "--memory", "8192", "."]) == 2
    assert "does not go with cpu 256" in capsys.readouterr().err
    assert main(["build", "--repo", "web", "--timeout", "soon", "."]) == 2
    assert "--timeout 'soon'" in capsys.readouterr().err
    assert scripted == [], "nothing was started"
