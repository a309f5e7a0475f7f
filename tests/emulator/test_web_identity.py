"""The strict emulator's AWS STS AssumeRoleWithWebIdentity and its IAM OIDC provider, played
as AWS documents them (devtools/strict/web_identity.py quotes each rule), with Jenkins' issuer
as the oidc-provider plugin runs it (devtools/jenkins_oidc.py). moto itself hands out
credentials for any token and any role; here each refusal AWS makes is made."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore import UNSIGNED
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import rsa
from devtools.jenkins_oidc import JenkinsIssuer
from devtools.strict.account import StrictAccount

from tests.conftest import example_config
from tests.emulator.test_strict import ACCOUNT, code, inspector

PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/jenkins.example.com/oidc"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/acme-pipeline-web"


@pytest.fixture()
def issuer(strict: StrictAccount) -> JenkinsIssuer:
    """Jenkins' issuer on the internet, its provider in IAM, and a role trusting web/main."""
    strict.profile.fault_rate = 0
    found = JenkinsIssuer(example_config())
    strict.publish(found)
    iam = inspector(strict, "iam")
    iam.create_open_id_connect_provider(Url=found.url, ClientIDList=["sts.amazonaws.com"])
    iam.create_role(RoleName="acme-pipeline-web", MaxSessionDuration=7200,
                    AssumeRolePolicyDocument=json.dumps(trust("web/main")))
    iam.put_role_policy(RoleName="acme-pipeline-web", PolicyName="p", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "ecs:ListClusters", "Resource": "*"}]}))
    return found


def trust(*subjects: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": PROVIDER},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {"jenkins.example.com/oidc:aud": "sts.amazonaws.com",
                                       "jenkins.example.com/oidc:sub": list(subjects)}}}]}


def exchange(strict: StrictAccount, token: str, role: str = ROLE,
             seconds: int = 3600) -> dict[str, Any]:
    sts = strict.client("sts")
    sts.meta.events.register("choose-signer.sts.*", lambda **_: UNSIGNED)
    answer: dict[str, Any] = sts.assume_role_with_web_identity(
        RoleArn=role, RoleSessionName="web.main.7", WebIdentityToken=token,
        DurationSeconds=seconds)
    return answer


def test_a_trusted_builds_token_gets_a_session_that_iam_then_judges(
        strict: StrictAccount, issuer: JenkinsIssuer) -> None:
    answer = exchange(strict, issuer.token("web", "main", build_number=7))
    assert answer["SubjectFromWebIdentityToken"] == "web/main"
    assert answer["AssumedRoleUser"]["Arn"].endswith(":assumed-role/acme-pipeline-web/web.main.7")
    assert answer["Provider"] == "jenkins.example.com/oidc"
    credentials = answer["Credentials"]
    import boto3
    import botocore.config

    assert strict.network is not None
    ecs = boto3.client(
        "ecs", region_name="ap-southeast-2", aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"], verify=str(strict.network.authority.bundle),
        config=botocore.config.Config(proxies={"https": strict.network.proxy_url}))
    ecs.list_clusters()  # allowed by the role's policy
    with pytest.raises(ClientError) as denied:
        ecs.list_task_definitions()
    assert "assumed-role/acme-pipeline-web/web.main.7 is not authorized" in str(denied.value)


@pytest.mark.parametrize(("build", "claims"), [
    ({"pull_request": 12}, {}),  # a pull request: web/PR-12
    ({"branch": "feature/x"}, {}),  # another branch: web/feature%2Fx
    ({"branch": "main"}, {"aud": "https://someone-else.example"}),  # another audience
])
def test_a_token_the_trust_policy_does_not_name_is_refused(
        strict: StrictAccount, issuer: JenkinsIssuer, build: dict[str, Any],
        claims: dict[str, Any]) -> None:
    if "aud" in claims:  # the provider accepts it; the trust policy does not
        iam = inspector(strict, "iam")
        iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER)
        iam.create_open_id_connect_provider(Url=issuer.url,
                                            ClientIDList=["sts.amazonaws.com", claims["aud"]])
    token = issuer.token("web", build.get("branch"), pull_request=build.get("pull_request"),
                         claims=claims)
    with pytest.raises(ClientError) as refused:
        exchange(strict, token)
    assert code(refused) == "AccessDenied"
    assert "Not authorized to perform sts:AssumeRoleWithWebIdentity" in str(refused.value)


