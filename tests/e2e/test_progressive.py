"""Blue-green, canary and linear deploys: the real CLI, as the Jenkins agents' role, against the
strict emulator, whose ECS plays the strategies' lifecycle stages (devtools/ecs) and
moves the app stack's listener rule weights as ECS's infrastructure role would."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from devtools.ecs import HANG

from dockyard.deploy.stages import STAGES
from tests.cli.test_json_output import documented
from tests.conftest import INTERRUPTIBLE_DOCKYARD
from tests.e2e.conftest import Account, Dockyard
from tests.e2e.test_deploy import REGISTRY, image_of, live, push

SMOKE_OK = "echo smoke testing $DOCKYARD_TEST_URL; exit 0"


def _progressive(dockyard: Dockyard, account: Account, where: Path, *,
                 smoke: str | None = SMOKE_OK, step: str = "25", bake: int = 2) -> str:
    """dockyard.yml (in ``where``) with web on canary (12.5% first, baked ``bake`` minutes), linear
    steps of ``step``% (1 minute each), a final bake of 1 minute, and a smoke test (unless
    None); then the stacks deployed, and v1 running.
    Returns v1."""
    path = where / "dockyard.yml"
    text = path.read_text()
    block = ("      strategy: canary\n      canary_percent: 12.5\n"
             f"      canary_bake_minutes: {bake}\n"
             f"      step_percent: {step}\n      step_bake_minutes: 1\n      bake_minutes: 1\n"
             + (f"      smoke_test: {json.dumps(smoke)}\n" if smoke else ""))
    assert "      strategy: rolling" in text
    path.write_text(text.replace("      strategy: rolling", block.rstrip("\n"), 1))
    done = dockyard("up", "--yes", "--only", "builder", "--only", "edge", "--only", "app-web")
    assert done.returncode == 0, done.stderr
    v1 = f"{REGISTRY}/acme/web@{push(account, 'v1')}"
    first = dockyard("deploy", "web", "--image", v1, build="web/main")
    assert first.returncode == 0, first.stderr
    return v1


def _outputs(account: Account) -> dict[str, str]:
    (stack,) = account.client("cloudformation").describe_stacks(
        StackName="acme-app-web")["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


def _weights(account: Account, rule: str) -> dict[str, int]:
    """The rule's forward weights, by target group output name."""
    outputs = _outputs(account)
    names = {outputs["TargetGroupArn"]: "blue", outputs["AlternateTargetGroupArn"]: "green"}
    (found,) = account.client("elbv2").describe_rules(RuleArns=[outputs[rule]])["Rules"]
    (action,) = found["Actions"]
    return {names[g["TargetGroupArn"]]: g["Weight"]
            for g in action["ForwardConfig"]["TargetGroups"]}


def _stages(stderr: str) -> list[str]:
    return [line.split("stage ", 1)[1].split(":")[0] for line in stderr.splitlines()
            if "stage " in line and ":" in line.split("stage ", 1)[1]]


