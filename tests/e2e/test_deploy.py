"""``deploy`` / ``rollback`` / ``status APP`` / ``logs APP`` / ``down``: the real CLI against the
strict emulator, whose ECS rolls deployments (devtools/ecs); deploys, rollbacks, status
and logs run with the Jenkins agents' task role, as pipelines run them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from devtools import moto_server
from devtools.ecs import CRASH, HANG
from devtools.fake_kaniko import image_manifest

from tests.conftest import INTERRUPTIBLE_DOCKYARD
from tests.e2e.conftest import Account, Dockyard

REGISTRY = "123456789012.dkr.ecr.ap-southeast-2.amazonaws.com"


def push(account: Account, tag: str, *, mark: str | None = None) -> str:
    """An image in acme/web as a build leaves it; ``mark`` makes the emulator's app crash or
    hang. Returns its digest."""
    pushed = account.client("ecr").put_image(
        repositoryName="acme/web", imageManifest=image_manifest(tag, [mark] if mark else []),
        imageTag=tag)
    return str(pushed["image"]["imageId"]["imageDigest"])


def live(account: Account, app: str = "web") -> dict[str, object] | None:
    services = account.client("ecs").describe_services(cluster="acme", services=[app])
    found = [s for s in services["services"] if s["status"] != "INACTIVE"]
    return found[0] if found else None


def image_of(account: Account, task_definition: str) -> str:
    raw = account.client("ecs").describe_task_definition(taskDefinition=task_definition)
    return str(raw["taskDefinition"]["containerDefinitions"][0]["image"])


@pytest.fixture()
def stacks(dockyard: Dockyard) -> Dockyard:
    """The stacks an app needs (builder, edge, its own); Jenkins is not needed to deploy."""
    done = dockyard("up", "--yes", "--only", "builder", "--only", "edge", "--only", "app-web")
    assert done.returncode == 0, done.stderr
    return dockyard


def test_deploy_update_rollback_and_status(stacks: Dockyard, account: Account) -> None:
    v1 = push(account, "v1")
    first = stacks("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v1}", build="web/main")
    assert first.returncode == 0, first.stderr
    assert "outcome      completed" in first.stdout
    service = live(account)
    assert service is not None and service["desiredCount"] == 1
    assert image_of(account, str(service["taskDefinition"])) == f"{REGISTRY}/acme/web@{v1}"
    assert service["deploymentConfiguration"] == {
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "maximumPercent": 200, "minimumHealthyPercent": 100, "strategy": "ROLLING",
        "alarms": {"alarmNames": ["acme-web-error-rate"], "enable": True, "rollback": True}}

    v2 = push(account, "v2")
    second = stacks("deploy", "web", "--image", "web:v2", "--output", "json", build="web/main")
    assert second.returncode == 0, second.stderr
    document = json.loads(second.stdout)
    assert (document["outcome"], document["service_created"]) == ("completed", False)
    assert document["image"] == f"{REGISTRY}/acme/web@{v2}", "the tag was pinned to its digest"
    assert document["revision"] == "acme-web:2"

    push(account, "v3", mark=CRASH)
    third = stacks("deploy", "web", "--image", "v3", build="web/main")
    assert third.returncode == 4, third.stderr
    assert "deploy of web (acme-web:3) failed" in third.stderr
    # From the deployment's FAILED record (circuit breaker), or from the service's event when
    # stale reads hid that record until the rollback replaced it.
    assert "tasks failed to start" in third.stderr
    assert "deployment failed: tasks failed to start" in third.stderr, "service events shown"
    for _ in range(5):  # ECS finishes the rollback deployment it started
        state = json.loads(stacks("status", "web", "--output", "json",
                                  build="web/main").stdout)["service"]
        if [d["rollout_state"] for d in state["deployments"]] == ["COMPLETED"]:
            break
    assert [d["rollout_state"] for d in state["deployments"]] == ["COMPLETED"], \
        "the service is stable again, and deploy still said it failed"
    assert state["task_definition"].endswith("acme-web:2")

    back = stacks("rollback", "web", build="web/main")
    assert back.returncode == 0, back.stderr
    assert "from acme-web:2 to acme-web:1" in back.stderr
    service = live(account)
    assert service is not None and str(service["taskDefinition"]).endswith("acme-web:1")
    text = stacks("status", "web", build="web/main")
    assert text.returncode == 0
    assert "Service web: ACTIVE" in text.stdout and "acme-web:1" in text.stdout


def test_a_deployment_still_rolling_at_the_timeout_exits_124(stacks: Dockyard,
                                                             account: Account) -> None:
    push(account, "slow", mark=HANG)
    started = time.monotonic()
    done = stacks("deploy", "web", "--image", "slow", "--timeout", "5m", build="web/main")
    assert done.returncode == 124, done.stderr
    assert "did not finish: still IN_PROGRESS" in done.stderr
    assert "ECS goes on with deployment" in done.stderr
    assert time.monotonic() - started < 60


def test_a_missing_tag_is_refused_before_anything_changes(stacks: Dockyard,
                                                          account: Account) -> None:
    done = stacks("deploy", "web", "--image", "v9", build="web/main")
    assert done.returncode == 2
    assert "error: --image v9: ECR acme/web has no tag v9" in done.stderr
    ecs = account.client("ecs")
    assert ecs.list_task_definitions(familyPrefix="acme-web")["taskDefinitionArns"] == []
    assert live(account) is None


def test_a_secret_looking_env_value_is_refused(dockyard: Dockyard, tmp_path: Path,
                                               account: Account) -> None:
    config = moto_server.example_config(account.certificate).replace(
        "      LOG_LEVEL: info", "      LOG_LEVEL: info\n      DB_PASSWORD: hunter2")
    (tmp_path / "dockyard.yml").write_text(config)
    done = dockyard("deploy", "web", "--image", "v1")
    assert done.returncode == 2
    assert "apps.web.env.DB_PASSWORD" in done.stderr
    assert "secrets" in done.stderr, "the hint says where it belongs"
    assert "hunter2" not in done.stderr + done.stdout
    assert account.client("ecs").list_task_definitions()["taskDefinitionArns"] == []


def test_logs_print_what_the_apps_tasks_wrote(stacks: Dockyard, account: Account) -> None:
    logs = account.client("logs")
    group = "/dockyard/acme/apps/web"
    now = int(time.time() * 1000)
    for task, lines in (("aaaaaaaa1111", ["booting", "listening on 5001"]),
                        ("bbbbbbbb2222", ["GET / 200"])):
        stream = f"app/web/{task}"
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[
            {"timestamp": now + i, "message": line} for i, line in enumerate(lines)])
    done = stacks("logs", "web", "--since", "5m", build="web/main")
    assert done.returncode == 0, done.stderr
    assert sorted(done.stdout.splitlines()) == [
        "[aaaaaaaa] booting", "[aaaaaaaa] listening on 5001", "[bbbbbbbb] GET / 200"]
    old = stacks("logs", "web", "--since", "bogus", build="web/main")
    assert old.returncode == 2 and "--since 'bogus'" in old.stderr


def test_down_deletes_the_service_before_the_app_stack(stacks: Dockyard,
                                                       account: Account) -> None:
    push(account, "v1")
    assert stacks("deploy", "web", "--image", "v1", build="web/main").returncode == 0
    done = stacks("down", "--yes")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["service", "web", "deleted"]
    assert lines[1].split()[0] == "acme-app-web"
    assert live(account) is None


def test_following_logs_prints_a_line_ingested_late(stacks: Dockyard, account: Account,
                                                    tmp_path: Path) -> None:
    import select
    import subprocess

    logs = account.client("logs")
    group, stream = "/dockyard/acme/apps/web", "app/web/cccccccc3333"
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName=stream,
                        logEvents=[{"timestamp": now, "message": "first"}])
    follower = subprocess.Popen(
        [*INTERRUPTIBLE_DOCKYARD, "logs", "web", "--follow"], cwd=tmp_path,
        env=account.pipeline_env("web/main", (tmp_path / "dockyard.yml").read_text()),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)

    def next_line() -> str:
        assert follower.stdout is not None
        ready, _, _ = select.select([follower.stdout], [], [], 30)
        return follower.stdout.readline() if ready else ""

    try:
        assert next_line() == "[cccccccc] first\n"
        # The awslogs driver sends in batches: a line stamped a minute ago arrives now.
        logs.put_log_events(logGroupName=group, logStreamName=stream,
                            logEvents=[{"timestamp": now - 60_000, "message": "late"}])
        assert next_line() == "[cccccccc] late\n"
    finally:
        follower.kill()
        follower.wait(timeout=30)


def test_a_missing_app_secret_leads_to_the_command_that_creates_it(stacks: Dockyard,
                                                                  account: Account,
                                                                  tmp_path: Path) -> None:
    """It used to go round in a circle: deploy (exit 1) said to run up, up said the secret
    did not exist. Now each says what to do next, before anything is registered."""
    config = tmp_path / "dockyard.yml"
    config.write_text(config.read_text().replace(
        "    secrets: {}", "    secrets: {API_KEY: acme/web-api-key}", 1))
    v1 = push(account, "v1")
    image = f"{REGISTRY}/acme/web@{v1}"
    create = "aws secretsmanager create-secret --region ap-southeast-2 --name acme/web-api-key"
    for args in (["deploy", "web", "--image", image], ["up", "--yes", "--only", "app-web"]):
        missing = stacks(*args)
        assert missing.returncode == 3, missing.stderr
        assert "apps.web.secrets.API_KEY: the secret acme/web-api-key does not exist in " \
               "ap-southeast-2" in missing.stderr
        assert create in missing.stderr
    as_pipeline = stacks("deploy", "web", "--image", image, build="web/main")
    assert as_pipeline.returncode == 3, as_pipeline.stderr
    assert "does not know the secret acme/web-api-key" in as_pipeline.stderr
    assert create in as_pipeline.stderr, "it may not look, so it names both steps"
    ecs = account.client("ecs")
    assert ecs.list_task_definitions(familyPrefix="acme-web")["taskDefinitionArns"] == []

    account.client("secretsmanager").create_secret(Name="acme/web-api-key", SecretString="k")
    unknown = stacks("deploy", "web", "--image", image)
    assert unknown.returncode == 3, unknown.stderr
    assert "run: dockyard up --only app-web" in unknown.stderr
    assert stacks("up", "--yes", "--only", "app-web").returncode == 0
    done = stacks("deploy", "web", "--image", image)
    assert done.returncode == 0, done.stderr


def physical(account: Account, logical_id: str) -> str:
    """The physical id of a resource of web's app stack."""
    resources = account.client("cloudformation").list_stack_resources(
        StackName="acme-app-web")["StackResourceSummaries"]
    return next(str(r["PhysicalResourceId"]) for r in resources
                if r["LogicalResourceId"] == logical_id)


