"""What AWS authorizes for each call a role session makes, and against which policies.

Each API call becomes one or more checks: an IAM action, the ARN of a resource it acts on and
the request's condition keys, as the Service Authorization Reference lists them ("Actions,
resources, and condition keys for <service>": Resource types, required ones marked *; Condition
keys; Dependent actions). A call with several required resources needs every one allowed (for
example ecs:DescribeServiceRevisions: the ``service`` and the ``service-revision``).
ECS checks iam:PassRole for the roles of a task definition it registers or runs (ECS Developer
Guide, "Task execution IAM role" and "Task IAM role"), with iam:PassedToService
ecs-tasks.amazonaws.com; creating a resource with tags also needs ecs:TagResource, with
ecs:CreateAction naming the call (ECS Developer Guide, "Grant permission to tag resources on
creation").

A call this table does not know is refused for role sessions, with a message saying so: the
emulator never allows what it cannot judge.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from devtools.strict.calls import Call
from devtools.strict.policy import Context, Decision, Statement, evaluate, statements


@dataclass(frozen=True)
class Check:
    """One authorization AWS makes for a call."""

    action: str
    resource: str
    context: dict[str, str | list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class Where:
    """The partition, region and account a call runs in."""

    region: str
    account: str
    partition: str = "aws"

    def arn(self, service: str, rest: str, *, regional: bool = True) -> str:
        """An ARN in this account (``regional=False`` for IAM and S3 style ARNs)."""
        region = self.region if regional else ""
        account = self.account if service != "s3" else ""
        return f"arn:{self.partition}:{service}:{region}:{account}:{rest}"


class Unknown(Exception):
    """The emulator does not know how AWS authorizes this call."""


Rule = Callable[[Call, Where], list[Check]]
_RULES: dict[tuple[str, str], Rule] = {}
_PASSED_TO_ECS = {"iam:PassedToService": "ecs-tasks.amazonaws.com"}


def rule(service: str, *actions: str) -> Callable[[Rule], Rule]:
    """Register how AWS authorizes ``service``'s ``actions``."""
    def register(fn: Rule) -> Rule:
        for action in actions:
            _RULES[(service, action)] = fn
        return fn
    return register


def checks_for(call: Call, where: Where) -> list[Check]:
    """The authorizations ``call`` needs; raises Unknown for calls the table lacks."""
    if call.service == "sts" and call.action == "GetCallerIdentity":
        return []  # STS API Reference: "No permissions are required to perform this operation."
    fn = _RULES.get((call.service, call.action))
    if fn is None:
        raise Unknown(f"{call.service}:{call.action or call.method}")
    return fn(call, where)


# -- ECS ------------------------------------------------------------------------------------------

def _ecs() -> Any:
    from moto.ecs.models import ecs_backends
    return ecs_backends


def _cluster(call: Call, where: Where) -> tuple[str, str]:
    ref = str(call.params.get("cluster") or "default")
    name = ref.rsplit("/", 1)[-1]
    return name, where.arn("ecs", f"cluster/{name}")


def _task_arn(ref: str, cluster: str, where: Where) -> str:
    return ref if ref.startswith("arn:") else where.arn("ecs", f"task/{cluster}/{ref}")


def _service_arn(ref: str, cluster: str, where: Where) -> str:
    return ref if ref.startswith("arn:") else where.arn("ecs", f"service/{cluster}/{ref}")


def _task_definition(ref: str, where: Where) -> tuple[str, list[str]]:
    """A task definition's ARN and the roles it names (empty when it does not exist)."""
    try:
        found = _ecs()[where.account][where.region].describe_task_definition(ref)
    except Exception:
        arn = ref if ref.startswith("arn:") else where.arn("ecs", f"task-definition/{ref}")
        return arn, []
    roles = [r for r in (getattr(found, "task_role_arn", None),
                         getattr(found, "execution_role_arn", None)) if r]
    return str(found.arn), roles


def _pass_roles(roles: list[str]) -> list[Check]:
    return [Check("iam:PassRole", role, dict(_PASSED_TO_ECS)) for role in roles if role]


