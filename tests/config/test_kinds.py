"""apps.<name>.kind: what a worker takes and refuses, each refusal naming its field."""

from __future__ import annotations

import json

import pytest

from dockyard.config import parse_config
from dockyard.config.models import Config
from dockyard.errors import ConfigError, ExitCode
from dockyard.planning.cost import estimate
from dockyard.templates import render_stacks
from tests.conftest import example_text

WORKER = "apps:\n  queue:\n    kind: worker\n    count: 2\n"


def parse(worker: str = WORKER) -> Config:
    return parse_config(example_text(("apps:\n", worker)), "dockyard.yml")


def problem(extra: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(WORKER + extra)
    assert caught.value.exit_code == ExitCode.USAGE
    return caught.value.problems[0]


@pytest.mark.parametrize(("extra", "field", "words"), [
    ("    port: 8000\n", "apps.queue.port", "it listens on no port the load balancer sends to"),
    ("    host: jobs\n", "apps.queue.host", "it has no host name"),
    ("    priority: 30\n", "apps.queue.priority", "it has no listener rule"),
    ("    health_check: /healthz\n", "apps.queue.health_check", "health_command checks"),
    ("    alarms: {error_rate: 5}\n", "apps.queue.alarms", "load balancer's metrics"),
    ("    deploy: {strategy: canary}\n", "apps.queue.deploy.strategy",
     "a worker deploys rolling: canary moves load balancer traffic"),
])
def test_what_only_a_web_app_reads_is_refused_on_a_worker(extra: str, field: str,
                                                           words: str) -> None:
    found = problem(extra)
    assert f": {field}: " in found, found
    assert words in found, found


def test_a_worker_scales_on_cpu_or_memory_only() -> None:
    scaled = WORKER.replace("    count: 2\n", "    scale: {min: 1, max: 3, "
                            "requests_per_target: 100}\n")
    with pytest.raises(ConfigError) as caught:
        parse(scaled)
    assert "apps.queue.scale.requests_per_target: a worker has no load balancer metrics" in \
        caught.value.problems[0]
    parse(WORKER.replace("    count: 2\n", "    scale: {min: 1, max: 3, cpu_percent: 60}\n"))


def test_a_worker_stack_has_no_target_group_rule_dns_or_inbound_rule() -> None:
    cfg = parse()
    stack = next(s for s in render_stacks(cfg) if s.key == "app-queue")
    resources = stack.template.to_dict()["Resources"]
    kinds = {r["Type"] for r in resources.values()}
    for absent in ("AWS::ElasticLoadBalancingV2::TargetGroup",
                   "AWS::ElasticLoadBalancingV2::ListenerRule", "AWS::Route53::RecordSet",
                   "AWS::EC2::SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress",
                   "AWS::CloudWatch::Alarm"):
        assert absent not in kinds, absent
    group = resources["SecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in group
    assert set(stack.template.to_dict()["Parameters"]) >= {"VpcId"}
    assert "HttpsListenerArn" not in stack.template.to_dict()["Parameters"], \
        "a worker's stack does not wait for the edge"
    lines = {line.item: line for line in estimate(cfg).lines}
    assert "app queue alarms" not in lines and "app queue" in lines


@pytest.mark.parametrize(("source", "words"), [
    ("nowhere", "'nowhere' is not another app of dockyard.yml (apps: web)"),
    ("queue", "'queue' is not another app of dockyard.yml"),
])
def test_image_from_names_another_app(source: str, words: str) -> None:
    found = problem(f"    image_from: {source}\n")
    assert ": apps.queue.image_from: " in found and words in found, found


def test_an_app_running_anothers_images_builds_none_and_may_only_read_them() -> None:
    cfg = parse(WORKER + "    image_from: web\n    command: [python, -m, worker]\n")
    assert cfg.repository_of("queue") == "acme/web"
    stack = next(s for s in render_stacks(cfg) if s.key == "app-queue").template.to_dict()
    kinds = [r["Type"] for r in stack["Resources"].values()]
    assert "AWS::ECR::Repository" not in kinds, "no repository, no cache, no quarantine"
    assert "KanikoRole" not in stack["Resources"]
    pulls = json.dumps(stack["Resources"]["ExecutionRole"])
    assert "repository/acme/web" in pulls and "acme/queue" not in pulls
    pipeline = json.dumps(stack["Resources"]["PipelineRole"])
    assert "ecr:PutImage" not in pipeline and "s3:PutObject" not in pipeline
    assert "repository/acme/web" in pipeline


def test_building_for_an_app_that_runs_anothers_images_points_at_that_app() -> None:
    from dockyard.builds.environment import destination_for
    from dockyard.errors import UsageError

    cfg = parse(WORKER + "    image_from: web\n")
    with pytest.raises(UsageError) as refused:
        destination_for(cfg, "queue", "123456789012.dkr.ecr.ap-southeast-2.amazonaws.com")
    assert "app queue builds no images of its own: it runs web's" in str(refused.value)
    assert "build --repo web" in (refused.value.hint or "")


def test_an_app_running_anothers_images_is_deployed_by_the_job_that_builds_them() -> None:
    found = problem("    image_from: web\n    job: none\n")
    assert ": apps.queue.job: it runs web's images, which job web builds, so job web must " \
        "deploy it too (now only the operator)" in found, found
    chained = WORKER + "    image_from: web\n  more:\n    kind: worker\n    image_from: queue\n"
    with pytest.raises(ConfigError) as caught:
        parse(chained)
    assert "apps.more.image_from: queue takes its images from web: name that app instead" in \
        caught.value.problems[0]