def test_what_sts_checks_before_the_trust_policy(strict: StrictAccount,
                                                 issuer: JenkinsIssuer) -> None:
    # A token signed with a key the issuer does not publish (a forgery claiming web/main).
    forged = issuer.sign(issuer.claims("web/main"),
                         key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    with pytest.raises(ClientError) as bad_signature:
        exchange(strict, forged)
    assert code(bad_signature) == "InvalidIdentityToken"
    # An audience the provider does not list.
    with pytest.raises(ClientError) as audience:
        exchange(strict, issuer.token("web", "main", claims={"aud": "elsewhere"}))
    assert (code(audience), "Incorrect token audience") == \
        (audience.value.response["Error"]["Code"], audience.value.response["Error"]["Message"])
    # An issuer the account has no provider for.
    with pytest.raises(ClientError) as stranger:
        exchange(strict, issuer.token("web", "main", claims={"iss": "https://evil.example"}))
    assert code(stranger) == "InvalidIdentityToken"
    assert "No OpenIDConnect provider found" in str(stranger.value)
    # Expired, beyond the five minutes of clock skew IAM allows.
    with pytest.raises(ClientError) as old:
        exchange(strict, issuer.token("web", "main", now=time.time() - 1000))
    assert code(old) == "ExpiredTokenException"
    # Longer than the role allows.
    with pytest.raises(ClientError) as long:
        exchange(strict, issuer.token("web", "main"), seconds=7201)
    assert code(long) == "ValidationError"
    assert exchange(strict, issuer.token("web", "main"), seconds=7200)["Credentials"]
    # Not a JWT at all.
    with pytest.raises(ClientError) as garbage:
        exchange(strict, "not-a-token")
    assert code(garbage) == "InvalidIdentityToken"


def test_a_controller_restart_changes_the_key_and_the_issuer_serves_the_new_one(
        strict: StrictAccount, issuer: JenkinsIssuer) -> None:
    """The plugin generates a new key whenever JCasC applies the credential (every start);
    served by Jenkins itself, the new key is what STS fetches, and old tokens stop working."""
    before = issuer.token("web", "main")
    issuer.restart()
    with pytest.raises(ClientError) as stale:
        exchange(strict, before)
    assert code(stale) == "InvalidIdentityToken"
    assert exchange(strict, issuer.token("web", "main"))["Credentials"]


def test_an_issuer_sts_cannot_reach_fails_with_idp_communication_error(
        strict: StrictAccount, issuer: JenkinsIssuer) -> None:
    strict.unpublish(issuer.url)
    with pytest.raises(ClientError) as unreachable:
        exchange(strict, issuer.token("web", "main"))
    assert code(unreachable) == "IDPCommunicationError"


def test_a_stack_creates_the_oidc_provider(strict: StrictAccount) -> None:
    """moto's CloudFormation skips AWS::IAM::OIDCProvider; the emulator creates it, and Ref is
    its ARN (CloudFormation User Guide, "AWS::IAM::OIDCProvider")."""
    strict.profile.fault_rate = 0
    cloudformation = inspector(strict, "cloudformation")
    cloudformation.create_stack(StackName="oidc", TemplateBody=json.dumps({
        "Resources": {"Issuer": {"Type": "AWS::IAM::OIDCProvider", "Properties": {
            "Url": "https://jenkins.example.com/oidc", "ClientIdList": ["sts.amazonaws.com"]}}},
        "Outputs": {"Arn": {"Value": {"Ref": "Issuer"}}}}))
    (stack,) = cloudformation.describe_stacks(StackName="oidc")["Stacks"]
    assert stack["Outputs"][0]["OutputValue"] == PROVIDER
    provider = inspector(strict, "iam").get_open_id_connect_provider(
        OpenIDConnectProviderArn=PROVIDER)
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]
    cloudformation.delete_stack(StackName="oidc")
    with pytest.raises(ClientError):
        inspector(strict, "iam").get_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER)
