"""``dockyard exec``: a session in a running task through ECS Exec, on the strict emulator,
whose ECS keeps a service's tasks and refuses ExecuteCommand as ECS does (devtools/ecs/tasks.py).
The Session Manager plugin is a stand-in on PATH that records how it was started."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.e2e.conftest import Account, Dockyard
from tests.e2e.test_deploy import REGISTRY, push

EXEC_ON = "    port: 5001\n    exec: true\n    read_only_root: false\n"


def plugin(folder: Path, version: str = "1.2.707.0", exits: int = 0) -> Path:
    """A session-manager-plugin that writes its argv and session variable to record.json."""
    folder.mkdir(exist_ok=True)
    script = folder / "session-manager-plugin"
    script.write_text(
        "#!/usr/bin/env python3\nimport json, os, sys\n"
        f"if sys.argv[1:] == ['--version']:\n    print('{version}'); sys.exit(0)\n"
        f"json.dump({{'argv': sys.argv[1:], 'env': os.environ.get("
        f"'AWS_SSM_START_SESSION_RESPONSE')}}, open({str(folder / 'record.json')!r}, 'w'))\n"
        f"sys.exit({exits})\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return folder


def with_plugin(folder: Path | None) -> dict[str, str]:
    """PATH with the stand-in plugin's folder first, or without any plugin."""
    system = "/usr/bin:/bin"
    return {"PATH": f"{folder}:{system}" if folder else system}


@pytest.fixture()
def exec_on(dockyard: Dockyard, tmp_path: Path) -> Dockyard:
    """The example with apps.web.exec on, its stacks up."""
    config = tmp_path / "dockyard.yml"
    config.write_text(config.read_text().replace("    port: 5001\n", EXEC_ON, 1))
    done = dockyard("up", "--yes", "--only", "builder", "--only", "edge", "--only", "app-web")
    assert done.returncode == 0, done.stderr
    return dockyard


def test_exec_opens_a_session_written_to_the_apps_log_group(
        exec_on: Dockyard, account: Account, tmp_path: Path) -> None:
    v1 = push(account, "v1")
    deployed = exec_on("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v1}")
    assert deployed.returncode == 0, deployed.stderr
    folder = plugin(tmp_path / "bin")

    opened = exec_on("exec", "web", "--", "python", "manage.py", "shell",
                     env=with_plugin(folder))

    assert opened.returncode == 0, opened.stderr
    record = json.loads((folder / "record.json").read_text())
    ecs = account.client("ecs")
    (task_arn,) = ecs.list_tasks(cluster="acme", serviceName="web",
                                 desiredStatus="RUNNING")["taskArns"]
    task = ecs.describe_tasks(cluster="acme", tasks=[task_arn])["tasks"][0]
    runtime = task["containers"][0]["runtimeId"]
    task_id = task_arn.rsplit("/", 1)[-1]
    # As the AWS CLI starts it: the session in the variable (never in argv), the region,
    # StartSession, the profile, the target and the ECS endpoint.
    assert record["argv"] == [
        "AWS_SSM_START_SESSION_RESPONSE", "ap-southeast-2", "StartSession", "",
        json.dumps({"Target": f"ecs:acme_{task_id}_{runtime}"}),
        "https://ecs.ap-southeast-2.amazonaws.com"]
    session = json.loads(record["env"])
    assert session["sessionId"].startswith("ecs-execute-command-") and session["tokenValue"]
    assert session["tokenValue"] not in opened.stdout + opened.stderr, "the token is never shown"
    assert session["sessionId"] in opened.stderr, "progress names the session"
    audit = account.client("logs").get_log_events(logGroupName="/dockyard/acme/apps/web",
                                                  logStreamName=session["sessionId"])
    assert [e["message"] for e in audit["events"]] == ["$ python manage.py shell"]


