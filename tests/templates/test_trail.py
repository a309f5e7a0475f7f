"""Access logs (issue 26, item 6): the load balancer's and the context bucket's, in one log
bucket the platform keeps; on by default, priced in the plan, and a switch turns them off."""

from __future__ import annotations

import json
from typing import Any

from dockyard.planning.cost import estimate
from tests.conftest import bodies, example_config

Template = dict[str, Any]


def _attributes(edge: Template) -> dict[str, Any]:
    alb = edge["Resources"]["LoadBalancer"]["Properties"]
    return {a["Key"]: a["Value"] for a in alb["LoadBalancerAttributes"]}


def _skipped(resource: dict[str, Any]) -> dict[str, str]:
    skips = resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    return {s["id"]: s["comment"] for s in skips}


def test_the_load_balancer_logs_every_request_into_the_builders_log_bucket(
        templates: dict[str, Template], stacks: dict[str, Any]) -> None:
    attributes = _attributes(templates["edge"])
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["access_logs.s3.bucket"] == {"Ref": "LogBucket"}
    assert attributes["access_logs.s3.prefix"] == "alb"
    source = stacks["edge"].inputs["LogBucket"]
    assert (source.stack, source.output) == ("builder", "LogBucket")
    assert "CKV_AWS_91" not in _skipped(templates["edge"]["Resources"]["LoadBalancer"])
    assert "LogBucket" in templates["builder"]["Outputs"]


def test_the_log_bucket_is_sse_s3_private_expiring_and_kept(
        templates: dict[str, Template], stacks: dict[str, Any]) -> None:
    builder = templates["builder"]
    bucket = builder["Resources"]["LogBucket"]
    props = bucket["Properties"]
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}, \
        "load balancer access logs support SSE-S3 only"
    assert all(props["PublicAccessBlockConfiguration"].values())
    (expiry,) = props["LifecycleConfiguration"]["Rules"]
    assert expiry["ExpirationInDays"] == 90
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert props["BucketName"] == {"Fn::Sub": "acme-logs-${AWS::AccountId}-${AWS::Region}"}
    assert bucket["Condition"] == "CreateLogBucket", "a bucket kept by down is adopted"
    source = stacks["builder"].inputs["AdoptLogBucket"]
    assert (source.kind, source.name) == ("bucket", "logs")
    skipped = _skipped(bucket)
    assert set(skipped) == {"CKV_AWS_18", "CKV_AWS_21"}


def test_only_the_load_balancer_and_s3_for_the_context_bucket_may_write_logs(
        templates: dict[str, Template]) -> None:
    builder = templates["builder"]
    policy = builder["Resources"]["LogBucketPolicy"]["Properties"]["PolicyDocument"]
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert set(by_sid) == {"DenyPlainHttp", "LoadBalancerAccessLogs", "S3ServerAccessLogs"}
    alb = by_sid["LoadBalancerAccessLogs"]
    # ap-southeast-2 opened before August 2022: Elastic Load Balancing's account there writes.
    assert alb["Principal"] == {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::783225319266:root"}}
    assert alb["Action"] == "s3:PutObject"
    assert alb["Resource"]["Fn::Sub"].endswith("/alb/AWSLogs/${AWS::AccountId}/*")
    s3 = by_sid["S3ServerAccessLogs"]
    assert s3["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert s3["Condition"]["ArnLike"]["aws:SourceArn"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:s3:::${AWS::StackName}-contextbucket-*"}]
    assert s3["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    assert s3["Resource"]["Fn::Sub"].endswith("/s3/context-bucket/*")
    logging = builder["Resources"]["ContextBucket"]["Properties"]["LoggingConfiguration"]
    assert logging["LogFilePrefix"] == "s3/context-bucket/"
    assert logging["DestinationBucketName"]["Fn::If"][0] == "CreateLogBucket"
    assert builder["Resources"]["ContextBucket"]["DependsOn"] == ["LogBucketPolicy"], \
        "S3 refuses a logging target whose policy does not let it deliver"
    assert "CKV_AWS_18" not in _skipped(builder["Resources"]["ContextBucket"])


def test_a_region_opened_since_august_2022_grants_the_service_principal() -> None:
    builder = bodies(example_config(("region: ap-southeast-2", "region: ap-southeast-4")))[
        "builder"]
    policy = builder["Resources"]["LogBucketPolicy"]["Properties"]["PolicyDocument"]
    (alb,) = [s for s in policy["Statement"] if s["Sid"] == "LoadBalancerAccessLogs"]
    assert alb["Principal"] == {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}


def test_turned_off_there_is_no_log_bucket_and_the_reason_is_recorded() -> None:
    cfg = example_config(("builder:\n", "access_logs:\n  enabled: false\nbuilder:\n"))
    assert not cfg.access_logs.enabled
    rendered = bodies(cfg)
    builder, edge = rendered["builder"], rendered["edge"]
    assert "LogBucket" not in builder["Resources"] and "LogBucket" not in builder["Outputs"]
    assert "LoggingConfiguration" not in builder["Resources"]["ContextBucket"]["Properties"]
    assert not any(key.startswith("access_logs") for key in _attributes(edge))
    assert "LogBucket" not in edge.get("Parameters", {})
    assert "access_logs.enabled is false" in \
        _skipped(edge["Resources"]["LoadBalancer"])["CKV_AWS_91"]
    assert "access_logs.enabled is false" in \
        _skipped(builder["Resources"]["ContextBucket"])["CKV_AWS_18"]
    assert "Access logs" not in [line.item for line in estimate(cfg).lines]


def test_the_plan_prices_the_logs_by_how_long_they_are_kept() -> None:
    short = example_config(("builder:\n", "access_logs:\n  keep_days: 30\nbuilder:\n"))
    long = example_config(("builder:\n", "access_logs:\n  keep_days: 3650\nbuilder:\n"))
    (cheap,) = [x for x in estimate(short).lines if x.item == "Access logs"]
    (dear,) = [x for x in estimate(long).lines if x.item == "Access logs"]
    assert 0 < cheap.monthly_usd < dear.monthly_usd
    assert "kept 30 days" in cheap.detail
    assert json.dumps(bodies(long)["builder"]["Resources"]["LogBucket"]).count("3650") == 1