def _request_tags(tags: Any) -> dict[str, str | list[str]]:
    """``aws:RequestTag/<key>`` and ``aws:TagKeys`` for the tags a create call sends (IAM User
    Guide, "Controlling access during AWS requests"; the Service Authorization Reference lists
    both for RunTask, CreateService, RegisterTaskDefinition and TagResource)."""
    pairs = {str(t.get("key")): str(t.get("value", "")) for t in tags or []}
    context: dict[str, str | list[str]] = {f"aws:RequestTag/{k}": v for k, v in pairs.items()}
    if pairs:
        context["aws:TagKeys"] = list(pairs)
    return context


def _task_tags(cluster: str, task_arn: str, where: Where) -> dict[str, str | list[str]]:
    """``aws:ResourceTag/<key>`` of an existing task (IAM User Guide, "Controlling access to
    AWS resources using tags"; StopTask and DescribeTasks list it)."""
    try:
        tasks = _ecs()[where.account][where.region].tasks.get(cluster, {})
    except Exception:
        return {}
    task = tasks.get(task_arn) or next((t for arn, t in tasks.items()
                                         if arn.endswith("/" + task_arn.rsplit("/", 1)[-1])),
                                        None)
    if task is None:
        return {}
    return {f"aws:ResourceTag/{t['key']}": str(t.get("value", ""))
            for t in (getattr(task, "tags", None) or [])}


@rule("ecs", "RunTask")
def _run_task(call: Call, where: Where) -> list[Check]:
    name, cluster = _cluster(call, where)
    definition, roles = _task_definition(str(call.params.get("taskDefinition", "")), where)
    overrides = call.params.get("overrides") or {}
    roles += [overrides[k] for k in ("taskRoleArn", "executionRoleArn") if overrides.get(k)]
    tags = _request_tags(call.params.get("tags"))
    run: dict[str, str | list[str]] = {"ecs:cluster": cluster, **tags}
    if call.params.get("enableExecuteCommand") is not None:
        run["ecs:enable-execute-command"] = str(bool(call.params["enableExecuteCommand"])).lower()
    checks = [Check("ecs:RunTask", definition, run),
              *_pass_roles(roles)]
    if call.params.get("tags"):
        new_task = where.arn("ecs", f"task/{name}/{uuid.uuid4().hex}")
        checks.append(Check("ecs:TagResource", new_task,
                            {"ecs:CreateAction": "RunTask", "ecs:cluster": cluster, **tags}))
    return checks


@rule("ecs", "ExecuteCommand")
def _execute_command(call: Call, where: Where) -> list[Check]:
    """Service Authorization Reference, ExecuteCommand: the ``cluster`` and the ``task`` are
    both required resources, with ecs:cluster, ecs:task and ecs:container-name; only cluster
    and task tags are evaluated (ECS Developer Guide, ECS Exec, "Using IAM policies to limit
    access to ECS Exec")."""
    name, cluster = _cluster(call, where)
    task = _task_arn(str(call.params.get("task", "")), name, where)
    context: dict[str, str | list[str]] = {"ecs:cluster": cluster, "ecs:task": task}
    if call.params.get("container"):
        context["ecs:container-name"] = str(call.params["container"])
    return [Check("ecs:ExecuteCommand", cluster, context),
            Check("ecs:ExecuteCommand", task, {**context, **_task_tags(name, task, where)})]


@rule("ecs", "DescribeTasks", "StopTask")
def _tasks(call: Call, where: Where) -> list[Check]:
    name, cluster = _cluster(call, where)
    refs = call.params.get("tasks") or [call.params.get("task", "")]
    checks = []
    for ref in refs:
        arn = _task_arn(str(ref), name, where)
        checks.append(Check(f"ecs:{call.action}", arn,
                            {"ecs:cluster": cluster, **_task_tags(name, arn, where)}))
    return checks


@rule("ecs", "ListTasks")
def _list_tasks(call: Call, where: Where) -> list[Check]:
    name, cluster = _cluster(call, where)
    return [Check("ecs:ListTasks", where.arn("ecs", f"container-instance/{name}/*"),
                  {"ecs:cluster": cluster})]