def test_a_canary_deploy_is_reported_stage_by_stage_and_up_keeps_the_live_weights(
        dockyard: Dockyard, account: Account, tmp_path: Path) -> None:
    _progressive(dockyard, account, tmp_path)
    assert _weights(account, "ProductionRuleArn") == {"blue": 100, "green": 0}
    v2 = push(account, "v2")
    done = dockyard("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v2}", "--events",
                    build="web/main")
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    typed = [e for e in events if e["event"] in ("stage", "traffic", "hook", "status")]
    for event in events[:-1]:  # each with the fields docs/output.md lists for it
        assert list(event) == documented()[event["event"]], event
    seen = [e["stage"] for e in typed if e["event"] == "stage"]
    # Each stage seen once, in ECS's order; a stage shorter than a poll may pass unseen (as on
    # AWS), those that last minutes never do.
    assert seen == [s for s in STAGES if s in seen], seen
    assert len(seen) >= 5 and {"POST_TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT",
                               "BAKE_TIME"} <= set(seen), seen
    assert [e["production_percent"] for e in typed if e["event"] == "traffic"] == [12.5, 100]
    hooks = [(e["stage"], e["hook_status"]) for e in typed if e["event"] == "hook"]
    assert hooks[0] == ("POST_TEST_TRAFFIC_SHIFT", "AWAITING_ACTION"), hooks
    assert [status for _, status in hooks] == ["AWAITING_ACTION", "SUCCEEDED"], hooks
    assert len({e["deployment_arn"] for e in typed}) == 1, "one deployment's events"
    notes = [e.get("message", "") for e in events if e["event"] == "note"]
    assert "smoke test passed (`echo smoke testing $DOCKYARD_TEST_URL; exit 0` exited 0); " \
           "continuing" in notes
    assert "smoke testing https://web.example.com" in [
        e.get("line") for e in events if e["event"] == "line"], "the smoke task's own line"
    assert events[-1]["event"] == "summary" and events[-1]["outcome"] == "completed"
    service = live(account)
    assert service is not None
    assert image_of(account, str(service["taskDefinition"])) == f"{REGISTRY}/acme/web@{v2}"
    assert _weights(account, "ProductionRuleArn") == {"blue": 0, "green": 100}
    # The app stack's next update keeps production where ECS left it.
    again = dockyard("up", "--yes", "--only", "app-web")
    assert again.returncode == 0, again.stderr
    assert _weights(account, "ProductionRuleArn") == {"blue": 0, "green": 100}


def test_a_canary_stopped_by_its_alarm_exits_4_and_leaves_traffic_on_the_old_revision(
        dockyard: Dockyard, account: Account, tmp_path: Path) -> None:
    v1 = _progressive(dockyard, account, tmp_path)
    account.client("cloudwatch").set_alarm_state(
        AlarmName="acme-web-error-rate", StateValue="ALARM",
        StateReason="Threshold Crossed: 2 datapoints [31.0, 27.5] >= 5.0")
    v2 = push(account, "v2")
    done = dockyard("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v2}", "--events",
                    build="web/main")
    assert done.returncode == 4, done.stderr
    assert "alarm(s) acme-web-error-rate in ALARM state" in done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    statuses = [e["status"] for e in events if e.get("event") == "status"]
    assert "ROLLBACK_IN_PROGRESS" in statuses, events
    assert all(e["reason"] == "alarm(s) acme-web-error-rate in ALARM state"
               for e in events if e.get("event") == "status")
    assert events[-1]["event"] == "summary"
    service = live(account)
    assert service is not None
    assert image_of(account, str(service["taskDefinition"])) == v1
    assert _weights(account, "ProductionRuleArn") == {"blue": 100, "green": 0}


def test_a_failing_smoke_test_rolls_back_before_production_traffic_moves(
        dockyard: Dockyard, account: Account, tmp_path: Path) -> None:
    _progressive(dockyard, account, tmp_path)
    path = tmp_path / "dockyard.yml"  # the smoke test is the deploy's, not the stack's
    path.write_text(path.read_text().replace(json.dumps(SMOKE_OK), json.dumps(
        "echo checking the test endpoint; exit 7")))
    v2 = push(account, "v2")
    done = dockyard("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v2}", build="web/main")
    assert done.returncode == 4, done.stderr
    assert "smoke test failed: `echo checking the test endpoint; exit 7` exited 7" in done.stderr
    assert "PRODUCTION_TRAFFIC_SHIFT" not in _stages(done.stderr)
    assert _weights(account, "ProductionRuleArn") == {"blue": 100, "green": 0}
    assert _weights(account, "TestRuleArn") == {"blue": 100, "green": 0}


