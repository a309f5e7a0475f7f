"""``dockyard jenkins url | password | logs``: the real CLI against a moto server.

moto's CloudFormation does not create ``AWS::SecretsManager::Secret`` resources and runs no
controller, so the secret and the controller's log are put in place the way the jenkins stack
and the controller's awslogs driver would leave them.
"""

from __future__ import annotations

import select
import signal
import subprocess
import time
from pathlib import Path

from tests.conftest import INTERRUPTIBLE_DOCKYARD
from tests.e2e.conftest import Account, Dockyard

GROUP = "/dockyard/acme/jenkins"


def write_log(account: Account, stream: str, lines: list[str], *, minutes_ago: int = 0) -> None:
    logs = account.client("logs")
    if not logs.describe_log_groups(logGroupNamePrefix=GROUP)["logGroups"]:
        logs.create_log_group(logGroupName=GROUP)
    if not logs.describe_log_streams(logGroupName=GROUP,
                                     logStreamNamePrefix=stream)["logStreams"]:
        logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
    start = int(time.time() * 1000) - minutes_ago * 60_000
    logs.put_log_events(logGroupName=GROUP, logStreamName=stream, logEvents=[
        {"timestamp": start + i, "message": line} for i, line in enumerate(lines)])


def controller_task(account: Account) -> str:
    """A task of the jenkins service, as ECS's service scheduler starts it; returns its id."""
    ecs = account.client("ecs")
    definition = ecs.register_task_definition(
        family="acme-jenkins", networkMode="awsvpc", requiresCompatibilities=["FARGATE"],
        cpu="2048", memory="4096", containerDefinitions=[
            {"name": "jenkins", "image": "jenkins", "memory": 4096}])
    task = ecs.run_task(
        cluster="acme", taskDefinition=definition["taskDefinition"]["taskDefinitionArn"],
        launchType="FARGATE", group="service:jenkins", startedBy="ecs-svc/0001",
        networkConfiguration={"awsvpcConfiguration": {
            "subnets": account.output("acme-builder", "Subnets").split(","),
            "securityGroups": [account.output("acme-builder", "BuildSecurityGroupId")]}})
    return str(task["tasks"][0]["taskArn"]).rsplit("/", 1)[-1]


def next_line(process: subprocess.Popen[str], seconds: float = 30) -> str:
    """The process's next stdout line, or '' when none comes within ``seconds``."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], seconds)
    return process.stdout.readline() if ready else ""


def test_url_needs_no_account(dockyard: Dockyard) -> None:
    done = dockyard("jenkins", "url", env={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    assert done.returncode == 0, done.stderr
    assert done.stdout == "https://jenkins.example.com/\n"


def test_password_is_read_from_secrets_manager(dockyard: Dockyard, account: Account) -> None:
    missing = dockyard("jenkins", "password")
    assert missing.returncode == 3
    assert missing.stdout == ""
    assert "the secret acme-jenkins-admin does not exist" in missing.stderr
    assert "dockyard up" in missing.stderr
    assert "Traceback" not in missing.stderr

    account.client("secretsmanager").create_secret(Name="acme-jenkins-admin",
                                                   SecretString="s3cret-from-the-stack")
    done = dockyard("jenkins", "password")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "s3cret-from-the-stack\n"


def test_under_github_sign_in_there_is_no_admin_password(dockyard: Dockyard, account: Account,
                                                        tmp_path: Path) -> None:
    from tests.conftest import GITHUB_SIGN_IN

    account.client("secretsmanager").create_secret(Name="acme-jenkins-admin",
                                                   SecretString="s3cret-from-the-stack")
    config = tmp_path / "dockyard.yml"
    config.write_text(config.read_text().replace(*GITHUB_SIGN_IN, 1))
    done = dockyard("jenkins", "password")
    assert done.returncode == 2 and done.stdout == ""
    assert "Jenkins signs people in with GitHub (jenkins.sign_in.github): there is no admin " \
           "password" in done.stderr
    assert "remove jenkins.sign_in and run `dockyard up`" in done.stderr, "the way back in"
    assert "s3cret-from-the-stack" not in done.stderr


def test_logs_print_the_newest_tasks_last_lines(dockyard: Dockyard, account: Account) -> None:
    empty = dockyard("jenkins", "logs")
    assert empty.returncode == 0, empty.stderr
    assert empty.stdout == ""
    assert f"no controller log yet in {GROUP}" in empty.stderr

    assert dockyard("up", "--yes", "--only", "builder").returncode == 0
    old = controller_task(account)
    account.client("ecs").stop_task(cluster="acme", task=old, reason="replaced")
    new = controller_task(account)
    write_log(account, f"controller/jenkins/{old}", ["old task"], minutes_ago=20)
    write_log(account, f"controller/jenkins/{new}", [f"line {i}" for i in range(1, 8)])
    # CloudWatch updates a stream's LastEventTime lazily: ordered by it, the old task's
    # stream still looks newest. The stream is found from the running task's id instead.
    done = dockyard("jenkins", "logs", "-n", "3")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["line 5", "line 6", "line 7"]
    assert f"controller/jenkins/{new}" in done.stderr


def test_logs_follow_prints_new_lines_until_ctrl_c(dockyard: Dockyard, account: Account,
                                                   tmp_path: Path) -> None:
    assert dockyard("up", "--yes", "--only", "builder").returncode == 0
    task = controller_task(account)
    write_log(account, f"controller/jenkins/{task}", ["Jenkins is starting"])
    follower = subprocess.Popen(
        [*INTERRUPTIBLE_DOCKYARD, "jenkins", "logs", "--follow"], cwd=tmp_path,
        env=account.cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert next_line(follower) == "Jenkins is starting\n"
        write_log(account, f"controller/jenkins/{task}", ["Jenkins is fully up and running"])
        assert next_line(follower) == "Jenkins is fully up and running\n"
        follower.send_signal(signal.SIGINT)
        assert follower.wait(timeout=30) == 0
    finally:
        if follower.poll() is None:
            follower.kill()