@rule("ecs", "DescribeServices")
def _describe_services(call: Call, where: Where) -> list[Check]:
    name, cluster = _cluster(call, where)
    return [Check("ecs:DescribeServices", _service_arn(str(ref), name, where),
                  {"ecs:cluster": cluster}) for ref in call.params.get("services", [])]


@rule("ecs", "CreateService", "UpdateService", "DeleteService", "ListServiceDeployments")
def _service(call: Call, where: Where) -> list[Check]:
    name, cluster = _cluster(call, where)
    ref = str(call.params.get("serviceName") or call.params.get("service") or "")
    service = _service_arn(ref, name, where)
    context: dict[str, str | list[str]] = {"ecs:cluster": cluster}
    if call.params.get("enableExecuteCommand") is not None:
        # Service Authorization Reference, CreateService and UpdateService:
        # ecs:enable-execute-command, the request's enableExecuteCommand.
        context["ecs:enable-execute-command"] = str(
            bool(call.params["enableExecuteCommand"])).lower()
    if call.params.get("taskDefinition"):
        context["ecs:task-definition"] = _task_definition(
            str(call.params["taskDefinition"]), where)[0]
    checks = [Check(f"ecs:{call.action}", service, context)]
    # A progressive strategy's infrastructure role is passed to ECS itself (ECS Developer
    # Guide, "Amazon ECS infrastructure IAM role for load balancers").
    for balancer in call.params.get("loadBalancers") or []:
        role = (balancer.get("advancedConfiguration") or {}).get("roleArn")
        if role:
            checks.append(Check("iam:PassRole", str(role),
                                {"iam:PassedToService": "ecs.amazonaws.com"}))
    if call.action == "CreateService" and call.params.get("tags"):
        checks.append(Check("ecs:TagResource", service, {
            "ecs:CreateAction": "CreateService", **_request_tags(call.params.get("tags"))}))
    return checks


@rule("ecs", "DescribeServiceDeployments", "ContinueServiceDeployment", "StopServiceDeployment")
def _service_deployments(call: Call, where: Where) -> list[Check]:
    """Service Authorization Reference: the service-deployment resource
    (arn:...:service-deployment/CLUSTER/SERVICE/ID), with ecs:cluster and ecs:service."""
    arns = call.params.get("serviceDeploymentArns") or [call.params.get("serviceDeploymentArn")]
    checks = []
    for arn in arns:
        cluster, service = str(arn).split(":", 5)[5].split("/")[1:3]
        checks.append(Check(f"ecs:{call.action}", str(arn), {
            "ecs:cluster": where.arn("ecs", f"cluster/{cluster}"),
            "ecs:service": where.arn("ecs", f"service/{cluster}/{service}")}))
    return checks


@rule("ecs", "DescribeServiceRevisions")
def _revisions(call: Call, where: Where) -> list[Check]:
    checks = []
    for arn in call.params.get("serviceRevisionArns", []):
        cluster, service = str(arn).split(":", 5)[5].split("/")[1:3]
        service_arn = where.arn("ecs", f"service/{cluster}/{service}")
        context: dict[str, str | list[str]] = {
            "ecs:cluster": where.arn("ecs", f"cluster/{cluster}"), "ecs:service": service_arn}
        checks += [Check("ecs:DescribeServiceRevisions", str(arn), context),
                   Check("ecs:DescribeServiceRevisions", service_arn,
                         {"ecs:cluster": context["ecs:cluster"]})]
    return checks


@rule("ecs", "RegisterTaskDefinition")
def _register(call: Call, where: Where) -> list[Check]:
    family = str(call.params.get("family", ""))
    # The revision being created has no number yet: the check names the family's revisions.
    definition = where.arn("ecs", f"task-definition/{family}:*")
    roles = [str(call.params[k]) for k in ("taskRoleArn", "executionRoleArn")
             if call.params.get(k)]
    checks = [Check("ecs:RegisterTaskDefinition", definition), *_pass_roles(roles)]
    if call.params.get("tags"):
        checks.append(Check("ecs:TagResource", definition,
                            {"ecs:CreateAction": "RegisterTaskDefinition"}))
    return checks


