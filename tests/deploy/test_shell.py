"""dockyard exec's choices before any session: which task, and how the plugin is started."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dockyard.aws.ecs import ContainerState, TaskState
from dockyard.deploy.shell import choose_task, command_string, plugin_session, plugin_version
from dockyard.errors import DockyardError, ExitCode

ARN = "arn:aws:ecs:ap-southeast-2:123456789012:task/acme/"


def task(task_id: str, *, exec_on: bool = True, agent: str = "RUNNING") -> TaskState:
    return TaskState(arn=ARN + task_id, last_status="RUNNING", execute_command=exec_on,
                     group="service:web", containers=[ContainerState(
                         "web", None, "", runtime_id=f"{task_id}-1", exec_agent=agent)])


def test_the_newest_task_with_ecs_exec_is_chosen_unless_one_is_named() -> None:
    tasks = [task("old", exec_on=False), task("new"), task("newer")]
    assert choose_task("web", [tasks[1], tasks[2]], None).task_id == "new"
    starting = task("newest", agent="PENDING")
    assert choose_task("web", [starting, tasks[1]], None).task_id == "new", \
        "a task whose agent is not ready yet gives way to one that is"
    assert choose_task("web", tasks, "newer").task_id == "newer"
    assert choose_task("web", tasks, ARN + "new").task_id == "new"


@pytest.mark.parametrize(("tasks", "wanted", "message"), [
    ([], None, "web has no running task"),
    ([task("a")], "b", "web has no running task b"),
    ([task("a", exec_on=False)], None, "no running task of web was started with ECS Exec"),
    ([task("a", exec_on=False)], "a", "task a was started with ECS Exec"),
    ([task("a", agent="PENDING")], None, "ECS Exec's agent in task a is pending"),
])
def test_no_session_is_opened_where_ecs_exec_cannot_reach(
        tasks: list[TaskState], wanted: str | None, message: str) -> None:
    with pytest.raises(DockyardError) as refused:
        choose_task("web", tasks, wanted)
    assert refused.value.exit_code == ExitCode.AWS_PRECONDITION
    assert message in refused.value.message


def test_the_plugin_gets_the_session_as_the_aws_cli_gives_it() -> None:
    session = {"sessionId": "s-1", "streamUrl": "wss://x", "tokenValue": "secret"}
    kwargs: dict[str, Any] = {
        "region": "ap-southeast-2", "profile": "ops", "cluster": "arn:x:cluster/acme",
        "task": task("t1"), "container": "web",
        "endpoint": "https://ecs.ap-southeast-2.amazonaws.com"}
    modern = plugin_session(session, version=plugin_version("1.2.707.0\n"), **kwargs)
    assert modern.argv == ["session-manager-plugin", "AWS_SSM_START_SESSION_RESPONSE",
                           "ap-southeast-2", "StartSession", "ops",
                           '{"Target": "ecs:acme_t1_t1-1"}',
                           "https://ecs.ap-southeast-2.amazonaws.com"]
    assert json.loads(modern.env["AWS_SSM_START_SESSION_RESPONSE"]) == session
    assert "secret" not in " ".join(modern.argv)
    for old in ("1.2.497.0", "", "unknown"):  # not newer than 1.2.497.0, or unreadable
        legacy = plugin_session(session, version=plugin_version(old), **kwargs)
        assert json.loads(legacy.argv[1]) == session and legacy.env == {}


def test_the_command_is_one_string_with_the_shell_by_default() -> None:
    assert command_string(()) == "/bin/sh"
    assert command_string(("echo", "a b")) == "echo 'a b'"
