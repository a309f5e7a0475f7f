"""The strict emulator itself: each behaviour it adds to moto, shown the way AWS shows it.

A test double that is kinder than AWS proves nothing, and one that is harsher than AWS sends
developers chasing ghosts: each test names the AWS documentation the behaviour follows
(devtools/strict/*.py quote it).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError, FlexibleChecksumError
from devtools.strict.account import StrictAccount
from devtools.strict.behaviour import break_update_rollback

REGION = "ap-southeast-2"
ACCOUNT = "123456789012"


def inspector(strict: StrictAccount, service: str) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=strict.inspector,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


def role(strict: StrictAccount, name: str, *statements: dict[str, Any]) -> str:
    iam = inspector(strict, "iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": list(statements)}))
    return str(arn)


def allow(actions: list[str], resources: list[str], **condition: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Action": actions, "Resource": resources}
    if condition:
        statement["Condition"] = condition
    return statement


@pytest.fixture()
def quiet(strict: StrictAccount) -> StrictAccount:
    """The strict account without random faults (the fault tests turn them on)."""
    strict.profile.fault_rate = 0
    return strict


@pytest.fixture()
def bucket(quiet: StrictAccount) -> str:
    inspector(quiet, "s3").create_bucket(
        Bucket="ctx-bucket", CreateBucketConfiguration={"LocationConstraint": REGION})
    inspector(quiet, "s3").put_object(Bucket="ctx-bucket", Key="contexts/a.tar.gz", Body=b"x")
    return "ctx-bucket"


# -- identities and IAM -----------------------------------------------------------------------

def test_a_role_session_may_do_only_what_its_policy_allows(quiet: StrictAccount,
                                                          bucket: str) -> None:
    arn = role(quiet, "reader", allow(["s3:GetObject"], [f"arn:aws:s3:::{bucket}/contexts/*"]))
    s3 = quiet.client("s3", quiet.session(arn))
    assert s3.get_object(Bucket=bucket, Key="contexts/a.tar.gz")["Body"].read() == b"x"
    with pytest.raises(ClientError) as denied:
        s3.put_object(Bucket=bucket, Key="contexts/b.tar.gz", Body=b"y")
    assert code(denied) == "AccessDenied"
    assert "assumed-role/reader/" in str(denied.value)
    assert "s3:PutObject on resource: arn:aws:s3:::ctx-bucket/contexts/b.tar.gz" \
        in str(denied.value)


def test_s3_answers_403_for_a_missing_key_unless_the_caller_may_list(quiet: StrictAccount,
                                                                    bucket: str) -> None:
    # S3 API Reference, HeadObject: "If you don't have the s3:ListBucket permission, Amazon S3
    # returns an HTTP status code 403 Forbidden error."
    reader = role(quiet, "reader", allow(["s3:GetObject"], [f"arn:aws:s3:::{bucket}/*"]))
    lister = role(quiet, "lister", allow(["s3:GetObject"], [f"arn:aws:s3:::{bucket}/*"]),
                  allow(["s3:ListBucket"], [f"arn:aws:s3:::{bucket}"]))
    for arn, status in ((reader, "403"), (lister, "404")):
        with pytest.raises(ClientError) as missing:
            quiet.client("s3", quiet.session(arn)).head_object(Bucket=bucket, Key="contexts/no")
        assert code(missing) == status


def test_conditions_explicit_denies_and_both_required_resources(quiet: StrictAccount) -> None:
    ecs = inspector(quiet, "ecs")
    ecs.create_cluster(clusterName="acme")
    services = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/acme/*"
    arn = role(quiet, "deployer",
               allow(["ecs:DescribeServices"], [services],
                     ArnEquals={"ecs:cluster": f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/acme"}),
               allow(["ecs:DescribeServiceRevisions"],
                     [f"arn:aws:ecs:{REGION}:{ACCOUNT}:service-revision/acme/*"]),
               {"Effect": "Deny", "Action": "ecs:DescribeServices",
                "Resource": f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/acme/jenkins*"})
    client = quiet.client("ecs", quiet.session(arn))
    client.describe_services(cluster="acme", services=["web"])  # allowed
    with pytest.raises(ClientError) as denied:
        client.describe_services(cluster="acme", services=["jenkins"])
    assert "explicit deny" in str(denied.value)
    # The Service Authorization Reference lists service* and service-revision* for it.
    with pytest.raises(ClientError) as both:
        client.describe_service_revisions(serviceRevisionArns=[
            f"arn:aws:ecs:{REGION}:{ACCOUNT}:service-revision/acme/web/1"])
    assert f"on resource: arn:aws:ecs:{REGION}:{ACCOUNT}:service/acme/web" in str(both.value)


def test_run_task_needs_pass_role_for_the_task_definitions_roles(quiet: StrictAccount) -> None:
    ecs = inspector(quiet, "ecs")
    ecs.create_cluster(clusterName="acme")
    task_role = f"arn:aws:iam::{ACCOUNT}:role/acme-kaniko"
    definition = ecs.register_task_definition(
        family="acme-kaniko-amd64", taskRoleArn=task_role, networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
        containerDefinitions=[{"name": "kaniko", "image": "k", "memory": 512}]
    )["taskDefinition"]["taskDefinitionArn"]
    arn = role(quiet, "agent", allow(["ecs:RunTask"], [definition]))
    with pytest.raises(ClientError) as denied:
        quiet.client("ecs", quiet.session(arn)).run_task(
            cluster="acme", taskDefinition=definition, launchType="FARGATE",
            networkConfiguration=network(quiet))
    assert f"iam:PassRole on resource: {task_role}" in str(denied.value)


def test_sessions_expire_and_unknown_keys_are_refused(quiet: StrictAccount, bucket: str) -> None:
    import time

    arn = role(quiet, "short", allow(["s3:GetObject"], ["*"]))
    s3 = quiet.client("s3", quiet.session(arn, seconds=1))
    time.sleep(1.5)
    with pytest.raises(ClientError) as expired:
        s3.get_object(Bucket=bucket, Key="contexts/a.tar.gz")
    assert code(expired) == "ExpiredToken"
    stranger = boto3.client(
        "sts", region_name=REGION, aws_access_key_id="AKIASTRANGER00000000",
        aws_secret_access_key="x", verify=str(quiet.network.authority.bundle),  # type: ignore[union-attr]
        config=boto3.session.Config(proxies={"https": quiet.network.proxy_url}))  # type: ignore[union-attr]
    with pytest.raises(ClientError) as unknown:
        stranger.get_caller_identity()
    assert code(unknown) == "InvalidClientTokenId"


def test_the_container_credentials_endpoint_hands_out_the_roles_sessions(
        quiet: StrictAccount) -> None:
    arn = role(quiet, "task", allow(["sts:GetCallerIdentity"], ["*"]))
    env = quiet.env(arn)
    answer = requests.get(env["AWS_CONTAINER_CREDENTIALS_FULL_URI"], timeout=10).json()
    assert answer["RoleArn"] == arn and answer["AccessKeyId"].startswith("ASIA")
    assert "AWS_ACCESS_KEY_ID" not in env


# -- presigned URLs and the network ---------------------------------------------------------------

def _presign(strict: StrictAccount, style: str, method: str = "put_object",
             seconds: int = 60) -> str:
    import botocore.config

    client = boto3.client("s3", region_name=REGION, aws_access_key_id="testing",
                          aws_secret_access_key="testing", config=botocore.config.Config(
                              signature_version="s3v4", s3={"addressing_style": style}))
    return str(client.generate_presigned_url(method, Params={"Bucket": "ctx-bucket",
                                                             "Key": "digests/1"},
                                             ExpiresIn=seconds))


def test_the_global_endpoint_redirects_and_the_signature_then_fails(quiet: StrictAccount,
                                                                   bucket: str) -> None:
    url = _presign(quiet, "auto")
    assert url.startswith("https://ctx-bucket.s3.amazonaws.com/")
    answer = quiet.http().put(url, data=b"sha256:1", timeout=10)
    assert [r.status_code for r in answer.history] == [307]
    assert answer.status_code == 403 and "SignatureDoesNotMatch" in answer.text
    regional = quiet.http().put(_presign(quiet, "virtual"), data=b"sha256:1", timeout=10)
    assert regional.status_code == 200


def test_expired_urls_and_signature_version_2_are_refused(quiet: StrictAccount,
                                                         bucket: str) -> None:
    import time

    url = _presign(quiet, "virtual", seconds=1)
    time.sleep(2)
    expired = quiet.http().put(url, data=b"x", timeout=10)
    assert expired.status_code == 403 and "Request has expired" in expired.text
    legacy = quiet.client("s3").generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "contexts/a.tar.gz"})
    refused = quiet.http().get(legacy, timeout=10)
    assert "AWS4-HMAC-SHA256" in refused.text and refused.status_code == 400


def test_answer_faults_hit_the_traffic_from_outside_the_account_only(quiet: StrictAccount,
                                                                     bucket: str) -> None:
    """An emptied answer reaches a client outside the account (as the CLI is); the players
    inside it (kaniko's task) mark their requests and are spared (network.py, INSIDE)."""
    import botocore.config
    from devtools.strict.credentials import ADMIN_KEY, ADMIN_SECRET

    quiet.profile.answer_fault, quiet.profile.answer_fault_rate = "empty", 1.0
    assert quiet.network is not None
    outside = boto3.client(
        "s3", region_name=REGION, aws_access_key_id=ADMIN_KEY, aws_secret_access_key=ADMIN_SECRET,
        verify=str(quiet.network.authority.bundle),
        config=botocore.config.Config(proxies={"https": quiet.network.proxy_url}))
    answer = outside.get_object(Bucket=bucket, Key="contexts/a.tar.gz")
    with pytest.raises(FlexibleChecksumError):  # botocore checks the body against its checksum
        answer["Body"].read()
    assert quiet.network.damaged == ["empty"]
    inside = quiet.client("s3").get_object(Bucket=bucket, Key="contexts/a.tar.gz")
    assert inside["Body"].read() == b"x"
    assert quiet.network.damaged == ["empty"]


def test_opt_in_regions_refuse_the_global_endpoint(quiet: StrictAccount) -> None:
    boto3.client("s3", region_name="af-south-1", endpoint_url=quiet.inspector,
                 aws_access_key_id="testing", aws_secret_access_key="testing").create_bucket(
        Bucket="cape-bucket", CreateBucketConfiguration={"LocationConstraint": "af-south-1"})
    answer = quiet.http().get("https://cape-bucket.s3.amazonaws.com/x", timeout=10)
    assert answer.status_code == 400 and "IllegalLocationConstraintException" in answer.text


def test_hosts_outside_aws_have_no_route(quiet: StrictAccount) -> None:
    with pytest.raises(requests.exceptions.ProxyError):
        quiet.http().get("https://example.com/", timeout=10)


# -- eventual consistency -------------------------------------------------------------------------

def network(strict: StrictAccount) -> dict[str, Any]:
    """An awsvpc configuration in the default VPC (RunTask needs one)."""
    ec2 = inspector(strict, "ec2")
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    group = ec2.describe_security_groups()["SecurityGroups"][0]["GroupId"]
    return {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}}