@rule("ecs", "DescribeTaskDefinition", "ListTaskDefinitions", "ListClusters")
def _ecs_any(call: Call, where: Where) -> list[Check]:
    return [Check(f"ecs:{call.action}", "*")]


# -- Application Auto Scaling -------------------------------------------------------------------

@rule("application-autoscaling", "DescribeScalableTargets", "DescribeScalingPolicies",
      "DescribeScalingActivities")
def _scaling_reads(call: Call, where: Where) -> list[Check]:
    """Service Authorization Reference, Application Auto Scaling: the Describe actions have no
    resource type ("*"); application-autoscaling:service-namespace and scalable-dimension."""
    return [Check(f"application-autoscaling:{call.action}", "*", {
        "application-autoscaling:service-namespace": str(call.params.get("ServiceNamespace",
                                                                         ""))})]


@rule("application-autoscaling", "RegisterScalableTarget", "DeregisterScalableTarget",
      "PutScalingPolicy", "DeleteScalingPolicy")
def _scaling_writes(call: Call, where: Where) -> list[Check]:
    """Service Authorization Reference: the scalable-target resource (its ARN holds a random
    id, so a policy can name only ``scalable-target/*`` or tags), with the namespace and
    dimension condition keys."""
    return [Check(f"application-autoscaling:{call.action}",
                  where.arn("application-autoscaling", "scalable-target/*"), {
                      "application-autoscaling:service-namespace": str(
                          call.params.get("ServiceNamespace", "")),
                      "application-autoscaling:scalable-dimension": str(
                          call.params.get("ScalableDimension", ""))})]


# -- CloudWatch Logs ------------------------------------------------------------------------------

def _group(call: Call) -> str:
    identifier = str(call.params.get("logGroupIdentifier", ""))
    if identifier.startswith("arn:"):
        return identifier.split(":log-group:", 1)[1].removesuffix(":*")
    return str(call.params.get("logGroupName") or identifier)


@rule("logs", "GetLogEvents", "CreateLogStream", "PutLogEvents")
def _log_stream(call: Call, where: Where) -> list[Check]:
    stream = f"log-group:{_group(call)}:log-stream:{call.params.get('logStreamName', '')}"
    return [Check(f"logs:{call.action}", where.arn("logs", stream))]


@rule("logs", "FilterLogEvents", "DescribeLogStreams")
def _log_group(call: Call, where: Where) -> list[Check]:
    return [Check(f"logs:{call.action}", where.arn("logs", f"log-group:{_group(call)}"))]


# -- ECR ------------------------------------------------------------------------------------------

@rule("ecr", "DescribeImages", "BatchGetImage", "PutImage", "BatchCheckLayerAvailability",
      "InitiateLayerUpload", "UploadLayerPart", "CompleteLayerUpload", "GetDownloadUrlForLayer",
      "ListImages", "BatchDeleteImage", "DescribeImageScanFindings")
def _repository(call: Call, where: Where) -> list[Check]:
    repository = str(call.params.get("repositoryName", ""))
    return [Check(f"ecr:{call.action}", where.arn("ecr", f"repository/{repository}"))]


@rule("ecr", "GetAuthorizationToken")
def _registry_login(call: Call, where: Where) -> list[Check]:
    return [Check("ecr:GetAuthorizationToken", "*")]


# -- CloudFormation -------------------------------------------------------------------------------

@rule("cloudformation", "DescribeStacks", "DescribeStackEvents", "ListStackResources")
def _stack(call: Call, where: Where) -> list[Check]:
    ref = str(call.params.get("StackName", ""))
    if not ref:
        return [Check(f"cloudformation:{call.action}", "*")]
    if ref.startswith("arn:"):
        return [Check(f"cloudformation:{call.action}", ref)]
    from moto.cloudformation.models import cloudformation_backends

    stacks = cloudformation_backends[where.account][where.region].stacks.values()
    arn = next((s.stack_id for s in stacks if s.name == ref),
               where.arn("cloudformation", f"stack/{ref}/*"))
    return [Check(f"cloudformation:{call.action}", str(arn))]