@pytest.mark.parametrize(("strategy", "shifts"), [
    ("blue-green", ["100% on the new revision"]),
    ("linear", ["25% on the new revision", "50% on the new revision",
                "75% on the new revision", "100% on the new revision"]),
])
def test_a_one_time_strategy_moves_traffic_its_own_way(
        dockyard: Dockyard, account: Account, tmp_path: Path, strategy: str,
        shifts: list[str]) -> None:
    _progressive(dockyard, account, tmp_path)
    v2 = push(account, "v2")
    done = dockyard("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v2}", "--strategy",
                    strategy, build="web/main")
    assert done.returncode == 0, done.stderr
    assert f"{strategy} deployment: following it stage by stage" in done.stderr
    assert [line.split("production traffic: ")[1] for line in done.stderr.splitlines()
            if "production traffic: " in line] == shifts
    service = account.client("ecs").describe_services(cluster="acme", services=["web"])
    settings = service["services"][0]["deploymentConfiguration"]
    assert settings["strategy"] == strategy.upper().replace("-", "_")


def test_status_shows_the_stage_of_a_deployment_under_way_and_wait_follows_it_to_its_end(
        dockyard: Dockyard, account: Account, tmp_path: Path) -> None:
    _progressive(dockyard, account, tmp_path, smoke=None)
    path = tmp_path / "dockyard.yml"  # a bake long enough to look at it a few times
    path.write_text(path.read_text().replace("      bake_minutes: 1", "      bake_minutes: 20"))
    v2 = push(account, "v2")
    started = dockyard("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v2}", "--no-wait",
                       build="web/main")
    assert started.returncode == 0, started.stderr
    stages = []
    for _ in range(4):  # DescribeServices may show the service as it was (eventual consistency)
        shown = dockyard("status", "web", build="web/main")
        assert shown.returncode == 0, shown.stderr
        stages = [line for line in shown.stdout.splitlines() if line.startswith("Stage")]
        if stages:
            break
    (stage,) = stages
    assert stage.split()[1] in STAGES, stage
    assert f"({STAGES[stage.split()[1]]})" in stage
    document = json.loads(dockyard("status", "web", "--output", "json", build="web/main").stdout)
    assert document["service"]["ongoing"]["status"] == "IN_PROGRESS"
    assert document["service"]["ongoing"]["stage"] in STAGES
    followed = dockyard("status", "web", "--wait", build="web/main")
    assert followed.returncode == 0, followed.stderr
    assert "outcome      completed" in followed.stdout
    assert _weights(account, "ProductionRuleArn") == {"blue": 0, "green": 100}


def test_no_wait_with_a_smoke_test_is_refused_before_anything_changes(
        dockyard: Dockyard, account: Account, tmp_path: Path) -> None:
    v1 = _progressive(dockyard, account, tmp_path)
    families = account.client("ecs").list_task_definitions(familyPrefix="acme-web")
    v2 = push(account, "v2")
    refused = dockyard("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v2}", "--no-wait",
                       build="web/main")
    assert refused.returncode == 2, refused.stderr
    assert "--no-wait: apps.web.deploy.smoke_test is set" in refused.stderr
    assert "ECS would roll it back after 15 min" in refused.stderr
    assert account.client("ecs").list_task_definitions(familyPrefix="acme-web") \
        ["taskDefinitionArns"] == families["taskDefinitionArns"], "nothing registered"
    service = live(account)
    assert service is not None
    assert image_of(account, str(service["taskDefinition"])) == v1
    back = dockyard("rollback", "web", "--no-wait", build="web/main")
    assert back.returncode == 2 and "--no-wait: apps.web.deploy.smoke_test" in back.stderr
    rolling = dockyard("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v2}", "--no-wait",
                       "--strategy", "rolling", build="web/main")
    assert rolling.returncode == 0, "a rolling deploy has no hook to leave unanswered"


