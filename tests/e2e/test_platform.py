"""``up`` / ``diff`` / ``status`` / ``down``: the real CLI against a moto server."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from devtools import moto_server

from tests.conftest import INTERRUPTIBLE_DOCKYARD
from tests.e2e.conftest import Account, Dockyard

STACKS = ["acme-builder", "acme-edge", "acme-jenkins", "acme-app-web"]


def has_row(text: str, *cells: str) -> bool:
    """Whether a line of aligned columns reads ``cells`` (whatever the padding)."""
    words = [w for c in cells for w in c.split()]
    return any(line.split()[:len(words)] == words for line in text.splitlines())


def physical_ids(account: Account) -> dict[str, list[str]]:
    cfn = account.client("cloudformation")
    return {name: sorted(r.get("PhysicalResourceId", "") for r in
                         cfn.list_stack_resources(StackName=name)["StackResourceSummaries"])
            for name in STACKS}


def controller_image(account: Account) -> str:
    ecs = account.client("ecs")
    (service,) = ecs.describe_services(cluster="acme", services=["jenkins"])["services"]
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])
    return str(definition["taskDefinition"]["containerDefinitions"][0]["image"])


def live_stacks(account: Account) -> dict[str, str]:
    cfn = account.client("cloudformation")
    return {s["StackName"]: s["StackStatus"] for s in cfn.describe_stacks()["Stacks"]}


def test_up_creates_every_stack_and_a_second_up_changes_nothing(dockyard: Dockyard,
                                                                account: Account) -> None:
    first = dockyard("up", "--yes", "--no-wait-jenkins")
    assert first.returncode == 0, first.stderr
    for name in STACKS:
        assert has_row(first.stdout, name, "created", "CREATE_COMPLETE")
    assert "https://jenkins.example.com/" in first.stdout
    assert live_stacks(account) == dict.fromkeys(STACKS, "CREATE_COMPLETE")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in account.client("cloudformation")
               .describe_stacks(StackName="acme-jenkins")["Stacks"][0]["Outputs"]}
    assert outputs["Url"] == "https://jenkins.example.com/"
    tags = account.client("cloudformation").describe_stacks(StackName="acme-edge")["Stacks"][0]
    assert {"Key": "dockyard:name", "Value": "acme"} in tags["Tags"]
    before = physical_ids(account)
    assert account.kaniko is not None
    built = [h["command"] for h in account.kaniko.handled]
    assert sorted({d.split("/", 1)[1].split(":")[0] for c in built for d in c
                   if d.startswith("--destination=")}) == ["acme/jenkins-agent",
                                                           "acme/jenkins-controller"]
    controller = controller_image(account)
    repository, digest = controller.split("@")
    assert repository.endswith("/acme/jenkins-controller")
    tagged = account.client("ecr").describe_images(repositoryName="acme/jenkins-controller")
    assert {d["imageDigest"] for d in tagged["imageDetails"]} == {digest}
    assert any(t.startswith("ctx-") for t in tagged["imageDetails"][0]["imageTags"])
    # kaniko of the platform writes the layer cache it is given (its role may push there).
    assert "Error uploading layer to cache" not in first.stderr
    for cache in ("acme/jenkins-controller-cache", "acme/jenkins-agent-cache"):
        assert account.client("ecr").describe_images(repositoryName=cache)["imageDetails"]

    second = dockyard("up", "--yes", "--no-wait-jenkins")
    assert second.returncode == 0, second.stderr
    for name in STACKS:
        assert has_row(second.stdout, name, "no changes")
    assert physical_ids(account) == before
    assert live_stacks(account) == dict.fromkeys(STACKS, "CREATE_COMPLETE")
    assert len(account.kaniko.handled) == 2, "the second up builds nothing"
    assert "jenkins-controller: unchanged" in second.stderr
    assert controller_image(account) == controller


def test_the_agent_pool_runs_the_configured_count_and_resizes(dockyard: Dockyard,
                                                             account: Account) -> None:
    assert dockyard("up", "--yes", "--no-wait-jenkins").returncode == 0
    ecs = account.client("ecs")
    (pool,) = ecs.describe_services(cluster="acme", services=["jenkins-agents"])["services"]
    assert pool["desiredCount"] == 1  # (moto's CloudFormation drops the capacity provider
    # strategy; tests/templates/test_security.py reads it from the template)
    definition = ecs.describe_task_definition(taskDefinition=pool["taskDefinition"])
    (agent,) = definition["taskDefinition"]["containerDefinitions"]
    assert agent["image"].split("@")[0].endswith("/acme/jenkins-agent")
    assert agent["secrets"][0]["name"] == "JENKINS_AGENT_PASSWORD"
    password = account.client("secretsmanager").get_secret_value(
        SecretId=agent["secrets"][0]["valueFrom"])["SecretString"]
    assert password not in json.dumps(definition)

    shown = dockyard("jenkins", "agents", "-o", "json")
    assert shown.returncode == 0, shown.stderr
    assert [(p["service"], p["desired"]) for p in json.loads(shown.stdout)["pools"]] == [
        ("jenkins-agents", 1), ("jenkins-agents-trusted", 1)]
    resized = dockyard("jenkins", "agents", "0")
    assert resized.returncode == 0, resized.stderr
    assert "untrusted pool: 0 of 0 agents running (dockyard.yml says 1; the next `up` sets " \
        "that)" in resized.stdout
    trusted = dockyard("jenkins", "agents", "--trusted", "2", "--no-wait", "-o", "json")
    assert trusted.returncode == 0, trusted.stderr
    assert json.loads(trusted.stdout)["service"] == "jenkins-agents-trusted"
    (pool,) = ecs.describe_services(cluster="acme", services=["jenkins-agents"])["services"]
    assert pool["desiredCount"] == 0
    refused = dockyard("jenkins", "agents", "101")
    assert refused.returncode == 2 and "101 is not in the range 0-100" in refused.stderr
    assert dockyard("up", "--yes", "--no-wait-jenkins").returncode == 0
    pools = ecs.describe_services(cluster="acme",
                                  services=["jenkins-agents", "jenkins-agents-trusted"])["services"]
    assert [p["desiredCount"] for p in pools] == [1, 1], "up sets dockyard.yml's counts again"


def test_diff_shows_a_change_and_exits_10(dockyard: Dockyard, account: Account,
                                          tmp_path: Path) -> None:
    assert dockyard("up", "--yes", "--no-wait-jenkins").returncode == 0
    same = dockyard("diff")
    assert same.returncode == 0, same.stderr
    assert "Nothing would change." in same.stdout

    config = tmp_path / "dockyard.yml"
    config.write_text(config.read_text().replace("port: 5001", "port: 8000"))
    changed = dockyard("diff")
    assert changed.returncode == 10, changed.stderr
    assert "acme-app-web: would change" in changed.stdout
    # The security group's rule, as deployed -> as `up` would deploy it; the target groups
    # keep the port they were created with (changing it would replace them).
    assert "~ modify   SecurityGroup" in changed.stdout, changed.stdout
    assert "TargetGroup" not in changed.stdout
    assert "acme-jenkins: no changes" in changed.stdout
    document = json.loads(dockyard("diff", "--output", "json").stdout)
    assert document["changes"] is True
    web = next(s for s in document["stacks"] if s["key"] == "app-web")
    assert {c["resource"] for c in web["changes"]} == {"SecurityGroup", "LoadBalancerToApp"}
    cfn = account.client("cloudformation")
    pending = [c for c in cfn.list_change_sets(StackName="acme-app-web")["Summaries"]
               if c.get("ExecutionStatus") == "AVAILABLE"]
    assert pending == [], "diff deletes its change sets"
    assert live_stacks(account)["acme-app-web"] == "CREATE_COMPLETE", "diff changes nothing"


def test_status_prints_the_outputs_and_the_kept_data(dockyard: Dockyard) -> None:
    assert dockyard("up", "--yes", "--no-wait-jenkins").returncode == 0
    shown = dockyard("status")
    assert shown.returncode == 0, shown.stderr
    assert has_row(shown.stdout, "acme-jenkins", "CREATE_COMPLETE")
    assert has_row(shown.stdout, "jenkins", "https://jenkins.example.com/")
    assert "ECR acme/web " in shown.stdout
    assert "acme-jenkins-home" in shown.stdout
    document = json.loads(dockyard("status", "--output", "json").stdout)
    assert document["endpoints"] == {"jenkins": "https://jenkins.example.com/",
                                     "app-web": "https://web.example.com/"}
    assert len(document["repositories"]) == 6
    assert len(document["file_systems"]) == 1


@pytest.mark.long
def test_down_keeps_efs_and_ecr_then_up_adopts_them_and_purge_removes_them(
        dockyard: Dockyard, account: Account) -> None:
    assert dockyard("up", "--yes", "--no-wait-jenkins").returncode == 0
    efs = account.client("efs")
    (home,) = efs.describe_file_systems()["FileSystems"]

    down = dockyard("down", "--yes")
    assert down.returncode == 0, down.stderr
    assert live_stacks(account) == {}
    assert "Kept (your data):" in down.stdout
    # commands that work when pasted: each names the region
    assert (f"aws efs delete-file-system --region ap-southeast-2 --file-system-id "
            f"{home['FileSystemId']}") in down.stdout
    assert "aws ecr delete-repository --region ap-southeast-2 --repository-name acme/web " \
           "--force" in down.stdout
    repositories = {r["repositoryName"] for r in
                    account.client("ecr").describe_repositories()["repositories"]}
    assert "acme/web" in repositories and len(repositories) == 6
    assert [fs["FileSystemId"] for fs in efs.describe_file_systems()["FileSystems"]] == \
        [home["FileSystemId"]]
    logs = "acme-logs-123456789012-ap-southeast-2"
    assert f"the access logs in s3://{logs}" in down.stdout
    assert logs in {b["Name"] for b in account.client("s3").list_buckets()["Buckets"]}

    again = dockyard("up", "--yes", "--no-wait-jenkins")
    assert again.returncode == 0, again.stderr
    jenkins = account.client("cloudformation").describe_stacks(StackName="acme-jenkins")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in jenkins["Stacks"][0]["Outputs"]}
    assert outputs["FileSystemId"] == home["FileSystemId"], "JENKINS_HOME was adopted"
    assert len(efs.describe_file_systems()["FileSystems"]) == 1
    builder = account.client("cloudformation").describe_stacks(StackName="acme-builder")
    adopted = {p["ParameterKey"]: p["ParameterValue"] for p in builder["Stacks"][0]["Parameters"]}
    assert adopted["AdoptLogBucket"] == "yes", "the kept log bucket was adopted"

    purge = dockyard("down", "--purge", "--yes-really-purge")
    assert purge.returncode == 0, purge.stderr
    assert f"EFS file system {home['FileSystemId']}" in purge.stdout
    assert f"S3 bucket {logs}" in purge.stdout
    assert logs not in {b["Name"] for b in account.client("s3").list_buckets()["Buckets"]}
    assert efs.describe_file_systems()["FileSystems"] == []
    assert account.client("ecr").describe_repositories()["repositories"] == []
    assert live_stacks(account) == {}


def test_purge_without_confirmation_deletes_nothing(dockyard: Dockyard, account: Account) -> None:
    assert dockyard("up", "--yes", "--no-wait-jenkins").returncode == 0
    refused = dockyard("down", "--purge", "--yes")
    assert refused.returncode == 2
    assert "pass --yes-really-purge in scripts" in refused.stderr
    assert len(live_stacks(account)) == 4


def test_events_are_ndjson_on_stdout(dockyard: Dockyard) -> None:
    done = dockyard("up", "--yes", "--no-wait-jenkins", "--events")
    assert done.returncode == 0, done.stderr
    documents = [json.loads(line) for line in done.stdout.splitlines()]
    kinds = [d["event"] for d in documents]
    assert kinds[-1] == "summary" and documents[-1]["ok"] is True
    assert kinds.count("stack") == 4
    assert "changes" in kinds and "resource" in kinds


def test_up_without_yes_and_without_a_terminal_asks_for_yes(dockyard: Dockyard,
                                                           account: Account) -> None:
    done = dockyard("up")
    assert done.returncode == 2
    assert "pass --yes" in done.stderr
    assert live_stacks(account) == {}, "nothing was created"


def at_a_terminal(account: Account, folder: Path, args: list[str],
                  typed: bytes) -> subprocess.CompletedProcess[str]:
    """Run dockyard with a terminal for its stdin (a pseudo-terminal), on which ``typed`` is
    what the person types; stdout and stderr are captured."""
    import os
    import pty
    import sys

    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen([sys.executable, "-m", "dockyard", *args], cwd=folder,
                                   env=account.cli_env(), stdin=terminal, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        os.write(controller, typed)
        out, err = process.communicate(timeout=300)
    finally:
        os.close(terminal)
        os.close(controller)
    return subprocess.CompletedProcess(args, process.returncode, out, err)


def test_up_at_a_terminal_asks_once_for_every_stack(dockyard: Dockyard, account: Account,
                                                    tmp_path: Path) -> None:
    args = ["up", "--no-wait-jenkins"]
    declined = at_a_terminal(account, tmp_path, args, b"n\n")
    assert declined.returncode == 1, declined.stderr
    assert declined.stderr.count("[y/N]") == 1 and "you declined" in declined.stderr
    assert live_stacks(account) == {}, "nothing was created"
    no_answer = at_a_terminal(account, tmp_path, args, b"\x04")  # Ctrl-D: the input ends
    assert no_answer.returncode == 2, no_answer.stderr
    assert "no answer" in no_answer.stderr and "cancelled" not in no_answer.stderr
    assert live_stacks(account) == {}

    applied = at_a_terminal(account, tmp_path, args, b"y\n")
    assert applied.returncode == 0, applied.stderr
    assert applied.stderr.count("[y/N]") == 1, "one question for the four stacks"
    preview = applied.stderr.split("[y/N]")[0]
    assert all(f"{name}: would be created" in preview for name in STACKS), preview
    assert live_stacks(account) == dict.fromkeys(STACKS, "CREATE_COMPLETE")
    again = at_a_terminal(account, tmp_path, args, b"")
    assert again.returncode == 0 and "[y/N]" not in again.stderr, "nothing to ask about"
    for typed, code in ((b"n\n", 1), (b"\x04", 2)):
        kept = at_a_terminal(account, tmp_path, ["down"], typed)
        assert kept.returncode == code, kept.stderr
    purge = at_a_terminal(account, tmp_path, ["down", "--purge"], b"\x04")
    assert purge.returncode == 2 and "no answer" in purge.stderr
    assert len(live_stacks(account)) == 4, "nothing was deleted"


def test_only_deploys_the_named_stacks_and_needs_their_inputs(dockyard: Dockyard,
                                                             account: Account) -> None:
    missing = dockyard("up", "--yes", "--no-wait-jenkins", "--only", "jenkins")
    assert missing.returncode == 3
    assert "needs acme-edge, which is not deployed" in missing.stderr
    alone = dockyard("up", "--yes", "--no-wait-jenkins", "--only", "edge")
    assert alone.returncode == 3, "its access logs go to the builder stack's log bucket"
    assert "needs acme-builder, which is not deployed" in alone.stderr
    edge = dockyard("up", "--yes", "--no-wait-jenkins", "--only", "builder", "--only", "edge")
    assert edge.returncode == 0, edge.stderr
    assert sorted(live_stacks(account)) == ["acme-builder", "acme-edge"]
    unknown = dockyard("up", "--yes", "--no-wait-jenkins", "--only", "nope")
    assert unknown.returncode == 2
    assert "--only nope: no such stack" in unknown.stderr


def test_a_missing_hosted_zone_fails_before_any_stack(dockyard: Dockyard,
                                                      account: Account) -> None:
    route53 = account.client("route53")
    for zone in route53.list_hosted_zones()["HostedZones"]:
        route53.delete_hosted_zone(Id=zone["Id"])
    done = dockyard("up", "--yes", "--no-wait-jenkins")
    assert done.returncode == 3
    assert "error: look up" not in done.stderr
    assert "no public Route 53 hosted zone for example.com" in done.stderr
    assert live_stacks(account) == {}


def test_a_github_secret_without_its_keys_fails_before_any_stack(dockyard: Dockyard,
                                                                 account: Account) -> None:
    account.client("secretsmanager").put_secret_value(
        SecretId="acme/github", SecretString='{"token": "t0ps3cret"}')
    done = dockyard("up", "--yes", "--no-wait-jenkins")
    assert done.returncode == 3
    assert ("error: jenkins.github.credentials_secret: the secret acme/github lacks "
            "private_key, webhook_secret") in done.stderr
    assert "t0ps3cret" not in done.stderr + done.stdout, "values are never shown"
    assert "aws secretsmanager put-secret-value --region ap-southeast-2 --secret-id acme/github " \
           "--secret-string '{\"private_key\": \"...\", \"webhook_secret\": \"...\"}'" \
           in done.stderr, "a hint that works when pasted"
    assert live_stacks(account) == {}


def test_github_sign_in_without_its_client_secret_fails_before_any_stack(
        dockyard: Dockyard, account: Account, tmp_path: Path) -> None:
    from tests.conftest import GITHUB_SIGN_IN

    config = tmp_path / "dockyard.yml"
    config.write_text(config.read_text().replace(*GITHUB_SIGN_IN, 1))
    done = dockyard("up", "--yes", "--no-wait-jenkins")
    assert done.returncode == 3
    assert "error: jenkins.sign_in.github.client_secret: the secret acme/jenkins-oauth does " \
           "not exist" in done.stderr
    assert "aws secretsmanager create-secret --region ap-southeast-2 --name acme/jenkins-oauth" \
        in done.stderr
    assert live_stacks(account) == {}
    account.client("secretsmanager").create_secret(Name="acme/jenkins-oauth",
                                                   SecretString="not-a-client-secret")
    planned = dockyard("diff")
    assert "jenkins.sign_in" not in planned.stderr, planned.stderr


def test_a_github_app_key_as_github_hands_it_out_fails_before_any_stack(
        dockyard: Dockyard, account: Account) -> None:
    """GitHub downloads an App's key as PKCS#1; Jenkins reads only PKCS#8. Found by `up`, with
    the command that converts it, rather than by every branch scan failing later."""
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEsecretbits\n-----END RSA PRIVATE KEY-----\n"
    account.client("secretsmanager").put_secret_value(
        SecretId="acme/github",
        SecretString=json.dumps({"private_key": key, "webhook_secret": "w"}))
    done = dockyard("up", "--yes", "--no-wait-jenkins")
    assert done.returncode == 3
    assert "the secret acme/github's private_key holds a RSA PRIVATE KEY key (PKCS#1" \
        in done.stderr
    assert "hint: openssl pkcs8 -topk8 -nocrypt -in" in done.stderr
    assert "MIIEsecretbits" not in done.stderr + done.stdout, "values are never shown"
    assert live_stacks(account) == {}


def test_missing_credentials_are_exit_3_in_one_line(dockyard: Dockyard) -> None:
    done = dockyard("status", env={"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""})
    assert done.returncode == 3
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: check the AWS credentials: no AWS credentials found"]
    assert "hint:" in done.stderr and "Traceback" not in done.stderr


def test_debug_logs_every_aws_call(dockyard: Dockyard) -> None:
    """One line per call: service, operation, status (and error code), time, request id; never
    parameters or bodies."""
    done = dockyard("--debug", "status")
    assert done.returncode == 0, done.stderr
    calls = [line for line in done.stderr.splitlines() if line.startswith("aws: ")]
    assert calls, done.stderr
    for line in calls:
        assert re.fullmatch(r"aws: [a-z0-9-]+ [A-Za-z]+ (\d{3}( \w+)?|failed \(\w+\)) \d+ ms"
                            r"( request-id \S+)?", line), line
    assert any(line.startswith("aws: cloudformation DescribeStacks ") for line in calls)
    assert "StackName" not in done.stderr, "no parameters"
    assert not any(line.startswith("aws: ") for line in
                   dockyard("status").stderr.splitlines()), "only with --debug"


def test_a_config_from_init_deploys_as_is(dockyard: Dockyard, account: Account,
                                         tmp_path: Path) -> None:
    """`dockyard init`'s file says `certificate: auto`; the edge stack issues it (this used
    to end in a 500 from the emulator and "this is a bug")."""
    assert dockyard("init", "--force").returncode == 0
    assert "certificate: auto" in (tmp_path / "dockyard.yml").read_text()
    done = dockyard("up", "--yes", "--only", "builder", "--only", "edge")
    assert done.returncode == 0, done.stderr
    listener = account.output("acme-edge", "HttpsListenerArn")
    (https,) = account.client("elbv2").describe_listeners(ListenerArns=[listener])["Listeners"]
    certificate = account.client("acm").describe_certificate(
        CertificateArn=https["Certificates"][0]["CertificateArn"])["Certificate"]
    assert (certificate["DomainName"], certificate["Status"]) == ("*.example.com", "ISSUED")


def test_down_of_nothing_says_so(dockyard: Dockyard) -> None:
    done = dockyard("down", "--yes")
    assert done.returncode == 0
    assert "nothing to delete" in done.stderr


@pytest.mark.parametrize("command", ["diff", "status"])
def test_read_only_commands_change_nothing(dockyard: Dockyard, account: Account,
                                           command: str) -> None:
    dockyard(command)
    assert live_stacks(account) == {}
    with pytest.raises(ClientError):
        account.client("cloudformation").describe_stacks(StackName="acme-edge")


def test_a_failed_jenkins_image_build_stops_up_before_the_jenkins_stack(
        dockyard: Dockyard, account: Account) -> None:
    assert account.kaniko is not None
    account.kaniko.fail_for["acme/jenkins-controller"] = 1
    # What the controller image's boot check prints when a plugin does not load.
    account.kaniko.fail_lines["acme/jenkins-controller"] = [
        "INFO[0120] RUN bash /usr/share/dockyard/boot-check.sh",
        "boot check: Jenkins did not start cleanly with this image's plugins and JCasC:",
        "  java.io.IOException: Failed to load: GitHub Branch Source Plugin",
        "   - Jenkins (2.580) or higher required"]
    failed = dockyard("up", "--yes", "--no-wait-jenkins")
    assert failed.returncode == 1, failed.stderr
    assert "building the jenkins-controller image failed" in failed.stderr
    assert "exit status 1" in failed.stderr, "kaniko's last lines are shown"
    assert "Jenkins (2.580) or higher required" in failed.stderr, "with the boot check's"
    assert "Traceback" not in failed.stderr
    assert live_stacks(account) == {"acme-builder": "CREATE_COMPLETE",
                                    "acme-edge": "CREATE_COMPLETE"}
    # With --events, the failure ends the stream as a success would: one summary, last.
    streamed = dockyard("up", "--yes", "--no-wait-jenkins", "--events")
    assert streamed.returncode == 1, streamed.stderr
    events = [json.loads(line) for line in streamed.stdout.splitlines()]
    assert [e["event"] for e in events].count("summary") == 1 and len(events) > 1
    assert events[-1]["ok"] is False and events[-1]["error"]["exit_code"] == 1
    assert "jenkins-controller" in events[-1]["error"]["message"]

    account.kaniko.fail_for.clear()
    again = dockyard("up", "--yes", "--no-wait-jenkins")
    assert again.returncode == 0, again.stderr
    assert "jenkins-agent: unchanged" in again.stderr, "the agent built before is reused"
    assert "jenkins-controller: building" in again.stderr
    assert live_stacks(account) == dict.fromkeys(STACKS, "CREATE_COMPLETE")


def test_the_readiness_wait_says_why_jenkins_does_not_answer(dockyard: Dockyard,
                                                             account: Account) -> None:
    """A controller that never passes its health check: the wait shows the service's events
    and the load balancer's verdict with its reason, each once, then fails with exit 1. (The
    domain does not resolve here, so /login answers nothing; the emulator's target group
    reports what Elastic Load Balancing would.)"""
    from devtools.ecs import HANG

    assert account.kaniko is not None
    account.kaniko.marks_for["acme/jenkins-controller"] = (HANG,)
    started = time.monotonic()
    done = dockyard("up", "--yes", "--jenkins-timeout", "5m")
    assert done.returncode == 1, done.stderr
    err = done.stderr
    assert "waiting for https://jenkins.example.com/login to answer 200" in err
    assert "jenkins service: (service jenkins) has started 1 tasks." in err
    unhealthy = [line for line in err.splitlines() if "is unhealthy:" in line]
    assert len(unhealthy) == 1, err
    assert re.search(r"target 10\.0\.1\.\d+:8080 is unhealthy: Target.ResponseCodeMismatch "
                     r"\(Health checks failed with these codes: \[503\]\)", unhealthy[0])
    said = [line.split(" ", 1)[1] for line in err.splitlines()
            if "/login answered nothing yet" in line]
    assert said and len(said) == len(set(said)), "each said once, again only when it changes"
    assert "error: Jenkins is not answering: no 200 from https://jenkins.example.com/login " \
           "within 5 min" in err
    assert time.monotonic() - started < 240
    assert live_stacks(account)["acme-jenkins"] == "CREATE_COMPLETE"


def test_arm64_apps_with_jenkins_on_amd64(dockyard: Dockyard, account: Account,
                                         tmp_path: Path) -> None:
    # Jenkins' images are built for the architecture the controller and agents run on
    # (jenkins.architecture, amd64 by default), whatever builder.architectures says for apps.
    config = tmp_path / "dockyard.yml"
    config.write_text(config.read_text().replace("architectures: [amd64]",
                                                 "architectures: [arm64]"))
    done = dockyard("up", "--yes", "--no-wait-jenkins")
    assert done.returncode == 0, done.stderr
    outputs = {o["OutputKey"]: o["OutputValue"] for o in account.client("cloudformation")
               .describe_stacks(StackName="acme-builder")["Stacks"][0]["Outputs"]}
    assert outputs["TaskDefinitionArm64"].endswith("acme-kaniko-arm64:1")
    assert outputs["TaskDefinitionAmd64"].endswith("acme-kaniko-amd64:1")
    assert account.kaniko is not None
    jenkins_builds = [h["task"] for h in account.kaniko.handled]
    assert len(jenkins_builds) == 2
    ecs = account.client("ecs")
    described = ecs.describe_tasks(cluster="acme", tasks=jenkins_builds)["tasks"]
    assert {t["taskDefinitionArn"].rsplit("/", 1)[-1] for t in described} == \
        {"acme-kaniko-amd64:1"}
    (app,) = [Path(tmp_path / "app")]
    app.mkdir()
    (app / "Dockerfile").write_text("FROM scratch\n")
    built = dockyard("build", "--repo", "web", "app", "--output", "json", build="web/main")
    assert built.returncode == 0, built.stderr
    assert [p["platform"] for p in json.loads(built.stdout)["platforms"]] == ["linux/arm64"]
    # The platforms are inputs of a build: another set builds again, the same set is reused.
    handled = len(account.kaniko.handled)
    both_platforms = ("--platform", "linux/amd64,linux/arm64")
    both = dockyard("build", "--repo", "web", *both_platforms, "app", "-o", "json",
                    build="web/main")
    assert both.returncode == 0, both.stderr
    document = json.loads(both.stdout)
    assert document["digest_source"] != "build-record"
    assert [p["platform"] for p in document["platforms"]] == ["linux/amd64", "linux/arm64"]
    assert len(account.kaniko.handled) == handled + 2, "one kaniko task per platform"
    again = dockyard("build", "--repo", "web", *both_platforms, "app", "-o", "json",
                     build="web/main")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["digest_source"] == "build-record"
    assert json.loads(again.stdout)["digest"] == document["digest"]
    assert len(account.kaniko.handled) == handled + 2, "the same platforms: reused"
    arm = dockyard("build", "--repo", "web", "app", "-o", "json", build="web/main")
    assert json.loads(arm.stdout)["digest"] == json.loads(built.stdout)["digest"]
    assert len(account.kaniko.handled) == handled + 2, "arm64 alone: the first build's image"


def test_a_stack_left_in_update_rollback_failed_is_rolled_back_then_updated(
        dockyard: Dockyard, account: Account, tmp_path: Path) -> None:
    from devtools.strict.behaviour import break_update_rollback

    assert dockyard("up", "--yes", "--only", "builder", "--only", "edge").returncode == 0
    break_update_rollback("acme-edge")  # as after a rollback CloudFormation could not finish
    config = tmp_path / "dockyard.yml"
    config.write_text(config.read_text().replace("0.0.0.0/0", "203.0.113.0/24"))
    done = dockyard("up", "--yes", "--only", "edge")
    assert done.returncode == 0, done.stderr
    assert "UPDATE_ROLLBACK_FAILED from an earlier update: continuing the rollback" in done.stderr
    assert has_row(done.stdout, "acme-edge", "updated", "UPDATE_COMPLETE")


@pytest.mark.parametrize(("signum", "code", "cause"), [
    (signal.SIGINT, 130, "Ctrl-C"), (signal.SIGTERM, 143, "SIGTERM"),
    (signal.SIGHUP, 129, "SIGHUP")])
def test_a_signal_during_up_stops_the_image_build_it_started(
        account: Account, tmp_path: Path, signum: int, code: int, cause: str) -> None:
    """Cancelled while building Jenkins' images: the build task is stopped, not left running
    (and billed), the jenkins stack is not started, and the exit code names the signal."""
    assert account.kaniko is not None
    (tmp_path / "dockyard.yml").write_text(moto_server.example_config(account.certificate))
    moto_server.task_steps(100_000)  # a build task runs until it is stopped
    process = subprocess.Popen([*INTERRUPTIBLE_DOCKYARD, "up", "--yes",
                                "--no-wait-jenkins"], cwd=tmp_path, env=account.cli_env(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not account.kaniko.handled and time.monotonic() < deadline:
        time.sleep(0.2)
    assert account.kaniko.handled, "up started building an image"
    time.sleep(1)
    process.send_signal(signum)
    _, err = process.communicate(timeout=120)
    assert process.returncode == code, err
    assert f"cancelled from dockyard ({cause})" in err
    assert "Traceback" not in err and "this is a bug" not in err
    ecs = account.client("ecs")
    assert ecs.list_tasks(cluster="acme", desiredStatus="RUNNING")["taskArns"] == []
    stopped = ecs.list_tasks(cluster="acme", desiredStatus="STOPPED")["taskArns"]
    reasons = {t.get("stoppedReason") for t in
               ecs.describe_tasks(cluster="acme", tasks=stopped)["tasks"]}
    assert reasons == {f"cancelled from dockyard ({cause})"}
    assert "acme-jenkins" not in live_stacks(account)


def test_a_service_role_makes_the_stacks_changes(dockyard: Dockyard, account: Account,
                                                 tmp_path: Path) -> None:
    """stacks.role_arn: each stack is created, updated and deleted with CloudFormation acting
    as the role (CreateChangeSet and DeleteStack's RoleARN), not as whoever runs up."""
    iam = account.client("iam")
    role = iam.create_role(RoleName="acme-cloudformation", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "cloudformation.amazonaws.com"},
            "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    config = tmp_path / "dockyard.yml"
    config.write_text(config.read_text() + f"stacks:\n  role_arn: {role}\n")
    done = dockyard("up", "--yes", "--no-wait-jenkins", "--only", "builder")
    assert done.returncode == 0, done.stderr
    (builder,) = account.client("cloudformation").describe_stacks(
        StackName="acme-builder")["Stacks"]
    assert builder.get("RoleARN") == role
    config.write_text(config.read_text().replace(f"role_arn: {role}", "role_arn: nope"))
    bad = dockyard("up", "--yes", "--no-wait-jenkins", "--only", "builder")
    assert bad.returncode == 2 and "stacks.role_arn" in bad.stderr
    assert "Traceback" not in bad.stderr