def _cluster_and_definition(strict: StrictAccount) -> str:
    ecs = inspector(strict, "ecs")
    ecs.create_cluster(clusterName="acme")
    return str(ecs.register_task_definition(
        family="app", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
        memory="512", containerDefinitions=[{"name": "app", "image": "a", "memory": 512}]
    )["taskDefinition"]["taskDefinitionArn"])


def test_describe_tasks_misses_a_task_right_after_run_task(quiet: StrictAccount) -> None:
    quiet.profile.stale_reads = 2
    definition = _cluster_and_definition(quiet)
    ecs = quiet.client("ecs")
    arn = ecs.run_task(cluster="acme", taskDefinition=definition, launchType="FARGATE",
                       networkConfiguration=network(quiet)
                       )["tasks"][0]["taskArn"]
    answers = [ecs.describe_tasks(cluster="acme", tasks=[arn]) for _ in range(3)]
    assert [a["failures"] for a in answers[:2]] == [[{"arn": arn, "reason": "MISSING"}]] * 2
    assert [t["taskArn"] for t in answers[2]["tasks"]] == [arn]


def test_describe_services_shows_the_previous_deployments_after_update(
        quiet: StrictAccount) -> None:
    quiet.profile.stale_reads = 2
    definition = _cluster_and_definition(quiet)
    ecs = quiet.client("ecs")
    ecs.create_service(cluster="acme", serviceName="web", taskDefinition=definition,
                       desiredCount=1, launchType="FARGATE")
    assert ecs.describe_services(cluster="acme", services=["web"])["failures"][0]["reason"] \
        == "MISSING", "a new service is not visible at once"
    for _ in range(4):
        before = ecs.describe_services(cluster="acme", services=["web"])["services"]
    old = {d["id"] for d in before[0]["deployments"]}
    new = ecs.update_service(cluster="acme", service="web", taskDefinition=definition,
                             forceNewDeployment=True)["service"]["deployments"][0]["id"]
    stale = [{d["id"] for d in ecs.describe_services(cluster="acme", services=["web"])
              ["services"][0]["deployments"]} for _ in range(3)]
    assert stale[0] == stale[1] == old and new not in old
    assert new in stale[2]