def open_ports(account: Account) -> set[int]:
    """The ports web's security group admits (from the load balancer), its rules and the
    separate ones alike."""
    (found,) = account.client("ec2").describe_security_groups(
        GroupIds=[physical(account, "SecurityGroup")])["SecurityGroups"]
    return {p["FromPort"] for p in found["IpPermissions"]}


def test_a_port_change_in_the_order_it_gives_has_no_gap(stacks: Dockyard, account: Account,
                                                         tmp_path: Path) -> None:
    """`up` used to move the security group and replace the target group while the tasks
    still listened on the old port: an outage until the next deploy, without a warning."""
    image = f"{REGISTRY}/acme/web@{push(account, 'v1')}"
    assert stacks("deploy", "web", "--image", image).returncode == 0
    def group_arn() -> str:
        return physical(account, "TargetGroup")

    before = group_arn()
    config = tmp_path / "dockyard.yml"
    config.write_text(config.read_text().replace("port: 5001", "port: 8000"))
    warning = "apps.web.port is 8000 in dockyard.yml but web's running tasks listen on 5001"
    diff = stacks("diff")
    assert warning in diff.stderr, diff.stderr
    early = stacks("deploy", "web", "--image", image)
    assert early.returncode == 3 and "dockyard up --only app-web first" in early.stderr

    up = stacks("up", "--yes", "--only", "app-web")
    assert up.returncode == 0, up.stderr
    assert warning in up.stderr
    assert open_ports(account) == {5001, 8000}, "the running tasks stay reachable"
    assert group_arn() == before, "the target group is kept, not replaced"
    moved = stacks("deploy", "web", "--image", image)
    assert moved.returncode == 0, moved.stderr
    service = live(account)
    assert service is not None
    definition = account.client("ecs").describe_task_definition(
        taskDefinition=str(service["taskDefinition"]))["taskDefinition"]
    assert definition["containerDefinitions"][0]["portMappings"][0]["containerPort"] == 8000
    assert service["loadBalancers"] == [{"targetGroupArn": before, "containerName": "web",
                                         "containerPort": 8000}]
    closed = stacks("up", "--yes", "--only", "app-web")
    assert closed.returncode == 0 and warning not in closed.stderr
    assert open_ports(account) == {8000}


