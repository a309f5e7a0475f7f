"""IAM building blocks for the templates: policy documents, statements scoped to resources,
the ECS task trust, ECR pull and push, log writing, task roles."""

from __future__ import annotations

import re
from typing import Any

from awacs import aws as iam
from troposphere import Ref, Sub
from troposphere import iam as tp_iam


def policy(*statements: iam.Statement) -> iam.PolicyDocument:
    """An IAM policy document from statements."""
    return iam.PolicyDocument(Version="2012-10-17", Statement=list(statements))


def allow(actions: list[str], resources: list[Any], condition: iam.Condition | None = None,
          sid: str | None = None) -> iam.Statement:
    """An Allow statement; ``resources`` may hold CloudFormation functions (Sub, GetAtt)."""
    kwargs: dict[str, Any] = {}
    if condition is not None:
        kwargs["Condition"] = condition
    if sid:
        kwargs["Sid"] = sid
    return iam.Statement(Effect=iam.Allow, Action=[iam.Action(*a.split(":", 1)) for a in actions],
                         Resource=resources, **kwargs)


def deny(actions: list[str], resources: list[Any], sid: str) -> iam.Statement:
    """A Deny statement: it wins over any Allow (IAM's policy evaluation logic)."""
    return iam.Statement(Effect=iam.Deny, Action=[iam.Action(*a.split(":", 1)) for a in actions],
                         Resource=resources, Sid=sid)


def ecs_tasks_trust() -> iam.PolicyDocument:
    """Trust for ECS tasks acting for this account only (the confused-deputy guard ECS supports
    for task roles)."""
    return policy(iam.Statement(
        Effect=iam.Allow,
        Principal=iam.Principal("Service", "ecs-tasks.amazonaws.com"),
        Action=[iam.Action("sts", "AssumeRole")],
        Condition=iam.Condition(iam.StringEquals("aws:SourceAccount", Ref("AWS::AccountId"))),
    ))


def ecs_infrastructure_trust() -> iam.PolicyDocument:
    """Trust for ECS's infrastructure role for load balancers, exactly as AWS documents it (ECS
    Developer Guide, "Amazon ECS infrastructure IAM role for load balancers": the service
    principal ``ecs.amazonaws.com``, sts:AssumeRole, no condition). AWS does not document that
    ECS sends aws:SourceAccount when it assumes this role; a condition on it could refuse ECS
    at the first traffic shift of every progressive deploy."""
    return policy(iam.Statement(
        Sid="AllowAccessToECSForInfrastructureManagement", Effect=iam.Allow,
        Principal=iam.Principal("Service", "ecs.amazonaws.com"),
        Action=[iam.Action("sts", "AssumeRole")]))


def web_identity_trust(provider: Any, issuer: str, audience: str, *,
                       subjects: list[str], like: bool = False) -> iam.PolicyDocument:
    """Trust for builds holding a token of ``provider`` whose ``aud`` is ``audience`` and whose
    ``sub`` is one of ``subjects`` (patterns with ``like``). For an issuer AWS does not know,
    these two are the claims IAM evaluates (IAM User Guide, "Available keys for AWS OIDC
    federation"); their keys are the issuer without ``https://``."""
    # One operator block per operator: a second StringEquals would replace the first.
    conditions: list[iam.ConditionElement] = [
        iam.StringEquals({f"{issuer}:aud": audience, f"{issuer}:sub": subjects})] \
        if not like else [iam.StringEquals(f"{issuer}:aud", audience),
                          iam.StringLike(f"{issuer}:sub", subjects)]
    return policy(iam.Statement(
        Effect=iam.Allow,
        Principal=iam.Principal("Federated", provider),
        Action=[iam.Action("sts", "AssumeRoleWithWebIdentity")],
        Condition=iam.Condition(conditions),
    ))


def pipeline_role(title: str, name: str, description: str, trust: iam.PolicyDocument,
                  max_seconds: int, *statements: iam.Statement) -> tp_iam.Role:
    """A role a pipeline build assumes with its token, by a name the CLI can derive."""
    return tp_iam.Role(title, RoleName=name, Description=description,
                       AssumeRolePolicyDocument=trust, MaxSessionDuration=max_seconds,
                       Policies=[tp_iam.Policy(PolicyName="pipeline",
                                               PolicyDocument=policy(*statements))])


def ecr_repository_arn(repository: str) -> Sub:
    """The ARN of an ECR repository in this account and region."""
    return Sub("arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:"
               f"repository/{repository}")


ECR_PULL = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


ECR_PUSH = [*ECR_PULL, "ecr:CompleteLayerUpload", "ecr:InitiateLayerUpload", "ecr:PutImage",
            "ecr:UploadLayerPart", "ecr:DescribeImages"]


_ECR_IMAGE = re.compile(r"^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com/([^:@]+)")


def ecr_pull_statements(images: list[str], extra_repositories: list[Any]) -> list[iam.Statement]:
    """Statements that let an execution role pull the given images, where they live in ECR.

    ``extra_repositories`` are ARNs (or functions) of repositories in this account to pull from.
    """
    arns: list[Any] = list(extra_repositories)
    for image in images:
        match = _ECR_IMAGE.match(image)
        if match:
            account, region, repo = match.groups()
            arns.append(f"arn:aws:ecr:{region}:{account}:repository/{repo}")
    if not arns:
        return []
    return [
        # GetAuthorizationToken has no resource to scope to: it only returns a registry login.
        allow(["ecr:GetAuthorizationToken"], ["*"], sid="RegistryLogin"),
        allow(ECR_PULL, arns, sid="PullImages"),
    ]


def logs_write_statement(log_group: Any) -> iam.Statement:
    """Write log events to one log group (its ``Arn`` attribute ends in ``:*``)."""
    return allow(["logs:CreateLogStream", "logs:PutLogEvents"], [log_group], sid="WriteLogs")


def task_role(title: str, description: str, *statements: iam.Statement,
              name: str | None = None) -> tp_iam.Role:
    """An IAM role for ECS tasks of this account, allowed exactly ``statements`` (named
    ``name`` when the CLI must derive its ARN)."""
    role = tp_iam.Role(title, Description=description, AssumeRolePolicyDocument=ecs_tasks_trust(),
                       **({"RoleName": name} if name else {}))
    if statements:
        role.Policies = [tp_iam.Policy(PolicyName=title.removesuffix("Role").lower(),
                                       PolicyDocument=policy(*statements))]
    return role
