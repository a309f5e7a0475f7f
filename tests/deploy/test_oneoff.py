"""What ``dockyard run`` asks ECS for, read from the request documents, and how it reads a
task's end."""

from __future__ import annotations

import json
import shlex
from dataclasses import replace
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from dockyard.aws.ecs import (
    OVERRIDES_CHARACTERS,
    ContainerState,
    Ecs,
    TaskSpec,
    TaskState,
    overrides_characters,
    run_task_problem,
    task_overrides,
)
from dockyard.builds.task import Status, TaskOutcome, classify
from dockyard.deploy.definition import task_definition
from dockyard.deploy.oneoff import (
    OneOff,
    check_run_task,
    command_line,
    run_definition,
    task_spec,
)
from dockyard.errors import ExitCode, UsageError
from tests.deploy.test_definition import IMAGE, SECRET_ARN, _valid, _with_env_and_secrets

# What DescribeTaskDefinition answers: the request's fields, and ECS's own record of it.
DESCRIBED_EXTRA = {
    "taskDefinitionArn": "arn:aws:ecs:ap-southeast-2:123456789012:task-definition/acme-web:7",
    "revision": 7, "status": "ACTIVE", "compatibilities": ["EC2", "FARGATE"],
    "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.logging-driver.awslogs"}],
    "registeredAt": "2026-12-01T10:00:00Z", "registeredBy": "arn:aws:iam::1:role/x"}


@pytest.mark.parametrize("source", ["registration", "described"])
def test_a_run_definition_is_the_apps_with_its_own_family_and_log_prefix(source: str) -> None:
    cfg, target = _with_env_and_secrets()
    base = task_definition(cfg, target, IMAGE, {"acme/web/db": SECRET_ARN})
    if source == "described":
        base = {**{k: v for k, v in base.items() if k != "tags"}, **DESCRIBED_EXTRA}
    request = run_definition(cfg, "web", base)
    _valid("RegisterTaskDefinition", request)
    assert request["family"] == "acme-web-run"
    (container,) = request["containerDefinitions"]
    (original,) = base["containerDefinitions"]
    assert container["logConfiguration"]["options"] == {
        **original["logConfiguration"]["options"], "awslogs-stream-prefix": "run"}
    assert original["logConfiguration"]["options"]["awslogs-stream-prefix"] == "app", \
        "the app's own definition is not touched"
    assert (container["image"], container["secrets"], container["environment"]) == \
        (original["image"], original["secrets"], original["environment"])
    assert container["memory"] == 512, "one container: its hard limit is the task's"
    assert (request["taskRoleArn"], request["executionRoleArn"]) == \
        (base["taskRoleArn"], base["executionRoleArn"])
    assert not set(request) & set(DESCRIBED_EXTRA), "ECS's own record is not sent back"


