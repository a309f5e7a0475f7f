"""The templates' side of the trust tiers: Jenkins' OIDC issuer in IAM and on the load
balancer, the pipeline roles' trust and scope, kaniko per owner. The attack suite
(tests/e2e/test_attacks.py) shows the same policies refusing, call by call."""

from __future__ import annotations

import json
from typing import Any

from dockyard.config import parse_config
from tests.conftest import bodies, example_config, example_text

Template = dict[str, Any]
API = ("apps:\n", "apps:\n  api:\n    port: 5002\n    host: api\n")
API_JOB = ("      deploy_branches: [main]\n", "      deploy_branches: [main]\n"
           "    - name: api\n      repository: example-org/api\n")


def two_apps() -> dict[str, Template]:
    return bodies(parse_config(example_text(API, API_JOB), "dockyard.yml"))


def statements(role: Template) -> list[dict[str, Any]]:
    return [s for p in role["Properties"]["Policies"] for s in p["PolicyDocument"]["Statement"]]


def test_jenkins_is_an_oidc_provider_whose_issuer_sts_can_always_reach() -> None:
    templates = bodies(example_config())
    provider = templates["builder"]["Resources"]["JenkinsIssuer"]
    assert provider["Type"] == "AWS::IAM::OIDCProvider"
    assert provider["Properties"] == {"Url": "https://jenkins.example.com/oidc",
                                      "ClientIdList": ["sts.amazonaws.com"],
                                      "Tags": provider["Properties"]["Tags"]}
    assert "ThumbprintList" not in provider["Properties"], "IAM trusts the CA's certificate"
    rule = templates["jenkins"]["Resources"]["IssuerRule"]["Properties"]
    assert rule["Priority"] == 50_000
    assert rule["Actions"] == [{"Type": "forward", "TargetGroupArn": {"Ref": "TargetGroup"}}]


def test_pipeline_roles_trust_only_tokens_of_their_builds() -> None:
    templates = two_apps()
    issuer = "jenkins.example.com/oidc"
    untrusted = templates["builder"]["Resources"]["UntrustedPipelineRole"]["Properties"]
    (statement,) = untrusted["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Federated": {"Ref": "JenkinsIssuer"}}
    assert statement["Action"] == ["sts:AssumeRoleWithWebIdentity"]
    assert statement["Condition"] == {
        "StringEquals": {f"{issuer}:aud": "sts.amazonaws.com"},
        "StringLike": {f"{issuer}:sub": ["web/*", "api/*"]}}
    for app in ("web", "api"):
        role = templates[f"app-{app}"]["Resources"]["PipelineRole"]["Properties"]
        assert role["RoleName"] == f"acme-pipeline-{app}"
        (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Principal"] == {"Federated": {"Ref": "OidcProviderArn"}}
        assert statement["Condition"] == {"StringEquals": {
            f"{issuer}:aud": "sts.amazonaws.com", f"{issuer}:sub": [f"{app}/main"]}}, \
            "aud and sub together: a second StringEquals block would replace the first"
        assert role["MaxSessionDuration"] == 7200


def test_an_apps_pipeline_role_names_nothing_of_another_app() -> None:
    templates = two_apps()
    for app, other in (("web", "api"), ("api", "web")):
        role = templates[f"app-{app}"]["Resources"]["PipelineRole"]
        text = json.dumps(statements(role))
        assert other not in text.replace("apps/", ""), f"{app}'s role names {other}"
        for statement in statements(role):
            if statement["Resource"] == ["*"]:
                # The only actions AWS authorizes on "*" alone (Service Authorization
                # Reference: no resource type), narrowed where a condition can.
                assert statement["Action"] in (["ecs:DescribeTaskDefinition"],
                                               ["ecs:ListTasks"],
                                               ["application-autoscaling:"
                                                "DescribeScalableTargets"]), statement
            assert statement["Effect"] == "Allow"
        tagged = {s["Sid"]: s["Condition"] for s in statements(role)
                  if s["Sid"] in ("RunTasks", "TagTasks", "FollowTasks")}
        assert tagged["RunTasks"]["StringEquals"] == {"aws:RequestTag/dockyard:app": app}
        assert tagged["FollowTasks"] == {"StringEquals": {"aws:ResourceTag/dockyard:app": app}}
        deploy = next(s for s in statements(role) if s["Sid"] == "Deploy")
        assert deploy["Condition"]["ArnLikeIfExists"]["ecs:task-definition"]["Fn::Sub"] \
            .endswith(f":task-definition/acme-{app}:*"), "its own task definitions only"


def test_kaniko_pushes_only_for_its_owner_and_untrusted_never_writes_a_cache() -> None:
    templates = bodies(example_config())
    builder, app = templates["builder"]["Resources"], templates["app-web"]["Resources"]

    def pushes(role: Template) -> list[str]:
        push = next(s for s in statements(role) if s["Sid"] == "Push")
        return [r["Fn::Sub"].rsplit("repository/", 1)[1] for r in push["Resource"]]

    assert pushes(builder["KanikoRole"]) == ["acme/jenkins-controller",
                                             "acme/jenkins-controller-cache",
                                             "acme/jenkins-agent", "acme/jenkins-agent-cache"]
    assert pushes(builder["UntrustedKanikoRole"]) == ["acme/quarantine/*"]
    assert pushes(app["KanikoRole"]) == ["acme/web", "acme/web-cache"]
    cache = next(s for s in statements(builder["UntrustedKanikoRole"])
                 if s["Sid"] == "ReadLayerCache")
    assert "ecr:PutImage" not in cache["Action"] and "ecr:InitiateLayerUpload" not in \
        cache["Action"], "reads the trusted cache, never writes it"
    untrusted = builder["KanikoUntrustedAmd64"]["Properties"]
    trusted = builder["KanikoAmd64"]["Properties"]
    assert untrusted["TaskRoleArn"] == {"Fn::GetAtt": ["UntrustedKanikoRole", "Arn"]}
    assert "TaskRoleArn" not in trusted, "each trusted build passes its owner's role"
    assert untrusted["ContainerDefinitions"][0]["LogConfiguration"]["Options"][
        "awslogs-group"] == {"Ref": "UntrustedBuildLogGroup"}


def test_the_quarantine_is_an_apps_and_nothing_pulls_from_it() -> None:
    templates = bodies(example_config())
    app = templates["app-web"]["Resources"]
    assert app["QuarantineRepository"]["Properties"]["RepositoryName"] == "acme/quarantine/web"
    pulls = json.dumps(statements(app["ExecutionRole"]))
    assert "quarantine" not in pulls and "repository/acme/web" in pulls