def test_describe_stacks_shows_the_stack_as_it_was_after_execute(quiet: StrictAccount) -> None:
    quiet.profile.stale_reads = 2
    cloudformation = quiet.client("cloudformation")
    template = json.dumps({"Resources": {"Group": {"Type": "AWS::Logs::LogGroup"}}})
    change_set = cloudformation.create_change_set(
        StackName="s", ChangeSetName="c1", TemplateBody=template, ChangeSetType="CREATE")
    cloudformation.execute_change_set(ChangeSetName=change_set["Id"])
    statuses = [cloudformation.describe_stacks(StackName="s")["Stacks"][0]["StackStatus"]
                for _ in range(3)]
    assert statuses == ["REVIEW_IN_PROGRESS", "REVIEW_IN_PROGRESS", "CREATE_COMPLETE"]


# -- quotas ---------------------------------------------------------------------------------------

def test_cloudformation_template_quotas(quiet: StrictAccount) -> None:
    cloudformation = quiet.client("cloudformation")
    big = json.dumps({"Resources": {"G": {"Type": "AWS::Logs::LogGroup"}},
                      "Description": "x" * 1024, "Metadata": {"pad": "y" * 51_200}})
    with pytest.raises(ClientError) as size:
        cloudformation.create_change_set(StackName="s", ChangeSetName="c", TemplateBody=big,
                                         ChangeSetType="CREATE")
    assert "51200" in str(size.value)
    parameters = {f"P{i}": {"Type": "String", "Default": "x"} for i in range(201)}
    with pytest.raises(ClientError) as count:
        cloudformation.create_change_set(
            StackName="s", ChangeSetName="c", ChangeSetType="CREATE", TemplateBody=json.dumps(
                {"Parameters": parameters,
                 "Resources": {"G": {"Type": "AWS::Logs::LogGroup"}}}))
    assert "Number of parameters (201)" in str(count.value)