def test_an_older_plugin_gets_the_session_as_its_first_argument(
        exec_on: Dockyard, account: Account, tmp_path: Path) -> None:
    v1 = push(account, "v1")
    assert exec_on("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v1}").returncode == 0
    folder = plugin(tmp_path / "bin", version="1.2.463.0")

    opened = exec_on("exec", "web", env=with_plugin(folder))
    failed = exec_on("exec", "web", env=with_plugin(plugin(tmp_path / "bin2", exits=5)))

    assert (failed.returncode, "the Session Manager plugin exited 5" in failed.stderr) == \
        (5, True), "dockyard exits with the plugin's status"
    assert opened.returncode == 0, opened.stderr
    record = json.loads((folder / "record.json").read_text())
    assert record["env"] is None
    assert json.loads(record["argv"][0])["sessionId"].startswith("ecs-execute-command-")
    assert record["argv"][1:4] == ["ap-southeast-2", "StartSession", ""]


def test_without_the_plugin_it_says_where_to_get_it_and_the_command(
        exec_on: Dockyard, account: Account) -> None:
    v1 = push(account, "v1")
    assert exec_on("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v1}").returncode == 0
    (task_arn,) = account.client("ecs").list_tasks(
        cluster="acme", serviceName="web", desiredStatus="RUNNING")["taskArns"]

    refused = exec_on("exec", "web", env=with_plugin(None))

    assert refused.returncode == 3, refused.stderr
    assert "Session Manager plugin (session-manager-plugin) is not installed" in refused.stderr
    assert "session-manager-working-with-install-plugin.html" in refused.stderr
    assert (f"aws ecs execute-command --region ap-southeast-2 --cluster acme --task "
            f"{task_arn.rsplit('/', 1)[-1]} --container web --interactive --command /bin/sh"
            in refused.stderr)
    assert "Traceback" not in refused.stderr


def test_exec_is_refused_for_an_app_without_it(dockyard: Dockyard, account: Account,
                                               tmp_path: Path) -> None:
    up = dockyard("up", "--yes", "--only", "builder", "--only", "edge", "--only", "app-web")
    assert up.returncode == 0, up.stderr
    v1 = push(account, "v1")
    assert dockyard("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v1}").returncode == 0
    service = account.client("ecs").describe_services(cluster="acme", services=["web"])
    assert service["services"][0]["enableExecuteCommand"] is False

    refused = dockyard("exec", "web", env=with_plugin(plugin(tmp_path / "bin")))

    assert refused.returncode == 2, refused.stderr
    assert "apps.web.exec is off" in refused.stderr
    assert not (tmp_path / "bin" / "record.json").exists(), "no session was opened"
    # ECS itself refuses a session in a task started without it (the operator, by hand).
    ecs = account.client("ecs")
    (task_arn,) = ecs.list_tasks(cluster="acme", serviceName="web",
                                 desiredStatus="RUNNING")["taskArns"]
    with pytest.raises(ClientError) as caught:
        ecs.execute_command(cluster="acme", task=task_arn, command="/bin/sh", interactive=True)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "execute command was not enabled" in caught.value.response["Error"]["Message"]


