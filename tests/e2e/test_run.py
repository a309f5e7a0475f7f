"""``dockyard run``: one-off tasks of an app against the strict emulator, run with the Jenkins
agents' task role as pipelines run them. The emulator's container runtime plays the command
(devtools/fake_kaniko.py, run_one_off): its echoes reach the task's log stream through the
execution role, its ``exit N`` is the container's exit code, and the app's secrets are fetched
with the execution role before it starts."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli.test_json_output import documented
from tests.conftest import INTERRUPTIBLE_DOCKYARD
from tests.e2e.conftest import Account, Dockyard
from tests.e2e.test_deploy import REGISTRY, image_of, live, push

SECRET = "acme/web/database-url"
VALUE = "postgres://app:s3cr3t-never-shown@db.internal:5432/app"


@pytest.fixture()
def deployed(dockyard: Dockyard, account: Account, tmp_path: Path) -> str:
    """web deployed at v1 with a DATABASE_URL secret; returns v1's digest."""
    account.client("secretsmanager").create_secret(Name=SECRET, SecretString=VALUE)
    config = tmp_path / "dockyard.yml"
    text = config.read_text()
    assert text.count("secrets: {}") >= 1
    config.write_text(text.replace("secrets: {}", f"secrets: {{DATABASE_URL: {SECRET}}}", 1))
    done = dockyard("up", "--yes", "--only", "builder", "--only", "edge", "--only", "app-web")
    assert done.returncode == 0, done.stderr
    v1 = push(account, "v1")
    first = dockyard("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v1}", build="web/main")
    assert first.returncode == 0, first.stderr
    return v1


def test_a_command_runs_as_the_apps_task_and_its_exit_code_is_kept_apart_from_dockyards(
        dockyard: Dockyard, account: Account, deployed: str) -> None:
    before = live(account)
    assert before is not None
    done = dockyard("--debug", "run", "web", "-o", "json", "--", "sh", "-c",
                    "echo Applying app.0002_add_index; echo OK; exit 3", build="web/main")
    assert done.returncode == 1, "the command's 3 must not read as dockyard's AWS-state 3"
    assert "Applying app.0002_add_index" in done.stderr and "OK" in done.stderr
    assert "running `sh -c 'echo Applying app.0002_add_index; echo OK; exit 3'` as a task " \
        "of web" in done.stderr, "the command is echoed as a shell would take it back"
    assert "error: `sh -c 'echo Applying app.0002_add_index; echo OK; exit 3'` exited 3" \
        in done.stderr
    document = json.loads(done.stdout)
    assert list(document) == documented()["run"]
    assert (document["ok"], document["exit_code"], document["command_exit_code"],
            document["status"]) == (False, 1, 3, "failed")
    definition = account.client("ecs").describe_task_definition(
        taskDefinition=document["task_definition"])["taskDefinition"]
    assert definition["family"] == "acme-web-run"
    (container,) = definition["containerDefinitions"]
    assert container["image"] == f"{REGISTRY}/acme/web@{deployed}", "the running revision's"
    assert container["logConfiguration"]["options"]["awslogs-stream-prefix"] == "run"
    assert [s["name"] for s in container["secrets"]] == ["DATABASE_URL"]
    task = account.client("ecs").describe_tasks(cluster="acme", tasks=[document["task_arn"]])
    (ran,) = task["tasks"]
    assert ran["overrides"]["containerOverrides"][0]["command"][:2] == ["sh", "-c"]
    assert ran["launchType"] == "FARGATE" or ran.get("capacityProviderName") == "FARGATE"
    stream = document["log_stream"]
    assert stream.startswith("run/web/")
    events = account.client("logs").get_log_events(logGroupName=document["log_group"],
                                                    logStreamName=stream)["events"]
    assert [e["message"] for e in events] == ["Applying app.0002_add_index", "OK"]
    after = live(account)
    assert after is not None and after["taskDefinition"] == before["taskDefinition"], \
        "a one-off leaves the service alone"
    assert VALUE not in done.stdout + done.stderr, "the secret's value is never shown"
    assert "aws: ecs RunTask 200" in done.stderr, "--debug lists the calls dockyard made"
    assert "secretsmanager" not in done.stderr, "dockyard never reads it: ECS hands it to the task"
    events = dockyard("run", "web", "--events", "--", "sh", "-c", "exit 4", build="web/main")
    assert events.returncode == 1, events.stderr
    summary = json.loads(events.stdout.splitlines()[-1])
    assert (summary["event"], summary["exit_code"], summary["command_exit_code"]) == \
        ("summary", 1, 4)


def test_a_new_image_runs_before_it_is_deployed(dockyard: Dockyard, account: Account,
                                                deployed: str) -> None:
    v2 = push(account, "v2")
    done = dockyard("run", "web", "--image", "v2", "--", "python", "manage.py", "migrate",
                    "--noinput", build="web/main")
    assert done.returncode == 0, done.stderr
    assert "fake container: ran python manage.py migrate --noinput" in done.stderr
    runs = account.client("ecs").list_task_definitions(familyPrefix="acme-web-run")
    latest = runs["taskDefinitionArns"][-1]
    assert image_of(account, latest) == f"{REGISTRY}/acme/web@{v2}", "pinned by digest"
    service = live(account)
    assert service is not None
    assert image_of(account, str(service["taskDefinition"])) == f"{REGISTRY}/acme/web@{deployed}"