def test_the_first_deployment_of_a_progressive_service_answers_its_hook(
        dockyard: Dockyard, account: Account, tmp_path: Path) -> None:
    path = tmp_path / "dockyard.yml"
    path.write_text(path.read_text().replace(
        "      strategy: rolling",
        f"      strategy: blue-green\n      smoke_test: {json.dumps(SMOKE_OK)}", 1))
    done = dockyard("up", "--yes", "--only", "builder", "--only", "edge", "--only", "app-web")
    assert done.returncode == 0, done.stderr
    v1 = f"{REGISTRY}/acme/web@{push(account, 'v1')}"
    first = dockyard("deploy", "web", "--image", v1, build="web/main")
    assert first.returncode == 0, first.stderr
    assert "POST_TEST_TRAFFIC_SHIFT" in first.stderr, "followed stage by stage"
    assert "smoke test passed" in first.stderr, "the hook ECS paused at was answered"
    assert "outcome      completed" in first.stdout
    (entry,) = account.client("ecs").list_service_deployments(
        cluster="acme", service="web")["serviceDeployments"]
    assert entry["status"] == "SUCCESSFUL"
    assert _weights(account, "ProductionRuleArn") == {"blue": 100, "green": 0}


def test_a_progressive_deploy_on_a_rolling_stack_is_refused_before_anything_changes(
        dockyard: Dockyard, account: Account) -> None:
    done = dockyard("up", "--yes", "--only", "builder", "--only", "edge", "--only", "app-web")
    assert done.returncode == 0, done.stderr
    refused = dockyard("deploy", "web", "--image", f"{REGISTRY}/acme/web@{push(account, 'v1')}",
                       "--strategy", "canary", build="web/main")
    assert refused.returncode == 3, refused.stderr
    assert "a canary deploy needs the second target group" in refused.stderr
    assert "dockyard up --only app-web" in refused.stderr
    assert live(account) is None, "no service was created"
    families = account.client("ecs").list_task_definitions(familyPrefix="acme-web")
    assert families["taskDefinitionArns"] == [], "no revision was registered"


def test_diff_settles_after_a_progressive_deploy(
        dockyard: Dockyard, account: Account, tmp_path: Path) -> None:
    _progressive(dockyard, account, tmp_path, smoke=None)
    v2 = push(account, "v2")
    done = dockyard("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v2}", build="web/main")
    assert done.returncode == 0, done.stderr
    up = dockyard("up", "--yes", "--only", "builder", "--only", "edge", "--only", "app-web")
    assert up.returncode == 0, up.stderr
    # ECS moved the rules' weights; `up` carried them into the stack's parameters; after
    # that, nothing is left to change (CloudFormation: the executed change set's parameters
    # are the stack's). The jenkins stack is not deployed in this test.
    diff = dockyard("diff", "--output", "json")
    stacks = {s["key"]: s for s in json.loads(diff.stdout)["stacks"]}
    assert {k: s["action"] for k, s in stacks.items()} == {
        "builder": "none", "edge": "none", "jenkins": "create", "app-web": "none"}
    assert json.loads(diff.stdout)["apps"] == [{"app": "web", "changes": []}]


def test_the_test_rule_wants_a_random_header_only_the_smoke_task_is_told(
        dockyard: Dockyard, account: Account, tmp_path: Path) -> None:
    _progressive(dockyard, account, tmp_path, smoke="echo header $DOCKYARD_TEST_HEADER; exit 0")
    outputs = _outputs(account)
    (rule,) = account.client("elbv2").describe_rules(RuleArns=[outputs["TestRuleArn"]])["Rules"]
    (values,) = [c["HttpHeaderConfig"]["Values"] for c in rule["Conditions"]
                 if c["Field"] == "http-header"]
    (value,) = values
    assert len(value) == 40 and value != "web", "not a value anyone could guess"
    v2 = push(account, "v2")
    done = dockyard("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v2}", build="web/main")
    assert done.returncode == 0, done.stderr
    # The smoke task was told it (its echo ran with it), and dockyard does not repeat it.
    assert "header X-Dockyard-Test: ****" in done.stderr and value not in done.stderr
    (stream,) = [s["logStreamName"] for s in account.client("logs").describe_log_streams(
        logGroupName=_outputs(account)["LogGroupName"])["logStreams"]
        if s["logStreamName"].startswith("run/")][-1:]
    lines = account.client("logs").get_log_events(
        logGroupName=_outputs(account)["LogGroupName"], logStreamName=stream)["events"]
    assert any(f"header X-Dockyard-Test: {value}" == e["message"] for e in lines)
    ecs = account.client("ecs")
    for arn in ecs.list_task_definitions(familyPrefix="acme-web")["taskDefinitionArns"]:
        definition = json.dumps(ecs.describe_task_definition(taskDefinition=arn))
        assert value not in definition, f"{arn} would tell it to anyone who reads it"
    again = dockyard("up", "--yes", "--only", "app-web", "--output", "json")
    assert again.returncode == 0, again.stderr
    assert _outputs(account)["TestHeaderValue"] == value, "up keeps the live value"
    assert value not in again.stdout + again.stderr, "and does not print it, in JSON either"


