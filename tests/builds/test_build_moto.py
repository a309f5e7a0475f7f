"""A whole build against moto in-process: the real wrappers, moto's task states, a fake kaniko
acting through the AWS APIs, and an overlay for exit codes moto does not model."""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest
from devtools.fake_kaniko import FakeKaniko
from moto import mock_aws
from moto.moto_api import state_manager

from dockyard.aws.cloudformation import CloudFormation
from dockyard.aws.ecs import ContainerState, Ecs, TaskSpec, TaskState
from dockyard.aws.session import AwsSession
from dockyard.aws.storage import Logs, Objects, Registry
from dockyard.builds.builder import environment_from_stack
from dockyard.builds.environment import destination_for, make_request
from dockyard.builds.runner import Build
from dockyard.builds.sources import prepare
from dockyard.builds.task import Runner, Status, StopSignal
from dockyard.config import Config
from tests.aws.test_moto_stacks import REGION, _account_for, _create_all
from tests.fakes import FakeClock, Notes


@pytest.fixture()
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Config]:
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    with warnings.catch_warnings(), mock_aws():
        warnings.simplefilter("ignore")
        state_manager.set_transition("ecs::task", {"progression": "manual", "times": 1})
        cfg, facts = _account_for("existing-private")  # amd64 and arm64 task definitions
        _create_all(cfg, facts)
        yield cfg


class KanikoInTheLoop:
    """ECS whose tasks 'run' kaniko the moment they start; optionally exiting with a code."""

    def __init__(self, ecs: Ecs, log_group: str, exit_code: int = 0) -> None:
        self.ecs = ecs
        self.log_group = log_group
        self.kaniko = FakeKaniko(None, cluster="acme")
        self.exit_code = exit_code
        self.stopped: list[str] = []

    def run_task(self, spec: TaskSpec) -> TaskState:
        task = self.ecs.run_task(spec)
        if self.exit_code == 0:
            self.kaniko.act_on(task.arn)
        else:
            group = self.log_group
            stream = f"build/kaniko/{task.task_id}"
            client = boto3.client("logs", region_name=REGION)
            client.create_log_stream(logGroupName=group, logStreamName=stream)
            now = int(time.time() * 1000)
            client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
                {"timestamp": now, "message": "INFO[0001] RUN npm ci"},
                {"timestamp": now + 1, "message": "error building image: exit status 1"}])
        return task

    def describe(self, cluster: str, arn: str) -> TaskState | None:
        task = self.ecs.describe(cluster, arn)
        if task is not None and task.stopped and self.exit_code:
            return replace(task, containers=[ContainerState("kaniko", self.exit_code, "")])
        return task

    def started_by(self, cluster: str, started_by: str) -> list[str]:
        return self.ecs.started_by(cluster, started_by)

    def stop(self, cluster: str, arn: str, reason: str) -> None:
        self.stopped.append(reason)
        self.ecs.stop(cluster, arn, reason)


def make_build(cfg: Config, context: str, *, platforms: str | None = None,
               exit_code: int = 0) -> tuple[Build, Any, list[str]]:
    aws = AwsSession(boto3.Session(region_name=REGION), REGION)
    environment = environment_from_stack(CloudFormation(aws.client("cloudformation")), cfg,
                                         "web")
    request = make_request(cfg, {"tags": ("v1",) if not platforms else (),
                                 "platforms": platforms}, list(environment.task_definitions))
    destination = destination_for(cfg, "web", environment.registry, "web")
    tasks = KanikoInTheLoop(Ecs(aws.client("ecs")), environment.log_group, exit_code)
    lines = Notes()
    runner = Runner(tasks=tasks, logs=Logs(aws.client("logs")), clock=FakeClock(),
                    log_group=environment.log_group, container="kaniko", stop=StopSignal(),
                    progress=lines)
    objects = Objects(aws.client("s3"))
    source = prepare(context, "Dockerfile", objects, bucket=environment.bucket,
                     prefix=environment.context_prefix, url_seconds=3600, progress=Notes())
    return (Build(env=environment, request=request, destination=destination, runner=runner,
                  digests=objects, registry=Registry(aws.client("ecr"))), source, lines.lines)


@pytest.fixture()
def context(tmp_path: Any) -> str:
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . /app\n")
    (tmp_path / "app.py").write_text("print('hello')\n")
    return str(tmp_path)


def test_a_build_returns_the_digest_ecr_holds(account: Config, context: str) -> None:
    build, source, lines = make_build(account, context)
    result = build.run("b1", source, 0.0)
    assert result.exit_code == 0, result.error
    ecr = boto3.client("ecr", region_name=REGION)
    details = ecr.describe_images(repositoryName="acme/web",
                                  imageIds=[{"imageTag": "build-b1"}])["imageDetails"][0]
    assert result.digest == details["imageDigest"]
    assert result.ref == f"{build.destination.uri}@{details['imageDigest']}"
    tagged = ecr.describe_images(repositoryName="acme/web", imageIds=[{"imageTag": "v1"}])
    assert tagged["imageDetails"][0]["imageDigest"] == result.digest
    assert any(line.startswith("INFO[0010] Pushed") for line in lines)
    (outcome,) = result.outcomes
    assert outcome.capacity == "FARGATE_SPOT"  # builder.spot defaults to true
    assert result.cost_usd > 0


def test_the_uploaded_context_is_reused(account: Config, context: str) -> None:
    _, first, _ = make_build(account, context)
    _, second, _ = make_build(account, context)
    assert first.context == second.context
    assert first.uploaded_bytes > 0 and second.uploaded_bytes == 0


def test_a_failed_build_exits_with_kanikos_code_and_no_digest(account: Config,
                                                             context: str) -> None:
    build, source, lines = make_build(account, context, exit_code=1)
    result = build.run("b2", source, 0.0)
    assert result.exit_code == 1
    assert result.digest is None and result.ref is None
    (outcome,) = result.outcomes
    assert outcome.status == Status.BUILD_FAILED
    assert outcome.last_lines[-1] == "error building image: exit status 1"
    assert lines == ["INFO[0001] RUN npm ci", "error building image: exit status 1"]


def test_multi_arch_runs_one_task_each_and_pushes_an_index(account: Config,
                                                           context: str) -> None:
    build, source, _ = make_build(account, context, platforms="linux/amd64,linux/arm64")
    result = build.run("b3", source, 0.0)
    assert result.exit_code == 0, result.error
    assert [p.platform for p in result.platforms] == ["linux/amd64", "linux/arm64"]
    started = {o.arch for o in result.outcomes}
    assert started == {"amd64", "arm64"}
    ecr = boto3.client("ecr", region_name=REGION)
    index = ecr.batch_get_image(repositoryName="acme/web", imageIds=[{"imageTag": "build-b3"}])
    manifest = json.loads(index["images"][0]["imageManifest"])
    assert manifest["mediaType"] == "application/vnd.oci.image.index.v1+json"
    assert [m["platform"]["architecture"] for m in manifest["manifests"]] == ["amd64", "arm64"]
    assert [m["digest"] for m in manifest["manifests"]] == [p.digest for p in result.platforms]
    assert result.digest == index["images"][0]["imageId"]["imageDigest"]