def test_run_task_overrides_are_at_most_8192_characters(quiet: StrictAccount) -> None:
    definition = _cluster_and_definition(quiet)
    with pytest.raises(ClientError) as long:
        quiet.client("ecs").run_task(
            cluster="acme", taskDefinition=definition, launchType="FARGATE",
            overrides={"containerOverrides": [{"name": "app", "command": ["x" * 8200]}]},
            networkConfiguration=network(quiet))
    assert "8192" in str(long.value)


def test_a_role_over_iams_policy_size_rolls_its_stack_back(quiet: StrictAccount) -> None:
    cloudformation = quiet.client("cloudformation")
    resources = [f"arn:aws:s3:::bucket-{i:04d}/*" for i in range(400)]
    template = json.dumps({"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
        "Policies": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17",
                      "Statement": [allow(["s3:GetObject"], resources)]}}]}}}})
    change_set = cloudformation.create_change_set(
        StackName="big-role", ChangeSetName="c", TemplateBody=template, ChangeSetType="CREATE",
        Capabilities=["CAPABILITY_IAM"])
    cloudformation.execute_change_set(ChangeSetName=change_set["Id"])  # accepted: fails later
    stack = inspector(quiet, "cloudformation").describe_stacks(StackName="big-role")["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "Maximum policy size of 10240 bytes exceeded" in stack["StackStatusReason"]


def test_listener_rules_and_load_balancer_names(quiet: StrictAccount) -> None:
    ec2 = inspector(quiet, "ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][:2]]
    elb = quiet.client("elbv2")
    with pytest.raises(ClientError) as name:
        elb.create_load_balancer(Name="x" * 33, Subnets=subnets)
    assert "32" in str(name.value)
    balancer = elb.create_load_balancer(Name="lb", Subnets=subnets)["LoadBalancers"][0]
    group = elb.create_target_group(Name="tg", Protocol="HTTP", Port=80, VpcId=vpc)
    forward = [{"Type": "forward",
                "TargetGroupArn": group["TargetGroups"][0]["TargetGroupArn"]}]
    listener = elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"],
                                   Protocol="HTTP", Port=80, DefaultActions=forward)
    arn = listener["Listeners"][0]["ListenerArn"]
    for priority in range(1, 101):
        inspector(quiet, "elbv2").create_rule(
            ListenerArn=arn, Priority=priority, Actions=forward, Conditions=[
                {"Field": "host-header", "Values": [f"h{priority}.example.com"]}])
    with pytest.raises(ClientError) as rules:
        elb.create_rule(ListenerArn=arn, Priority=101, Actions=forward, Conditions=[
            {"Field": "host-header", "Values": ["h101.example.com"]}])
    assert code(rules) == "TooManyRules"


# -- CloudFormation and ECS behaviours ------------------------------------------------------------

def test_a_cluster_with_tasks_cannot_be_deleted_and_its_stack_says_so(
        quiet: StrictAccount) -> None:
    cloudformation = quiet.client("cloudformation")
    template = json.dumps({"Resources": {"Cluster": {"Type": "AWS::ECS::Cluster",
                                                     "Properties": {"ClusterName": "acme"}}}})
    cloudformation.create_stack(StackName="c", TemplateBody=template)
    ecs = inspector(quiet, "ecs")
    definition = ecs.register_task_definition(
        family="f", networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
        memory="512", containerDefinitions=[{"name": "a", "image": "a", "memory": 512}]
    )["taskDefinition"]["taskDefinitionArn"]
    task = ecs.run_task(cluster="acme", taskDefinition=definition, launchType="FARGATE",
                        networkConfiguration=network(quiet))["tasks"][0]
    cloudformation.delete_stack(StackName="c")
    stack = inspector(quiet, "cloudformation").describe_stacks(StackName="c")["Stacks"][0]
    assert stack["StackStatus"] == "DELETE_FAILED"
    assert "ClusterContainsTasksException" in stack["StackStatusReason"] or \
        "Tasks are active" in stack["StackStatusReason"]
    ecs.stop_task(cluster="acme", task=task["taskArn"])
    cloudformation.delete_stack(StackName="c")  # DeleteStack again, as AWS allows
    assert [s for s in inspector(quiet, "cloudformation").describe_stacks()["Stacks"]
            if s["StackName"] == "c"] == []


def test_continue_update_rollback_and_last_updated_time(quiet: StrictAccount) -> None:
    cloudformation = quiet.client("cloudformation")
    template = {"Resources": {"G": {"Type": "AWS::Logs::LogGroup"}}}
    cloudformation.create_stack(StackName="s", TemplateBody=json.dumps(template))
    assert "LastUpdatedTime" not in inspector(quiet, "cloudformation").describe_stacks(
        StackName="s")["Stacks"][0]
    template["Resources"]["H"] = {"Type": "AWS::Logs::LogGroup"}
    change_set = cloudformation.create_change_set(StackName="s", ChangeSetName="u",
                                                  TemplateBody=json.dumps(template),
                                                  ChangeSetType="UPDATE")
    cloudformation.execute_change_set(ChangeSetName=change_set["Id"])
    assert "LastUpdatedTime" in inspector(quiet, "cloudformation").describe_stacks(
        StackName="s")["Stacks"][0]
    break_update_rollback("s")
    cloudformation.continue_update_rollback(StackName="s")
    assert inspector(quiet, "cloudformation").describe_stacks(StackName="s")["Stacks"][0][
        "StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"


def test_list_tasks_by_service_lists_only_that_services_tasks(quiet: StrictAccount) -> None:
    definition = _cluster_and_definition(quiet)
    ecs = inspector(quiet, "ecs")
    for group in ("service:jenkins", "family:app"):
        ecs.run_task(cluster="acme", taskDefinition=definition, launchType="FARGATE",
                     group=group, networkConfiguration=network(quiet))
    listed = quiet.client("ecs").list_tasks(cluster="acme", serviceName="jenkins")["taskArns"]
    described = ecs.describe_tasks(cluster="acme", tasks=listed)["tasks"]
    assert [t["group"] for t in described] == ["service:jenkins"]


def test_log_streams_report_their_last_event_lazily(quiet: StrictAccount) -> None:
    import time

    logs = inspector(quiet, "logs")
    logs.create_log_group(logGroupName="g")
    now = int(time.time() * 1000)
    for stream, start in (("old", now - 20 * 60_000), ("new", now)):
        logs.create_log_stream(logGroupName="g", logStreamName=stream)
        logs.put_log_events(logGroupName="g", logStreamName=stream,
                            logEvents=[{"timestamp": start, "message": stream}])
    newest = quiet.client("logs").describe_log_streams(
        logGroupName="g", orderBy="LastEventTime", descending=True, limit=1)["logStreams"]
    assert [s["logStreamName"] for s in newest] == ["old"], "the new one is not counted yet"


# -- faults ---------------------------------------------------------------------------------------

def test_faults_come_at_the_seeded_rate_and_sdk_retries_absorb_them(strict: StrictAccount) -> None:
    strict.profile.fault_rate = 0.3
    raw = boto3.client("sts", region_name=REGION, aws_access_key_id="testing",
                       aws_secret_access_key="testing",
                       verify=str(strict.network.authority.bundle),  # type: ignore[union-attr]
                       config=boto3.session.Config(
                           proxies={"https": strict.network.proxy_url},  # type: ignore[union-attr]
                           retries={"mode": "standard", "total_max_attempts": 1}))
    failures = 0
    for _ in range(60):
        try:
            raw.get_caller_identity()
        except Exception:
            failures += 1
    assert 6 <= failures <= 36, failures
    patient = strict.client("sts")  # standard mode, 8 attempts, as dockyard's clients
    for _ in range(20):
        assert patient.get_caller_identity()["Account"] == ACCOUNT


def test_a_role_update_changes_its_policies_and_log_group_arns_end_in_a_star(
        quiet: StrictAccount) -> None:
    cloudformation = quiet.client("cloudformation")

    def template(actions: list[str]) -> str:
        return json.dumps({"Resources": {
            "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/g"}},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {
                "RoleName": "r",
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
                "Policies": [{"PolicyName": "p", "PolicyDocument": {
                    "Version": "2012-10-17", "Statement": [{
                        "Effect": "Allow", "Action": actions,
                        "Resource": {"Fn::GetAtt": ["Logs", "Arn"]}}]}}]}}}})

    cloudformation.create_stack(StackName="s", TemplateBody=template(["logs:PutLogEvents"]),
                                Capabilities=["CAPABILITY_NAMED_IAM"])
    change_set = cloudformation.create_change_set(
        StackName="s", ChangeSetName="u", ChangeSetType="UPDATE",
        TemplateBody=template(["logs:GetLogEvents"]), Capabilities=["CAPABILITY_NAMED_IAM"])
    cloudformation.execute_change_set(ChangeSetName=change_set["Id"])
    from moto.iam.models import iam_backends

    document = iam_backends[ACCOUNT]["aws"].get_role("r").policies["p"]
    document = json.loads(document) if isinstance(document, str) else document
    (statement,) = document["Statement"]
    assert statement["Action"] == ["logs:GetLogEvents"], "the update reached the role"
    assert statement["Resource"] == f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/g:*"