@pytest.mark.parametrize("fault", ["cut", "lost"])
def test_a_lost_reply_to_the_hook_answer_is_read_back_not_a_failure(
        dockyard: Dockyard, account: Account, tmp_path: Path, fault: str) -> None:
    """The answer reached ECS but its reply did not reach dockyard; the SDK's retry is
    refused (the hook no longer awaits action). The deployment is read back instead of
    exiting 1 while it goes on to production."""
    _progressive(dockyard, account, tmp_path)
    account.emulator.profile.answer_fault_once["ContinueServiceDeployment"] = fault
    v2 = push(account, "v2")
    done = dockyard("deploy", "web", "--image", f"{REGISTRY}/acme/web@{v2}", build="web/main")
    assert "ContinueServiceDeployment" not in account.emulator.profile.answer_fault_once, \
        "the fault was played"
    assert done.returncode == 0, done.stderr
    assert "the answer CONTINUE reached ECS (its reply was lost" in done.stderr
    assert "outcome      completed" in done.stdout
    assert _weights(account, "ProductionRuleArn") == {"blue": 0, "green": 100}


def _one_offs(account: Account) -> set[str]:
    """The running tasks `dockyard run` (and a smoke test) started."""
    ecs = account.client("ecs")
    arns = ecs.list_tasks(cluster="acme", desiredStatus="RUNNING")["taskArns"]
    tasks = ecs.describe_tasks(cluster="acme", tasks=arns, include=["TAGS"])["tasks"] \
        if arns else []
    return {t["taskArn"] for t in tasks
            if any(tag["key"] == "dockyard:run" for tag in t.get("tags", []))}


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)],
                         ids=["SIGTERM", "Ctrl-C"])