def test_diff_shows_what_the_next_deploy_changes_field_by_field(stacks: Dockyard,
                                                                 account: Account,
                                                                 tmp_path: Path) -> None:
    """An edited env, cpu or memory changes no stack (deploys register task definitions), so
    a change set cannot show it; diff compares the running task definition instead."""
    v1 = push(account, "v1")
    first = stacks("diff")
    assert "app web: no service yet; its first `dockyard deploy web --image ...` creates it" \
        in first.stdout
    assert stacks("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v1}").returncode == 0
    same = stacks("diff")
    assert "app web: the next deploy changes nothing but the image" in same.stdout
    config = tmp_path / "dockyard.yml"
    text = config.read_text()
    assert "LOG_LEVEL: info" in text and "cpu: 256" in text and "memory: 512" in text
    config.write_text(text.replace("LOG_LEVEL: info", "LOG_LEVEL: debug\n      FEATURE_X: beta")
                      .replace("cpu: 256", "cpu: 512").replace("memory: 512", "memory: 1024")
                      .replace("    count: 1\n    health_check", "    count: 2\n    health_check"))
    changed = stacks("diff")
    assert changed.returncode == 10, changed.stderr
    assert "app web: the next deploy changes 5 fields of the running service" \
        in changed.stdout
    for line in ("  cpu: 256 \u2192 512", "  memory: 512 \u2192 1024", "  count: 1 \u2192 2",
                 "  env.FEATURE_X: (none) \u2192 beta", "  env.LOG_LEVEL: info \u2192 debug"):
        assert line in changed.stdout, changed.stdout
    assert "1 app would change at the next deploy." in changed.stdout
    document = json.loads(stacks("diff", "-o", "json").stdout)
    assert document["changes"] is True
    (web,) = document["apps"]
    assert {"field": "env.LOG_LEVEL", "before": "info", "after": "debug"} in web["changes"]
    assert document["undeployed"] == []