def test_the_emulator_stops_at_once_when_its_port_is_busy() -> None:
    """It used to print moto's "in use" from a thread and then hang."""
    import socket
    import subprocess
    import sys

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "devtools.moto_server", "--port", str(port)],
                              capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert f"port {port} is in use" in done.stderr


@pytest.mark.parametrize(("content", "problem"), [
    (None, "--config: cannot read"),
    ("name: [\n", "--config: "),
    ("name: Shop!\n", "--config: "),
])
def test_the_emulator_refuses_a_config_it_cannot_serve(
        tmp_path: Any, content: str | None, problem: str) -> None:
    """``--config`` serves an existing dockyard.yml: one it cannot read or parse stops it
    at once (exit 2, one line), before anything listens."""
    import subprocess
    import sys

    config = tmp_path / "dockyard.yml"
    if content is not None:
        config.write_text(content)
    done = subprocess.run([sys.executable, "-m", "devtools.moto_server", "--port", "0",
                           "--config", str(config)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(problem) and len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(("trust", "refused"), [
    ({"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"},
      "Action": "sts:AssumeRole"}, False),
    ({"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"},
      "Action": "sts:AssumeRole",
      "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}}}, True),
    ({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"},
      "Action": "sts:AssumeRole"}, True),
])
def test_a_progressive_service_needs_an_infrastructure_role_ecs_can_assume(
        quiet: StrictAccount, trust: dict[str, Any], refused: bool) -> None:
    """AWS documents the infrastructure role's trust as ecs.amazonaws.com, sts:AssumeRole and
    no condition; a condition ECS is not documented to satisfy is not counted on."""
    definition = _cluster_and_definition(quiet)
    iam, elb, ec2 = (inspector(quiet, s) for s in ("iam", "elbv2", "ec2"))
    arn = iam.create_role(RoleName="infra", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [trust]}))["Role"]["Arn"]
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    balancer = elb.create_load_balancer(Name="lb", Subnets=subnets)["LoadBalancers"][0]
    blue, green = (elb.create_target_group(Name=n, Protocol="HTTP", Port=80, VpcId=vpc,
                                           TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
                   for n in ("blue", "green"))
    listener = elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP",
                                   Port=80, DefaultActions=[{"Type": "forward",
                                                             "TargetGroupArn": blue}])
    rule = elb.create_rule(ListenerArn=listener["Listeners"][0]["ListenerArn"], Priority=1,
                           Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
                           Actions=[{"Type": "forward", "TargetGroupArn": blue}])
    request = dict(
        cluster="acme", serviceName="web", taskDefinition=definition, desiredCount=1,
        launchType="FARGATE",
        deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1},
        loadBalancers=[{"targetGroupArn": blue, "containerName": "app", "containerPort": 80,
                        "advancedConfiguration": {
                            "alternateTargetGroupArn": green, "roleArn": arn,
                            "productionListenerRule": rule["Rules"][0]["RuleArn"]}}])
    ecs = inspector(quiet, "ecs")
    if not refused:
        assert ecs.create_service(**request)["service"]["serviceName"] == "web"
        return
    with pytest.raises(ClientError) as err:
        ecs.create_service(**request)
    assert code(err) == "InvalidParameterException"
    assert "unable to assume role" in str(err.value)
    assert ecs.list_services(cluster="acme")["serviceArns"] == [], "nothing was created"