def test_a_signal_during_the_smoke_test_stops_it_answers_the_hook_and_exits_128_plus_it(
        dockyard: Dockyard, account: Account, tmp_path: Path, signum: int, code: int) -> None:
    _progressive(dockyard, account, tmp_path)
    path = tmp_path / "dockyard.yml"
    path.write_text(path.read_text().replace(json.dumps(SMOKE_OK), json.dumps(
        "echo smoke started; sleep 300")))  # 10 s of wall time: signalled long before its end
    v2 = push(account, "v2")
    ecs = account.client("ecs")
    before = {arn for status in ("RUNNING", "STOPPED")
              for arn in ecs.list_tasks(cluster="acme", desiredStatus=status)["taskArns"]}
    process = subprocess.Popen(
        [*INTERRUPTIBLE_DOCKYARD, "deploy", "web", "--image", f"{REGISTRY}/acme/web@{v2}"],
        cwd=tmp_path, env=account.pipeline_env("web/main", path.read_text()),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not _one_offs(account) - before:
        time.sleep(0.2)
    smoke_tasks = _one_offs(account) - before  # not the new revision's service tasks
    time.sleep(1)  # the smoke task is running: let the deploy follow it
    assert smoke_tasks, "the smoke task started"
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == code, stderr
    assert "stopped during the smoke test" in stderr
    assert "answered the hook ROLLBACK" in stderr
    assert "smoke test failed" not in stderr, "a cancel is not a failed test"
    stopped = ecs.describe_tasks(cluster="acme", tasks=sorted(smoke_tasks))["tasks"]
    assert {t["desiredStatus"] for t in stopped} == {"STOPPED"}, "the smoke task was stopped"
    (latest, *_) = ecs.list_service_deployments(cluster="acme", service="web")[
        "serviceDeployments"]
    (record,) = ecs.describe_service_deployments(
        serviceDeploymentArns=[latest["serviceDeploymentArn"]])["serviceDeployments"]
    assert [h["status"] for h in record["lifecycleHookDetails"]] == ["FAILED"], \
        "the hook was answered ROLLBACK: nothing is left paused"
    assert record["status"] in ("ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL"), record
    assert _weights(account, "ProductionRuleArn") == {"blue": 100, "green": 0}


def test_ctrl_c_before_the_smoke_stage_rolls_the_deployment_back(
        dockyard: Dockyard, account: Account, tmp_path: Path) -> None:
    _progressive(dockyard, account, tmp_path)
    slow = push(account, "slow", mark=HANG)  # never healthy: held at SCALE_UP
    path = tmp_path / "dockyard.yml"
    process = subprocess.Popen(
        [*INTERRUPTIBLE_DOCKYARD, "deploy", "web", "--image", f"{REGISTRY}/acme/web@{slow}"],
        cwd=tmp_path, env=account.pipeline_env("web/main", path.read_text()),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(
            d["status"] == "IN_PROGRESS" for d in account.client("ecs").list_service_deployments(
                cluster="acme", service="web")["serviceDeployments"]):
        time.sleep(0.3)
    time.sleep(2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "stopped before web's smoke test ran; asked ECS to roll the deployment back " \
           "(StopServiceDeployment): production stays on the old revision, nothing is left " \
           "paused" in stderr
    ecs = account.client("ecs")
    (latest, *_) = ecs.list_service_deployments(cluster="acme", service="web")[
        "serviceDeployments"]
    assert latest["status"] in ("ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL"), latest
    assert _weights(account, "ProductionRuleArn") == {"blue": 100, "green": 0}


class Requests:
    """Requests sent to the app all along, as the load balancer would answer them: each
    sample reads the production rule and the health of the target groups it forwards to; a
    share of the requests goes to each group by its weight, and a group with no healthy target
    answers 503."""

    def __init__(self, account: Account) -> None:
        import threading

        outputs = _outputs(account)
        self.rule = outputs["ProductionRuleArn"]
        self.names = {outputs["TargetGroupArn"]: "blue",
                      outputs["AlternateTargetGroupArn"]: "green"}
        self.elb = account.client("elbv2")
        self.answered = self.refused = 0
        self.refusals: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> Requests:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(0.02):
            (rule,) = self.elb.describe_rules(RuleArns=[self.rule])["Rules"]
            for group in rule["Actions"][0]["ForwardConfig"]["TargetGroups"]:
                if not group["Weight"]:
                    continue
                health = self.elb.describe_target_health(
                    TargetGroupArn=group["TargetGroupArn"])["TargetHealthDescriptions"]
                if any(h["TargetHealth"]["State"] == "healthy" for h in health):
                    self.answered += group["Weight"]
                else:
                    self.refused += group["Weight"]
                    self.refusals.append(f"{self.names[group['TargetGroupArn']]} has no "
                                         f"healthy target at weight {group['Weight']}")


def test_blue_green_then_rolling_then_blue_green_keeps_every_request_answered(
        dockyard: Dockyard, account: Account, tmp_path: Path) -> None:
    _progressive(dockyard, account, tmp_path, smoke=None)
    steps = []
    with Requests(account) as requests:
        for tag, strategy in (("v2", "blue-green"), ("v3", "rolling"), ("v4", "blue-green")):
            image = f"{REGISTRY}/acme/web@{push(account, tag)}"
            done = dockyard("deploy", "web", "--image", image, "--strategy", strategy,
                            build="web/main")
            assert done.returncode == 0, done.stderr
            steps.append((strategy, _weights(account, "ProductionRuleArn"), done.stderr))
    print("\n".join(f"{strategy}: production rule {weights}" for strategy, weights, _ in steps))
    assert requests.refused == 0, requests.refusals[:5]
    assert requests.answered > 100 * 50, "sampled all along (every 20 ms)"
    assert [weights for _, weights, _ in steps] == [
        {"blue": 0, "green": 100}, {"blue": 0, "green": 100}, {"blue": 100, "green": 0}]
    assert "production is on acme-app-web-Altern" in steps[1][2] and "alternate target group" \
        in steps[1][2], "the rolling deploy was given the group production is on"


def test_up_will_not_make_a_stack_rolling_while_production_is_on_its_alternate_group(
        dockyard: Dockyard, account: Account, tmp_path: Path) -> None:
    _progressive(dockyard, account, tmp_path, smoke=None)
    v2 = f"{REGISTRY}/acme/web@{push(account, 'v2')}"
    assert dockyard("deploy", "web", "--image", v2, build="web/main").returncode == 0
    assert _weights(account, "ProductionRuleArn") == {"blue": 0, "green": 100}
    path = tmp_path / "dockyard.yml"
    # rolling, without the knobs only progressive strategies use (dockyard.yml refuses them)
    text = re.sub(r"      (canary_|step_|bake_minutes|smoke_).*\n", "",
                  path.read_text().replace("      strategy: canary", "      strategy: rolling"))
    path.write_text(text)
    refused = dockyard("up", "--yes", "--only", "app-web")
    assert refused.returncode == 2, refused.stderr
    assert "error: apps.web.deploy.strategy: rolling would send web's traffic to the app " \
           "stack's first target group, but production is on its alternate one" in refused.stderr
    assert "dockyard deploy web --image <the running image> --strategy blue-green" \
        in refused.stderr
    assert "AlternateTargetGroupArn" in _outputs(account), "the stack was left as it was"
    moved = dockyard("deploy", "web", "--image", v2, "--strategy", "blue-green",
                     build="web/main")
    assert moved.returncode == 0, moved.stderr
    assert _weights(account, "ProductionRuleArn") == {"blue": 100, "green": 0}
    done = dockyard("up", "--yes", "--only", "app-web")
    assert done.returncode == 0, done.stderr
    outputs = _outputs(account)
    assert "AlternateTargetGroupArn" not in outputs
    health = account.client("elbv2").describe_target_health(
        TargetGroupArn=outputs["TargetGroupArn"])["TargetHealthDescriptions"]
    assert [h["TargetHealth"]["State"] for h in health] == ["healthy"], "production has tasks"


def test_up_waits_for_no_deployment_and_never_writes_back_weights_ecs_has_moved(
        dockyard: Dockyard, account: Account, tmp_path: Path) -> None:
    # A bake long enough (30 s of the wall's time) that the deployment is surely still under
    # way when `up` looks, however slowly a loaded machine starts the process.
    _progressive(dockyard, account, tmp_path, smoke=None, bake=15)
    v2 = f"{REGISTRY}/acme/web@{push(account, 'v2')}"
    started = dockyard("deploy", "web", "--image", v2, "--no-wait", build="web/main")
    assert started.returncode == 0, started.stderr
    refused = dockyard("up", "--yes", "--only", "app-web")
    assert refused.returncode == 3, refused.stderr
    assert "acme-app-web: a deployment of web is under way (IN_PROGRESS" in refused.stderr
    assert "dockyard status web --wait follows it to its end" in refused.stderr
    followed = dockyard("status", "web", "--wait", build="web/main")
    assert followed.returncode == 0, followed.stderr
    assert _weights(account, "ProductionRuleArn") == {"blue": 0, "green": 100}
    again = dockyard("up", "--yes", "--only", "app-web")
    assert again.returncode == 0, again.stderr
    assert _weights(account, "ProductionRuleArn") == {"blue": 0, "green": 100}, \
        "the weights as ECS left them"
