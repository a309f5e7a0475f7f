"""The aws/ wrappers: exact request shapes (botocore Stubber) and error translation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from dockyard.aws.account import Account
from dockyard.aws.cloudformation import CloudFormation
from dockyard.aws.errors import AwsError, AwsPreconditionError
from dockyard.aws.retained import RetainedData
from dockyard.aws.session import make_session
from dockyard.errors import ExitCode
from dockyard.polling import RetryableError

REGION = "ap-southeast-2"


def client(service: str) -> Any:
    return boto3.Session(aws_access_key_id="x", aws_secret_access_key="x",
                         region_name=REGION).client(service)


@pytest.fixture()
def cfn() -> Iterator[tuple[CloudFormation, Stubber]]:
    raw = client("cloudformation")
    with Stubber(raw) as stub:
        yield CloudFormation(raw), stub
        stub.assert_no_pending_responses()


def test_change_set_request_carries_parameters_tags_and_capabilities(
        cfn: tuple[CloudFormation, Stubber]) -> None:
    api, stub = cfn
    stub.add_response("create_change_set", {"Id": "arn:cs", "StackId": "arn:stack"}, {
        "StackName": "acme-edge", "ChangeSetName": "dockyard-1", "TemplateBody": "{}",
        "Parameters": [{"ParameterKey": "VpcId", "ParameterValue": "vpc-1"}],
        "Tags": [{"Key": "dockyard:name", "Value": "acme"}],
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
        "ChangeSetType": "CREATE", "Description": ANY})
    assert api.create_change_set(stack="acme-edge", name="dockyard-1", template="{}",
                                 parameters={"VpcId": "vpc-1"}, tags={"dockyard:name": "acme"},
                                 create=True) == ("arn:cs", "arn:stack")


def test_an_immediate_no_updates_answer_means_no_changes(
        cfn: tuple[CloudFormation, Stubber]) -> None:
    api, stub = cfn
    stub.add_client_error("create_change_set", "ValidationError",
                          "No updates are to be performed.")
    assert api.create_change_set(stack="s", name="n", template="{}", parameters={}, tags={},
                                 create=False) is None


def test_a_missing_stack_is_none(cfn: tuple[CloudFormation, Stubber]) -> None:
    api, stub = cfn
    stub.add_client_error("describe_stacks", "ValidationError", "Stack with id x does not exist")
    assert api.describe("x") is None


def test_throttled_event_reads_become_retryable(cfn: tuple[CloudFormation, Stubber]) -> None:
    api, stub = cfn
    stub.add_client_error("describe_stack_events", "Throttling", "Rate exceeded")
    with pytest.raises(RetryableError):
        api.events_since("arn:stack", set())


def test_events_page_back_until_a_seen_one_and_come_oldest_first(
        cfn: tuple[CloudFormation, Stubber]) -> None:
    api, stub = cfn

    def event(n: int) -> dict[str, Any]:
        return {"EventId": f"e{n}", "StackId": "arn:stack", "StackName": "s",
                "LogicalResourceId": f"R{n}", "ResourceType": "AWS::SQS::Queue",
                "ResourceStatus": "CREATE_COMPLETE", "Timestamp": datetime(2026, 1, 1, 0, n,
                                                                           tzinfo=UTC)}

    stub.add_response("describe_stack_events", {"StackEvents": [event(4), event(3)],
                                                "NextToken": "t"}, {"StackName": "arn:stack"})
    stub.add_response("describe_stack_events", {"StackEvents": [event(2), event(1)]},
                      {"StackName": "arn:stack", "NextToken": "t"})
    fresh = api.events_since("arn:stack", {"e1"})
    assert [e.event_id for e in fresh] == ["e2", "e3", "e4"]


def test_resources_tolerate_entries_without_ids(cfn: tuple[CloudFormation, Stubber]) -> None:
    api, stub = cfn
    summary = {"LogicalResourceId": "Repo", "PhysicalResourceId": "acme/web",
               "ResourceType": "AWS::ECR::Repository", "ResourceStatus": "CREATE_COMPLETE",
               "LastUpdatedTimestamp": datetime(2026, 1, 1, tzinfo=UTC)}
    stub.add_response("list_stack_resources", {"StackResourceSummaries": [summary]})
    (resource,) = api.resources("acme-builder")
    assert (resource.logical_id, resource.physical_id) == ("Repo", "acme/web")


@pytest.mark.parametrize(("code", "words"), [
    ("ExpiredToken", "the AWS credentials have expired"),
    ("InvalidClientTokenId", "the AWS credentials are not valid"),
    ("AccessDenied", "access denied"),
])
def test_credential_problems_are_exit_3_with_a_hint(code: str, words: str) -> None:
    sts = client("sts")
    with Stubber(sts) as stub:
        stub.add_client_error("get_caller_identity", code, "The security token is bad")
        with pytest.raises(AwsPreconditionError) as caught:
            Account(sts, client("ec2"), client("route53")).identity()
    assert caught.value.exit_code == ExitCode.AWS_PRECONDITION
    assert words in caught.value.message
    assert caught.value.hint


def test_no_credentials_at_all_is_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    session = make_session(None, REGION)
    account = Account(session.client("sts"), session.client("ec2"), session.client("route53"))
    with pytest.raises(AwsPreconditionError, match="no AWS credentials found"):
        account.identity()


def test_an_unknown_profile_is_exit_3(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with pytest.raises(AwsPreconditionError, match="'nope' is not configured"):
        make_session("nope", REGION)


def test_sessions_retry_in_standard_mode_and_name_dockyard() -> None:
    session = make_session(None, REGION)
    config = session.client("sts").meta.config
    assert config.retries["mode"] == "standard"
    assert "dockyard/" in config.user_agent_extra
    assert session.client("sts") is session.client("sts"), "one client per service"


def test_hosted_zone_lookup_ignores_private_zones_and_near_names() -> None:
    route53 = client("route53")
    zones = [{"Id": "/hostedzone/ZPRIVATE", "Name": "example.com.", "CallerReference": "a",
              "Config": {"PrivateZone": True}},
             {"Id": "/hostedzone/ZOTHER", "Name": "example.com.au.", "CallerReference": "b"},
             {"Id": "/hostedzone/ZPUBLIC", "Name": "example.com.", "CallerReference": "c",
              "Config": {"PrivateZone": False}}]
    with Stubber(route53) as stub:
        stub.add_response("list_hosted_zones_by_name",
                          {"HostedZones": zones, "IsTruncated": False, "MaxItems": "10"},
                          {"DNSName": "example.com.", "MaxItems": "10"})
        zone = Account(client("sts"), client("ec2"), route53).hosted_zone("example.com", None)
    assert zone.zone_id == "ZPUBLIC"
    with Stubber(route53) as stub:
        stub.add_response("list_hosted_zones_by_name",
                          {"HostedZones": zones[:2], "IsTruncated": False, "MaxItems": "10"})
        with pytest.raises(AwsPreconditionError, match="no public Route 53 hosted zone"):
            Account(client("sts"), client("ec2"), route53).hosted_zone("example.com", None)


def test_default_vpc_subnets_come_from_two_zones() -> None:
    ec2 = client("ec2")
    subnets = [{"SubnetId": "subnet-3", "AvailabilityZone": "ap-southeast-2b"},
               {"SubnetId": "subnet-1", "AvailabilityZone": "ap-southeast-2a"},
               {"SubnetId": "subnet-2", "AvailabilityZone": "ap-southeast-2a"}]
    with Stubber(ec2) as stub:
        stub.add_response("describe_vpcs", {"Vpcs": [{"VpcId": "vpc-1"}]})
        stub.add_response("describe_subnets", {"Subnets": subnets})
        vpc, chosen = Account(client("sts"), ec2, client("route53")).default_vpc()
    assert (vpc, chosen) == ("vpc-1", ["subnet-1", "subnet-3"])
    with Stubber(ec2) as stub:
        stub.add_response("describe_vpcs", {"Vpcs": []})
        with pytest.raises(AwsPreconditionError, match="no default VPC"):
            Account(client("sts"), ec2, client("route53")).default_vpc()


def test_other_aws_errors_say_what_failed() -> None:
    sts = client("sts")
    with Stubber(sts) as stub:
        stub.add_client_error("get_caller_identity", "InternalFailure", "boom",
                              http_status_code=500)
        with pytest.raises(AwsError, match="check the AWS credentials: boom"):
            Account(sts, client("ec2"), client("route53")).identity()


def test_expired_sso_sessions_and_unreachable_endpoints_are_exit_3() -> None:
    from botocore.exceptions import EndpointConnectionError, UnauthorizedSSOTokenError

    from dockyard.aws.errors import translate

    sso = translate(UnauthorizedSSOTokenError(), "check the AWS credentials")
    assert isinstance(sso, AwsPreconditionError)
    assert "SSO session has expired" in sso.message
    assert "aws sso login" in (sso.hint or "")
    unreachable = translate(EndpointConnectionError(endpoint_url="https://sts.xx-foo-1.amazonaws.com"),
                            "check the AWS credentials")
    assert isinstance(unreachable, AwsPreconditionError)
    assert "cannot reach https://sts.xx-foo-1.amazonaws.com" in unreachable.message
    assert "region" in (unreachable.hint or "")


def test_kept_repositories_count_images_not_tags_across_pages() -> None:
    ecr = client("ecr")
    arn = "arn:aws:ecr:ap-southeast-2:123456789012:repository/acme/web"
    one, two = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    with Stubber(ecr) as stub:
        stub.add_response("describe_repositories", {"repositories": [
            {"repositoryName": "acme/web", "repositoryArn": arn},
            {"repositoryName": "other/web", "repositoryArn": arn.replace("acme", "other")}]})
        stub.add_response("list_tags_for_resource",
                          {"tags": [{"Key": "dockyard:name", "Value": "acme"}]})
        stub.add_response("list_images", {"imageIds": [
            {"imageDigest": one, "imageTag": "build-1"}, {"imageDigest": one, "imageTag": "v1"},
            {"imageDigest": one, "imageTag": "latest"}],
            "nextToken": "page-2"}, {"repositoryName": "acme/web"})
        stub.add_response("list_images", {"imageIds": [
            {"imageDigest": two, "imageTag": "build-2"}]},
            {"repositoryName": "acme/web", "nextToken": "page-2"})
        retained = RetainedData(client("efs"), ecr, client("backup"), client("s3"))
        (kept,) = retained.repositories("acme")
    assert (kept.name, kept.image_count) == ("acme/web", 2)


@pytest.mark.parametrize("region", ["ap-southeast-2", "us-east-1", "af-south-1"])
def test_presigned_urls_are_regional_virtual_hosted(region: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    # S3 redirects the global endpoint (307) for new or non-us-east-1 buckets, which breaks
    # the signature, and refuses it in regions launched after March 2019. A real account's
    # URL (no endpoint override) must name the bucket's regional endpoint.
    import boto3

    from dockyard.aws.session import AwsSession
    from dockyard.aws.storage import Objects

    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    session = boto3.Session(aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="x",
                            region_name=region)
    url = Objects(AwsSession(session, region).client("s3")).presign_put("bkt", "digests/1", 60)
    assert url.startswith(f"https://bkt.s3.{region}.amazonaws.com/digests/1?"), url
    assert f"%2F{region}%2Fs3%2Faws4_request" in url


@pytest.mark.parametrize("size", [1000, 8 * 1024 * 1024 + 17], ids=["one PUT", "multipart"])
def test_the_checksum_s3_keeps_is_the_one_computed_before_uploading(tmp_path: Path,
                                                                     size: int) -> None:
    """Objects.upload sends a SHA-256 checksum S3 verifies and keeps, in parts of
    UPLOAD_PART_BYTES; s3_checksum computes, before any upload, what S3 will say: the whole
    object's for a single PUT, the composite (SHA-256 of the parts' digests, then -N) for a
    multipart upload (S3 User Guide, "Checking object integrity")."""
    import os

    import boto3
    from moto import mock_aws

    from dockyard.aws.storage import Objects
    from dockyard.builds.context import s3_checksum

    path = tmp_path / "ctx.tar.gz"
    path.write_bytes(os.urandom(size))
    with mock_aws():
        client = boto3.client("s3", region_name="ap-southeast-2")
        client.create_bucket(Bucket="contexts-bucket", CreateBucketConfiguration={
            "LocationConstraint": "ap-southeast-2"})
        objects = Objects(client)
        assert objects.checksum("contexts-bucket", "k") is None
        objects.upload(path, "contexts-bucket", "k")
        kept, computed = objects.checksum("contexts-bucket", "k"), s3_checksum(path)
        assert kept is not None
        # moto 5.2 leaves a multipart checksum's -<parts> off; AWS sends it.
        assert kept.split("-")[0] == computed.split("-")[0]
        assert computed.endswith("-2") == (size > 8 * 1024 * 1024)