def test_the_run_task_request_is_the_apps_network_on_demand_with_the_command() -> None:
    import botocore.session

    cfg, target = _with_env_and_secrets()
    spec = task_spec(cfg, target, "arn:aws:ecs:ap-southeast-2:123456789012:task-definition/"
                     "acme-web-run:1", ["python", "manage.py", "migrate"], cpu=256, memory=512)
    client = botocore.session.get_session().create_client(
        "ecs", region_name="ap-southeast-2", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        stub.add_response("run_task", {"tasks": [{"taskArn": "arn:aws:ecs:ap-southeast-2:1:"
                                                             "task/acme/abc",
                                                  "lastStatus": "PROVISIONING"}]}, {
            "cluster": target.cluster, "taskDefinition": spec.task_definition, "count": 1,
            "capacityProviderStrategy": [{"capacityProvider": "FARGATE", "weight": 1}],
            "networkConfiguration": {"awsvpcConfiguration": {
                "subnets": ["subnet-a", "subnet-b"], "securityGroups": ["sg-app"],
                "assignPublicIp": "ENABLED"}},
            "overrides": {"cpu": "256", "memory": "512", "containerOverrides": [
                {"name": "web", "command": ["python", "manage.py", "migrate"],
                 "memory": 512}]},
            "tags": ANY, "startedBy": "dockyard-run", "enableECSManagedTags": True})
        started = Ecs(client).run_task(spec)
    assert started.task_id == "abc"
    assert spec.tags == {"dockyard:name": "acme", "dockyard:run": "web", "dockyard:app": "web"}


def _outcome(status: Status, code: int | None = None) -> TaskOutcome:
    return TaskOutcome("run", status, exit_code=code)


@pytest.mark.parametrize(("outcome", "code", "own"), [
    (_outcome(Status.SUCCEEDED, 0), 0, 0), (_outcome(Status.BUILD_FAILED, 3), 1, 3),
    (_outcome(Status.BUILD_FAILED, 2), 1, 2), (_outcome(Status.BUILD_FAILED, 4), 1, 4),
    (_outcome(Status.BUILD_FAILED, 137), 1, 137), (_outcome(Status.INFRA_FAILED), 70, None),
    (_outcome(Status.SPOT_INTERRUPTED), 70, None), (_outcome(Status.TIMED_OUT), 124, None),
    (_outcome(Status.CANCELLED), 130, None)])
def test_the_exit_code_says_how_the_task_ended_and_the_commands_own_is_apart(
        outcome: TaskOutcome, code: int, own: int | None) -> None:
    done = OneOff("web", "td", IMAGE, ["true"], outcome)
    assert (done.exit_code, done.command_exit_code) == (code, own)
    assert OneOff("web", "td", IMAGE, ["true"]).exit_code == ExitCode.OK, "--detach"


def test_a_task_whose_secret_could_not_be_read_never_ran() -> None:
    stopped = TaskState("arn", "STOPPED", stop_code="TaskFailedToStart",
                        stopped_reason="ResourceInitializationError: unable to pull secrets",
                        containers=[ContainerState("web", None, "")])
    outcome = classify("run", stopped, None, "run")
    assert outcome.status == Status.INFRA_FAILED
    assert OneOff("web", "td", IMAGE, ["true"], outcome).exit_code == 70
    assert classify("run", None, "timeout", "run").reason == "stopped when the run timeout passed"


@pytest.mark.parametrize(("command", "shown"), [
    (["sh", "-c", "echo a b"], "sh -c 'echo a b'"),
    (["python", "manage.py", "migrate", "--noinput"], "python manage.py migrate --noinput"),
    (["echo", "it's", ""], "echo 'it'\"'\"'s' ''"),
    (["sh", "-c", "x" * 1000], None)])
def test_a_command_is_shown_as_a_shell_would_take_it_back(command: list[str],
                                                         shown: str | None) -> None:
    line = command_line(command)
    if shown is None:
        assert len(line) < 400 and "characters)" in line, "cut to a readable length"
    else:
        assert line == shown
        assert shlex.split(line) == command


def _spec_with(command: list[str]) -> TaskSpec:
    cfg, target = _with_env_and_secrets()
    return task_spec(cfg, target, "arn:aws:ecs:ap-southeast-2:123456789012:task-definition/"
                     "acme-web-run:1", command, cpu=256, memory=512)


def test_runtasks_8192_characters_of_overrides_are_counted_as_botocore_sends_them() -> None:
    import botocore.session
    from botocore.awsrequest import AWSResponse

    spec = _spec_with(["sh", "-c", "echo \u00e9t\u00e9 \"quoted\""])
    sent: list[str] = []

    def answer(request: Any, **_: Any) -> AWSResponse:
        sent.append(request.body.decode())
        return AWSResponse(request.url, 200, {}, _Raw(b'{"tasks": [{"taskArn": '
                                                       b'"arn:aws:ecs:r:1:task/acme/a"}]}'))

    client = botocore.session.get_session().create_client(
        "ecs", region_name="ap-southeast-2", aws_access_key_id="x", aws_secret_access_key="x")
    client.meta.events.register("before-send.ecs.RunTask", answer)
    Ecs(client).run_task(spec)
    (body,) = sent
    assert json.dumps(task_overrides(spec)) in body, "the overrides as they go on the wire"
    assert overrides_characters(spec) == len(json.dumps(task_overrides(spec)))


class _Raw:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> list[bytes]:
        return [self.data]


def test_a_command_past_runtasks_limit_is_a_usage_error_naming_it() -> None:
    base = overrides_characters(_spec_with(["sh", "-c", ""]))
    fits = _spec_with(["sh", "-c", "x" * (OVERRIDES_CHARACTERS - base)])
    assert overrides_characters(fits) == OVERRIDES_CHARACTERS
    assert check_run_task(fits) is fits, "8,192 characters exactly are allowed"
    over = _spec_with(["sh", "-c", "x" * (OVERRIDES_CHARACTERS - base + 1)])
    with pytest.raises(UsageError) as refused:
        check_run_task(over)
    assert refused.value.exit_code == 2
    assert "is too long for ECS: RunTask takes at most 8,192 characters of overrides " \
           "(the command, as JSON), and these are 8,193" in refused.value.message


@pytest.mark.parametrize(("change", "words"), [
    ({"started_by": "dockyard run"}, "startedBy 'dockyard run' is not 1 to 128"),
    ({"tags": {f"k{i}": "v" for i in range(51)}}, "at most 50 tags"),
    ({"tags": {"dockyard:repository": "r" * 257}}, "longer than ECS takes"),
    ({"tags": {"k" * 129: "v"}}, "longer than ECS takes")])
def test_the_other_runtask_limits_are_checked_too(change: dict[str, Any], words: str) -> None:
    spec = replace(_spec_with(["true"]), **change)
    problem = run_task_problem(spec)
    assert problem is not None and words in problem
    assert run_task_problem(_spec_with(["true"])) is None