def test_access_logs_need_a_bucket_policy_letting_elastic_load_balancing_write(
        quiet: StrictAccount) -> None:
    """ELB User Guide, "Enable access logs": the load balancer tests its permission on the
    bucket when logging is turned on; in ap-southeast-2, ELB's account 783225319266 writes."""
    ec2, elb, s3 = (inspector(quiet, s) for s in ("ec2", "elbv2", "s3"))
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][:2]]
    arn = elb.create_load_balancer(Name="logged", Subnets=subnets)[
        "LoadBalancers"][0]["LoadBalancerArn"]
    logs = [{"Key": "access_logs.s3.enabled", "Value": "true"},
            {"Key": "access_logs.s3.bucket", "Value": "the-logs"},
            {"Key": "access_logs.s3.prefix", "Value": "alb"}]

    def refused() -> str:
        with pytest.raises(ClientError) as err:
            elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=logs)
        assert code(err) == "InvalidConfigurationRequest"
        return str(err.value)

    assert "Access Denied for bucket: the-logs" in refused(), "no such bucket"
    s3.create_bucket(Bucket="the-logs",
                     CreateBucketConfiguration={"LocationConstraint": REGION})
    assert "Please check S3bucket permission" in refused(), "no policy"

    def put(principal: dict[str, str], resource: str) -> None:
        s3.put_bucket_policy(Bucket="the-logs", Policy=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": principal, "Action": "s3:PutObject",
                "Resource": resource}]}))

    put({"AWS": "arn:aws:iam::783225319266:root"}, "arn:aws:s3:::the-logs/elb/AWSLogs/*")
    refused()  # another prefix
    put({"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
        f"arn:aws:s3:::the-logs/alb/AWSLogs/{ACCOUNT}/*")
    refused()  # the service principal is for Regions opened since August 2022
    put({"AWS": "arn:aws:iam::783225319266:root"},
        f"arn:aws:s3:::the-logs/alb/AWSLogs/{ACCOUNT}/*")
    elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=logs)
    attributes = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(
        LoadBalancerArn=arn)["Attributes"]}
    assert attributes["access_logs.s3.bucket"] == "the-logs"


def test_a_bucket_policy_is_judged_with_its_conditions() -> None:
    """S3 User Guide, "Managing access based on HTTP or HTTPS requests": the usual "deny plain
    HTTP" statement denies nothing that arrives over TLS, as every request here does; a deny
    without a condition still denies, and statements for one principal are not moto's to
    judge."""
    from devtools.strict.cfn_models import bucket_permission

    key = "arn:aws:s3:::b/contexts/a.tar.gz"
    plain_http = {"Sid": "DenyPlainHttp", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                  "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
                  "Condition": {"Bool": {"aws:SecureTransport": "false"}}}

    def document(*statements: dict[str, Any]) -> str:
        return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})

    assert bucket_permission(document(plain_http), "s3:PutObject", key) == "NEUTRAL"
    unconditional = {**plain_http, "Condition": {}}
    assert bucket_permission(document(unconditional), "s3:PutObject", key) == "DENIED"
    public = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
              "Resource": "arn:aws:s3:::b/*"}
    assert bucket_permission(document(plain_http, public), "s3:GetObject", key) == "PERMITTED"
    one = {**public, "Principal": {"AWS": "arn:aws:iam::783225319266:root"}}
    assert bucket_permission(document(one), "s3:GetObject", key) == "NEUTRAL"