# -- Secrets Manager ------------------------------------------------------------------------------

@rule("secretsmanager", "DescribeSecret", "GetSecretValue")
def _secret(call: Call, where: Where) -> list[Check]:
    from moto.secretsmanager.models import secretsmanager_backends

    ref = str(call.params.get("SecretId", ""))
    try:
        arn = secretsmanager_backends[where.account][where.region].describe_secret(ref).arn
    except Exception:
        arn = ref if ref.startswith("arn:") else where.arn("secretsmanager", f"secret:{ref}")
    return [Check(f"secretsmanager:{call.action}", str(arn))]


# -- S3 -------------------------------------------------------------------------------------------

_S3_ACTIONS = {"GetObject": "s3:GetObject", "HeadObject": "s3:GetObject",
               "PutObject": "s3:PutObject", "CreateMultipartUpload": "s3:PutObject",
               "UploadPart": "s3:PutObject", "CompleteMultipartUpload": "s3:PutObject",
               "AbortMultipartUpload": "s3:AbortMultipartUpload",
               "ListParts": "s3:ListMultipartUploadParts", "DeleteObject": "s3:DeleteObject"}


def _s3(call: Call, where: Where) -> list[Check]:
    if call.action in _S3_ACTIONS:
        return [Check(_S3_ACTIONS[call.action], f"arn:{where.partition}:s3:::{call.bucket}/"
                                                f"{call.key}")]
    if call.action in ("ListObjects", "HeadBucket"):
        prefix = call.query.get("prefix", [""])[0]
        return [Check("s3:ListBucket", f"arn:{where.partition}:s3:::{call.bucket}",
                      {"s3:prefix": prefix} if prefix else {})]
    raise Unknown(f"s3:{call.action}")


for _action in (*_S3_ACTIONS, "ListObjects", "HeadBucket"):
    _RULES[("s3", _action)] = _s3


def can_list(policies: list[Statement], bucket: str, where: Where) -> bool:
    """Whether a session may list ``bucket``: S3 answers 404 for a missing key only then, and
    403 otherwise (S3 API Reference, GetObject and HeadObject, "Permissions")."""
    return evaluate(policies, "s3:ListBucket", f"arn:{where.partition}:s3:::{bucket}",
                    {}).allowed


# -- policies -------------------------------------------------------------------------------------

def role_policies(role_arn: str) -> list[Statement]:
    """The identity-based policies of a role in moto's IAM: inline and attached managed ones."""
    from moto.iam.models import iam_backends

    account = role_arn.split(":")[4]
    for role in iam_backends[account]["aws"].roles.values():
        if role.arn != role_arn:
            continue
        found: list[Statement] = []
        for document in role.policies.values():
            found += statements(_document(document))
        for managed in role.managed_policies.values():
            default = next((v for v in managed.versions if v.is_default), None)
            if default is not None:
                found += statements(_document(default.document))
        return found
    return []


def _document(document: Any) -> Any:
    return json.loads(document) if isinstance(document, str) else document


def authorize(call: Call, role_arn: str, session_name: str, where: Where) -> str | None:
    """None when every check passes; else AWS's AccessDenied message for the first that
    fails."""
    policies = role_policies(role_arn)
    role = role_arn.rsplit("/", maxsplit=1)[-1]
    principal = f"arn:{where.partition}:sts::{where.account}:assumed-role/{role}/{session_name}"
    try:
        needed = checks_for(call, where)
    except Unknown as err:
        return (f"User: {principal} is not authorized to perform: {err} (the dockyard emulator "
                "does not know how AWS authorizes this call; add it to devtools/strict/authz.py "
                "with its Service Authorization Reference entry)")
    for check in needed:
        decision: Decision = evaluate(policies, check.action, check.resource,
                                      _with_globals(check.context, principal))
        if not decision.allowed:
            return (f"User: {principal} is not authorized to perform: {check.action} on "
                    f"resource: {check.resource} because {decision.reason}")
    return None


def _with_globals(context: Context, principal: str) -> Context:
    return {**context, "aws:PrincipalArn": principal, "aws:SecureTransport": "true"}