def test_a_deploy_that_trips_the_error_rate_alarm_is_rolled_back_and_exits_4(
        stacks: Dockyard, account: Account) -> None:
    """The app stack's alarm on its target group (5xx rate) is the deployment's: when it is in
    ALARM while the new revision rolls out, ECS fails the deployment and rolls it back."""
    watch = account.client("cloudwatch")
    (alarm,) = watch.describe_alarms(AlarmNamePrefix="acme-web-")["MetricAlarms"]
    assert alarm["AlarmName"] == "acme-web-error-rate" and alarm["Threshold"] == 5
    assert {m["Id"] for m in alarm["Metrics"]} == {"errors", "requests", "rate"}
    v1, v2 = push(account, "v1"), push(account, "v2")
    first = stacks("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v1}", build="web/main")
    assert first.returncode == 0, first.stderr
    service = live(account)
    assert service is not None
    assert service["deploymentConfiguration"]["alarms"] == {  # type: ignore[index]
        "alarmNames": ["acme-web-error-rate"], "enable": True, "rollback": True}
    watch.set_alarm_state(AlarmName="acme-web-error-rate", StateValue="ALARM",
                          StateReason="Threshold Crossed: 2 datapoints [12.5, 9.8] >= 5.0")
    second = stacks("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v2}", build="web/main")
    assert second.returncode == 4, second.stderr
    assert "alarm(s) acme-web-error-rate in ALARM state" in second.stderr
    after = live(account)
    assert after is not None
    assert image_of(account, str(after["taskDefinition"])) == f"{REGISTRY}/acme/web@{v1}"


def test_a_deploy_without_timeout_says_how_long_it_waits_and_status_wait_follows_one_left_running(
        stacks: Dockyard, account: Account) -> None:
    v1 = push(account, "v1")
    first = stacks("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v1}", build="web/main")
    assert first.returncode == 0, first.stderr
    assert "waiting up to 15 min: a rolling deploy of web takes up to 5 (start 5), and 10 to " \
           "spare" in first.stderr

    push(account, "v2")
    started = stacks("deploy", "web", "--image", "v2", "--no-wait", build="web/main")
    assert started.returncode == 0, started.stderr
    assert "waiting up to" not in started.stderr
    followed = stacks("status", "web", "--wait", "--output", "json", build="web/main")
    assert followed.returncode == 0, followed.stderr
    document = json.loads(followed.stdout)
    assert (document["action"], document["outcome"], document["revision"]) == \
        ("follow", "completed", "acme-web:2")

    push(account, "v3", mark=CRASH)
    crashing = stacks("deploy", "web", "--image", "v3", "--no-wait", build="web/main")
    assert crashing.returncode == 0, crashing.stderr
    verdict = stacks("status", "web", "--wait", build="web/main")
    assert verdict.returncode == 4, verdict.stderr
    assert "deployment of web (acme-web:3) failed" in verdict.stderr

    push(account, "v4", mark=HANG)
    hanging = stacks("deploy", "web", "--image", "v4", "--no-wait", build="web/main")
    assert hanging.returncode == 0, hanging.stderr
    still = stacks("status", "web", "--wait", "--timeout", "3s", build="web/main")
    assert still.returncode == 124, still.stderr
    assert "did not finish" in still.stderr and "status web --wait` follows it" in still.stderr