def test_the_app_roles_refuse_exec_where_dockyard_yml_does_not_give_it(
        dockyard: Dockyard, account: Account) -> None:
    """web has exec off: its pipeline role may not turn it on, nor open a session; and turned
    on by hand, ECS Exec's agent cannot connect with web's task role."""
    up = dockyard("up", "--yes", "--only", "builder", "--only", "edge", "--only", "app-web")
    assert up.returncode == 0, up.stderr
    v1 = push(account, "v1")
    assert dockyard("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v1}",
                    build="web/main").returncode == 0
    strict = account.emulator
    pipeline = strict.client("ecs", strict.session(account.pipeline_role("web")))
    with pytest.raises(ClientError) as turned_on:
        pipeline.update_service(cluster="acme", service="web", enableExecuteCommand=True)
    assert turned_on.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "ecs:UpdateService" in turned_on.value.response["Error"]["Message"]
    admin = strict.client("ecs")
    (task_arn,) = admin.list_tasks(cluster="acme", serviceName="web",
                                   desiredStatus="RUNNING")["taskArns"]
    with pytest.raises(ClientError) as session:
        pipeline.execute_command(cluster="acme", task=task_arn, command="/bin/sh",
                                 interactive=True)
    assert session.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "ecs:ExecuteCommand" in session.value.response["Error"]["Message"]

    # Nor may it start a one-off of web with ECS Exec (it may without).
    definition = admin.describe_task_definition(taskDefinition="acme-web")["taskDefinition"]
    admin.register_task_definition(
        family="acme-web-run", containerDefinitions=[  # moto's RunTask wants a memory each
            {**c, "memory": int(definition["memory"])} for c in definition["containerDefinitions"]],
        **{k: definition[k] for k in ("taskRoleArn", "executionRoleArn", "networkMode",
                                      "requiresCompatibilities", "cpu", "memory")})
    network = admin.describe_services(cluster="acme", services=["web"])["services"][0][
        "networkConfiguration"]
    one_off = {"cluster": "acme", "taskDefinition": "acme-web-run", "launchType": "FARGATE",
               "networkConfiguration": network, "tags": [{"key": "dockyard:app",
                                                          "value": "web"}]}
    with pytest.raises(ClientError) as shell_task:
        pipeline.run_task(**one_off, enableExecuteCommand=True)
    assert shell_task.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "ecs:RunTask" in shell_task.value.response["Error"]["Message"]
    started = pipeline.run_task(**one_off, enableExecuteCommand=False)["tasks"][0]
    admin.stop_task(cluster="acme", task=started["taskArn"], reason="test")

    admin.update_service(cluster="acme", service="web", enableExecuteCommand=True,
                         forceNewDeployment=True)
    done = dockyard("status", "web", "--wait", "--timeout", "10m")
    assert done.returncode == 0, done.stderr
    tasks = admin.describe_tasks(cluster="acme", tasks=admin.list_tasks(
        cluster="acme", serviceName="web", desiredStatus="RUNNING")["taskArns"])["tasks"]
    assert [t["enableExecuteCommand"] for t in tasks] == [True]
    with pytest.raises(ClientError) as agent:
        admin.execute_command(cluster="acme", task=tasks[0]["taskArn"], command="/bin/sh",
                              interactive=True)
    assert agent.value.response["Error"]["Code"] == "TargetNotConnectedException"


def test_tasks_started_before_exec_was_on_need_a_deploy(dockyard: Dockyard, account: Account,
                                                        tmp_path: Path) -> None:
    up = dockyard("up", "--yes", "--only", "builder", "--only", "edge", "--only", "app-web")
    assert up.returncode == 0, up.stderr
    v1 = push(account, "v1")
    assert dockyard("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v1}").returncode == 0
    config = tmp_path / "dockyard.yml"
    config.write_text(config.read_text().replace("    port: 5001\n", EXEC_ON, 1))
    assert dockyard("up", "--yes", "--only", "app-web").returncode == 0
    folder = plugin(tmp_path / "bin")

    drift = dockyard("diff", "--output", "json")
    early = dockyard("exec", "web", env=with_plugin(folder))
    redeployed = dockyard("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v1}")
    later = dockyard("exec", "web", env=with_plugin(folder))

    (web,) = [a for a in json.loads(drift.stdout)["apps"] if a["app"] == "web"]
    assert {"field": "exec", "before": "false", "after": "true"} in web["changes"], drift.stdout
    assert early.returncode == 3, early.stderr
    assert "no running task of web was started with ECS Exec" in early.stderr
    assert "dockyard deploy web" in early.stderr
    assert redeployed.returncode == 0, redeployed.stderr
    assert later.returncode == 0, later.stderr
    assert (folder / "record.json").exists()


def test_exec_is_not_for_pipeline_builds(exec_on: Dockyard) -> None:
    refused = exec_on("exec", "web", build="web/main")
    assert refused.returncode == 2, refused.stderr
    assert "dockyard exec is for people" in refused.stderr