def test_bad_sizes_are_refused_before_anything_is_registered(
        dockyard: Dockyard, account: Account, deployed: str) -> None:
    before = account.client("ecs").list_task_definitions(familyPrefix="acme-web-run")
    tasks_before = _all_tasks(account)
    cpu = dockyard("run", "web", "--cpu", "300", "--", "true", build="web/main")
    assert cpu.returncode == 2 and "error: --cpu: 300 is not a Fargate CPU value" in cpu.stderr
    memory = dockyard("run", "web", "--cpu", "256", "--memory", "4096", "--", "true",
                      build="web/main")
    assert memory.returncode == 2 and "--memory: 4096 MiB does not go with cpu 256" \
        in memory.stderr
    unknown = dockyard("run", "api", "--", "true", build="web/main")
    assert unknown.returncode == 2 and "APP 'api': dockyard.yml declares no such app" \
        in unknown.stderr
    # RunTask takes 8,192 characters of overrides; AWS would refuse it only after a revision
    # was registered for it.
    long = dockyard("run", "web", "--", "sh", "-c", "echo " + "x" * 8200, build="web/main")
    assert long.returncode == 2, long.stderr
    assert "error: CMD is too long for ECS: RunTask takes at most 8,192 characters of " \
           "overrides" in long.stderr
    assert "Traceback" not in long.stderr and "InvalidParameterException" not in long.stderr
    after = account.client("ecs").list_task_definitions(familyPrefix="acme-web-run")
    assert after["taskDefinitionArns"] == before["taskDefinitionArns"]
    assert _all_tasks(account) == tasks_before, "no task was started"


def _all_tasks(account: Account) -> set[str]:
    ecs = account.client("ecs")
    return {arn for status in ("RUNNING", "STOPPED")
            for arn in ecs.list_tasks(cluster="acme", desiredStatus=status)["taskArns"]}


def test_a_task_that_never_ran_exits_70_with_ecss_reason(dockyard: Dockyard, account: Account,
                                                         deployed: str) -> None:
    account.client("secretsmanager").delete_secret(SecretId=SECRET,
                                                   ForceDeleteWithoutRecovery=True)
    done = dockyard("run", "web", "--", "sh", "-c", "exit 0", build="web/main")
    assert done.returncode == 70, done.stderr
    assert "the task did not run: ResourceInitializationError: unable to pull secrets" \
        in done.stderr


def test_the_timeout_stops_the_task_and_exits_124(dockyard: Dockyard, account: Account,
                                                  deployed: str) -> None:
    done = dockyard("run", "web", "--timeout", "3s", "--", "sh", "-c",
                    "echo waiting for the lock; sleep 120", build="web/main")
    assert done.returncode == 124, done.stderr
    assert "waiting for the lock" in done.stderr
    stopped = account.client("ecs").list_tasks(cluster="acme", desiredStatus="STOPPED")
    assert stopped["taskArns"], "the task was stopped"


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)],
                         ids=["SIGTERM", "Ctrl-C"])
def test_a_signal_stops_the_task_and_exits_128_plus_it(account: Account, deployed: str,
                                                       tmp_path: Path, signum: int,
                                                       code: int) -> None:
    process = subprocess.Popen(
        [*INTERRUPTIBLE_DOCKYARD, "run", "web", "--", "sh", "-c", "echo started; sleep 120"],
        cwd=tmp_path, env=account.pipeline_env("web/main", (tmp_path / "dockyard.yml").read_text()),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _running_one_off(account):
        time.sleep(0.2)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == code, stderr
    assert "stopping task" in stderr and "started" in stderr
    assert not _running_one_off(account), "no one-off left running"


def _running_one_off(account: Account) -> bool:
    arns = account.client("ecs").list_tasks(cluster="acme", desiredStatus="RUNNING")["taskArns"]
    if not arns:
        return False
    tasks = account.client("ecs").describe_tasks(cluster="acme", tasks=arns,
                                                 include=["TAGS"])["tasks"]
    return any(any(t["key"] == "dockyard:run" for t in task.get("tags", []))
               for task in tasks)


def test_detach_prints_the_task_and_logs_run_follows_it_to_its_exit_code(
        dockyard: Dockyard, account: Account, deployed: str) -> None:
    started = dockyard("run", "web", "--detach", "-o", "json", "--", "sh", "-c",
                       "echo half; sleep 2; echo done; exit 5", build="web/main")
    assert started.returncode == 0, started.stderr
    document = json.loads(started.stdout)
    assert list(document) == documented()["run --detach"]
    followed = dockyard("logs", "run", document["task_arn"], "-o", "json", build="web/main")
    assert followed.returncode == 1, followed.stderr
    assert "half" in followed.stderr and "done" in followed.stderr
    result = json.loads(followed.stdout)
    assert list(result) == documented()["run"]
    assert (result["task_arn"], result["exit_code"], result["command_exit_code"]) == \
        (document["task_arn"], 1, 5)
    assert result["image"] == f"{REGISTRY}/acme/web@{deployed}"
    missing = dockyard("logs", "run", "0123456789abcdef0123456789abcdef", build="web/main")
    assert missing.returncode == 1 and "no dockyard run task" in missing.stderr
