"""apps.<name>.kind: worker on the strict emulator: a service with no port and no load
balancer, deployed rolling by the app's pipeline, whose failures ECS's circuit breaker finds
(tasks that exit, or fail the container's own health check) and rolls back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from devtools.ecs import CRASH, HANG
from devtools.fake_kaniko import image_manifest

from tests.e2e.conftest import Account, Dockyard
from tests.e2e.test_deploy import REGISTRY

WORKER = """apps:
  queue:
    kind: worker
    cpu: 256
    memory: 512
    count: 2
    health_command: test -f /tmp/ready
    env:
      QUEUE: jobs
"""


def push(account: Account, tag: str, *, mark: str | None = None) -> str:
    pushed = account.client("ecr").put_image(
        repositoryName="acme/queue", imageTag=tag,
        imageManifest=image_manifest(f"queue-{tag}", [mark] if mark else []))
    return str(pushed["image"]["imageId"]["imageDigest"])


@pytest.fixture()
def worker(dockyard: Dockyard, tmp_path: Path) -> Dockyard:
    config = tmp_path / "dockyard.yml"
    config.write_text(config.read_text().replace("apps:\n", WORKER, 1))
    done = dockyard("up", "--yes", "--only", "builder", "--only", "app-queue")
    assert done.returncode == 0, done.stderr
    return dockyard


def service(account: Account) -> dict[str, object]:
    found = account.client("ecs").describe_services(cluster="acme", services=["queue"])
    return dict(found["services"][0])


def settled(worker: Dockyard) -> dict[str, object]:
    """The service once ECS has finished the rollback it started (status plays the clock)."""
    for _ in range(10):
        state: dict[str, object] = json.loads(
            worker("status", "queue", "--output", "json").stdout)["service"]
        if [d["rollout_state"] for d in state["deployments"]] == ["COMPLETED"]:  # type: ignore
            return state
    raise AssertionError(f"the rollback did not complete: {state}")


def test_a_worker_has_no_door_and_deploys_and_rolls_back_honestly(
        worker: Dockyard, account: Account) -> None:
    outputs = {o["OutputKey"]: o["OutputValue"] for o in account.client(
        "cloudformation").describe_stacks(StackName="acme-app-queue")["Stacks"][0]["Outputs"]}
    assert "TargetGroupArn" not in outputs and "Url" not in outputs
    group = account.client("ec2").describe_security_groups(
        GroupIds=[outputs["SecurityGroupId"]])["SecurityGroups"][0]
    assert group["IpPermissions"] == [], "nothing may open a connection to a worker"

    v1 = push(account, "v1")
    first = worker("deploy", "queue", "--image", f"{REGISTRY}/acme/queue@{v1}",
                   build="web/main")
    assert first.returncode == 0, first.stderr
    assert "outcome      completed" in first.stdout
    live = service(account)
    assert live["loadBalancers"] == [] and live["desiredCount"] == 2
    definition = account.client("ecs").describe_task_definition(
        taskDefinition=str(live["taskDefinition"]))["taskDefinition"]
    container = definition["containerDefinitions"][0]
    assert container["portMappings"] == []
    assert container["healthCheck"]["command"] == ["CMD-SHELL", "test -f /tmp/ready"]

    push(account, "v2", mark=CRASH)
    crashed = worker("deploy", "queue", "--image", "v2", build="web/main")
    assert crashed.returncode == 4, crashed.stderr
    assert "deploy of queue (acme-queue:2) failed" in crashed.stderr
    assert "tasks failed to start" in crashed.stderr
    assert str(settled(worker)["task_definition"]).endswith("acme-queue:1")

    # Running but never healthy: with no load balancer, the container's check is the verdict.
    push(account, "v3", mark=HANG)
    unhealthy = worker("deploy", "queue", "--image", "v3", build="web/main")
    assert unhealthy.returncode == 4, unhealthy.stderr
    assert "deploy of queue (acme-queue:3) failed" in unhealthy.stderr
    assert "failed container health checks" in unhealthy.stderr
    assert str(settled(worker)["task_definition"]).endswith("acme-queue:1"), \
        "back on the last good revision"
    text = worker("status", "queue")
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("queue   (no URL: it takes no traffic)"), text.stdout

    canary = worker("deploy", "queue", "--image", "v1", "--strategy", "canary")
    assert canary.returncode == 2, canary.stderr
    assert "queue is a worker that takes none: it deploys rolling" in canary.stderr



def test_a_worker_runs_the_web_apps_images_with_its_own_command_and_cannot_push_them(
        dockyard: Dockyard, account: Account, tmp_path: Path) -> None:
    config = tmp_path / "dockyard.yml"
    config.write_text(config.read_text().replace("apps:\n", WORKER.replace(
        "    count: 2\n", "    count: 1\n    image_from: web\n"
        "    command: [python, -m, worker, --queue, jobs]\n"), 1))
    done = dockyard("up", "--yes", "--only", "builder", "--only", "edge", "--only", "app-web",
                    "--only", "app-queue")
    assert done.returncode == 0, done.stderr
    repositories = {r["repositoryName"] for r in
                    account.client("ecr").describe_repositories()["repositories"]}
    assert "acme/web" in repositories and not any(r.startswith("acme/queue") or
                                                  r == "acme/quarantine/queue"
                                                  for r in repositories)
    from tests.e2e.test_deploy import push as push_web

    v1 = push_web(account, "v1")
    deployed = dockyard("deploy", "queue", "--image", "v1", build="web/main")
    assert deployed.returncode == 0, deployed.stderr
    definition = account.client("ecs").describe_task_definition(
        taskDefinition=str(service(account)["taskDefinition"]))["taskDefinition"]
    container = definition["containerDefinitions"][0]
    assert container["image"] == f"{REGISTRY}/acme/web@{v1}"
    assert container["command"] == ["python", "-m", "worker", "--queue", "jobs"]

    # As the queue's pipeline role: reading web's images, never writing them.
    strict = account.emulator
    ecr = strict.client("ecr", strict.session(account.pipeline_role("queue")))
    found = ecr.describe_images(repositoryName="acme/web")["imageDetails"]
    assert any(i["imageDigest"] == v1 for i in found)
    with pytest.raises(ClientError) as refused:
        ecr.put_image(repositoryName="acme/web", imageTag="evil",
                      imageManifest=image_manifest("evil"))
    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "ecr:PutImage" in refused.value.response["Error"]["Message"]


def test_without_a_health_command_a_running_worker_is_a_healthy_one(
        dockyard: Dockyard, account: Account, tmp_path: Path) -> None:
    """With no load balancer and no container check, ECS knows only that the task runs."""
    config = tmp_path / "dockyard.yml"
    config.write_text(config.read_text().replace("apps:\n", WORKER.replace(
        "    health_command: test -f /tmp/ready\n", "").replace(
        "    count: 2\n", "    scale: {min: 1, max: 3, cpu_percent: 60}\n"), 1))
    assert dockyard("up", "--yes", "--only", "builder", "--only", "app-queue").returncode == 0
    push(account, "stuck", mark=HANG)
    done = dockyard("deploy", "queue", "--image", "stuck")
    assert done.returncode == 0, done.stderr
    assert "outcome      completed" in done.stdout
    # A worker's service exists though it listens on no port: the next `up` registers its range.
    again = dockyard("up", "--yes", "--only", "app-queue")
    assert again.returncode == 0, again.stderr
    targets = account.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs")["ScalableTargets"]
    assert [(t["ResourceId"], t["MinCapacity"], t["MaxCapacity"]) for t in targets] == [
        ("service/acme/queue", 1, 3)]


def test_an_apps_kind_does_not_change_in_place(dockyard: Dockyard, tmp_path: Path) -> None:
    assert dockyard("up", "--yes", "--only", "builder", "--only", "edge", "--only",
                    "app-web").returncode == 0
    config = tmp_path / "dockyard.yml"
    text = config.read_text()
    web = text[text.index("  web:\n"):]
    config.write_text(text.replace(web, "  web:\n    kind: worker\n    job: web\n", 1))
    refused = dockyard("up", "--yes", "--only", "app-web")
    assert refused.returncode == 2, refused.stderr
    assert "apps.web.kind: web is deployed as a web; a worker has another security group" in \
        refused.stderr
    assert "add the worker as an app of its own name" in refused.stderr