@pytest.mark.parametrize(("argv", "says"), [
    (["status", "--wait"], "--wait and --timeout follow an app's deployment: give APP"),
    (["status", "web", "--timeout", "5m"], "--timeout needs --wait"),
    (["status", "web", "--wait", "--timeout", "soon"], "--timeout"),
    (["deploy", "nosuch", "--image", "v1", "--timeout", "5m"],
     "APP 'nosuch': dockyard.yml declares no such app"),
    (["status", "nosuch", "--wait"], "APP 'nosuch': dockyard.yml declares no such app"),
])
def test_status_wait_is_refused_without_what_it_needs(dockyard: Dockyard, argv: list[str],
                                                      says: str) -> None:
    done = dockyard(*argv)
    assert done.returncode == 2, done.stderr
    assert says in done.stderr and "Traceback" not in done.stderr


def test_a_second_deploy_is_refused_while_one_is_under_way_or_supersedes_it(
        stacks: Dockyard, account: Account, tmp_path: Path) -> None:
    push(account, "v1")
    assert stacks("deploy", "web", "--image", "v1", build="web/main").returncode == 0
    push(account, "v2", mark=HANG)  # never healthy: under way until something replaces it
    push(account, "v3")
    first = subprocess.Popen(
        [sys.executable, "-m", "dockyard", "deploy", "web", "--image", "v2"], cwd=tmp_path,
        env=account.pipeline_env("web/main", (tmp_path / "dockyard.yml").read_text()),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        service = live(account)
        if service and any(d["status"] == "PRIMARY" and d["rolloutState"] == "IN_PROGRESS"
                           and str(d["taskDefinition"]).endswith(":2")
                           for d in service["deployments"]):  # type: ignore[attr-defined]
            break
        time.sleep(0.1)
    refused = stacks("deploy", "web", "--image", "v3", build="web/main")
    assert refused.returncode == 3, refused.stderr
    assert "error: web has a deployment under way (ecs-svc/" in refused.stderr
    assert "deploy --supersede replaces it" in refused.stderr
    second = stacks("deploy", "web", "--image", "v3", "--supersede", build="web/main")
    _, stderr = first.communicate(timeout=120)
    assert second.returncode == 0, second.stderr
    assert "superseding the deployment under way (ecs-svc/" in second.stderr
    assert first.returncode == 1, stderr
    assert "did not finish: superseded by deployment ecs-svc/" in stderr, stderr
    service = live(account)
    assert service is not None and str(service["taskDefinition"]).endswith(":3"), \
        "v3 runs, as revision 3: the refused attempt registered nothing"


def test_an_image_with_critical_findings_is_deployed_with_a_warning_or_refused(
        stacks: Dockyard, account: Account, tmp_path: Path) -> None:
    """ECR scans each push (scanOnPush); deploy reads the scan, as the pipeline's role."""
    from devtools.scans import CRITICAL_CVE

    clean = push(account, "clean")
    done = stacks("deploy", "web", "--image", "clean", build="web/main")
    assert done.returncode == 0, done.stderr
    assert "CRITICAL" not in done.stderr
    vulnerable = push(account, "vulnerable", mark=CRITICAL_CVE)
    warned = stacks("deploy", "web", "--image", "vulnerable", build="web/main")
    assert warned.returncode == 0, warned.stderr
    assert "warning: ECR's scan found 1 CRITICAL vulnerability in this image" in warned.stderr
    assert f"--image-id imageDigest={vulnerable}" in warned.stderr

    config = tmp_path / "dockyard.yml"
    config.write_text(config.read_text().replace(
        "      strategy: rolling", "      critical_findings: refuse\n      strategy: rolling", 1))
    assert "critical_findings: refuse" in config.read_text()
    back = stacks("deploy", "web", "--image", "clean", build="web/main")
    assert back.returncode == 0, back.stderr
    refused = stacks("deploy", "web", "--image", "vulnerable", build="web/main")
    assert refused.returncode == 3, refused.stderr
    assert "apps.web.deploy.critical_findings is refuse" in refused.stderr
    service = live(account)
    assert service is not None
    assert image_of(account, str(service["taskDefinition"])) == f"{REGISTRY}/acme/web@{clean}"
