"""AWS's quotas where moto has none, each with the quota page it follows.

Checked on the request (before moto sees it):
- CloudFormation ("AWS CloudFormation quotas", User Guide): a TemplateBody of at most 51,200
  bytes, a template in S3 (TemplateURL) of at most 1 MB; at most 200 parameters, 500 resources,
  200 outputs and 200 mappings per template.
- ECS RunTask ("RunTask", API Reference, ``overrides``): "A total of 8192 characters are allowed
  for overrides. This limit includes the JSON formatting characters of the override structure."

Checked in moto's models (patched while a strict account runs):
- IAM ("IAM and AWS STS quotas", IAM User Guide): a role's inline policies together at most
  10,240 characters, a managed policy at most 6,144, whitespace not counted.
- Elastic Load Balancing ("Quotas for your Application Load Balancers"): 100 rules per listener
  (the default rule not counted); load balancer names at most 32 characters.
- moto already enforces 60 inbound and 60 outbound rules per VPC security group and 32-character
  target group names.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from devtools.strict.calls import Call
from devtools.strict.errors import Response, aws_error
from devtools.strict.profile import active

TEMPLATE_BODY_BYTES = 51_200
TEMPLATE_URL_BYTES = 1_048_576
TEMPLATE_COUNTS = {"Parameters": 200, "Resources": 500, "Outputs": 200, "Mappings": 200}
OVERRIDES_CHARACTERS = 8_192
ROLE_INLINE_CHARACTERS = 10_240
MANAGED_POLICY_CHARACTERS = 6_144
LISTENER_RULES = 100
LOAD_BALANCER_NAME = 32
_TEMPLATE_ACTIONS = ("CreateChangeSet", "CreateStack", "UpdateStack", "ValidateTemplate")


def check_request(call: Call) -> Response | None:
    """An AWS error for a request past a quota, else None."""
    if call.service == "cloudformation" and call.action in _TEMPLATE_ACTIONS:
        return _template(call)
    if (call.service, call.action) == ("ecs", "RunTask"):
        size = len(json.dumps(call.params.get("overrides") or {}, separators=(",", ":")))
        if size > OVERRIDES_CHARACTERS:
            return aws_error("ecs", 400, "InvalidParameterException",
                             f"Container Overrides length must be at most "
                             f"{OVERRIDES_CHARACTERS} (this request: {size})")
    return None


def _template(call: Call) -> Response | None:
    body = call.params.get("TemplateBody")
    if body is not None:
        size = len(str(body).encode())
        if size > TEMPLATE_BODY_BYTES:
            return aws_error("cloudformation", 400, "ValidationError",
                             f"1 validation error detected: Value at 'templateBody' failed to "
                             f"satisfy constraint: Member must have length less than or equal "
                             f"to {TEMPLATE_BODY_BYTES} (this template: {size} bytes; larger "
                             f"templates must be given as a TemplateURL)")
    elif call.params.get("TemplateURL"):
        body = _from_s3(str(call.params["TemplateURL"]))
        if body is None:
            return aws_error("cloudformation", 400, "ValidationError",
                             "TemplateURL must be a supported URL of an object that exists")
        if len(body.encode()) > TEMPLATE_URL_BYTES:
            return aws_error("cloudformation", 400, "ValidationError",
                             f"Template may not exceed {TEMPLATE_URL_BYTES} bytes in size.")
    if body is None:
        return None
    try:
        template = yaml.safe_load(str(body)) or {}
    except yaml.YAMLError:
        return None  # moto reports malformed templates itself
    for section, limit in TEMPLATE_COUNTS.items():
        count = len(template.get(section) or {}) if isinstance(template, dict) else 0
        if count > limit:
            return aws_error("cloudformation", 400, "ValidationError",
                             f"Template format error: Number of {section.lower()} ({count}) "
                             f"is greater than the maximum allowed ({limit})")
    return None


def _from_s3(url: str) -> str | None:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    host, _, path = url.removeprefix("https://").partition("/")
    if ".s3." in host and not host.startswith("s3."):
        bucket, key = host.split(".s3.", 1)[0], path
    else:
        bucket, _, key = path.partition("/")
    try:
        found = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].get_object(bucket, key)
    except Exception:
        return None
    return None if found is None else bytes(found.value).decode("utf-8", "replace")


def policy_characters(document: Any) -> int:
    """A policy's size as IAM counts it: its JSON without whitespace."""
    text = document if isinstance(document, str) else json.dumps(document)
    return len("".join(text.split()))


def install() -> None:
    """Patch moto's IAM and ELBv2 models to keep these quotas while a strict account runs."""
    from moto.elbv2 import models as elbv2
    from moto.elbv2.exceptions import ELBClientError
    from moto.iam import models as iam
    from moto.iam.exceptions import LimitExceededException

    if getattr(iam.Role.put_policy, "_dockyard_quota", False):
        return
    put_policy = iam.Role.put_policy
    create_policy = iam.IAMBackend.create_policy
    create_rule = elbv2.ELBv2Backend.create_rule
    create_load_balancer = elbv2.ELBv2Backend.create_load_balancer

    def role_put_policy(self: Any, policy_name: str, policy_json: Any) -> None:
        if active() is not None and active().quotas:  # type: ignore[union-attr]
            others = sum(policy_characters(d) for n, d in self.policies.items()
                         if n != policy_name)
            total = others + policy_characters(policy_json)
            if total > ROLE_INLINE_CHARACTERS:
                raise LimitExceededException(
                    f"Maximum policy size of {ROLE_INLINE_CHARACTERS} bytes exceeded for role "
                    f"{self.name} ({total} characters in its inline policies)")
        put_policy(self, policy_name, policy_json)

    def backend_create_policy(self: Any, *args: Any, **kwargs: Any) -> Any:
        document = kwargs.get("policy_document", args[2] if len(args) > 2 else "")
        profile = active()
        if profile is not None and profile.quotas and \
                policy_characters(document) > MANAGED_POLICY_CHARACTERS:
            raise LimitExceededException(
                f"Cannot exceed quota for PolicySize: {MANAGED_POLICY_CHARACTERS}")
        return create_policy(self, *args, **kwargs)

    def backend_create_rule(self: Any, listener_arn: str, *args: Any, **kwargs: Any) -> Any:
        if active() is not None and active().quotas:  # type: ignore[union-attr]
            listeners = self.describe_listeners(None, [listener_arn])
            if listeners and len(listeners[0].rules) >= LISTENER_RULES + 1:  # + the default
                raise ELBClientError("TooManyRules", "The maximum number of rules for this "
                                     f"listener ({LISTENER_RULES}) has been reached")
        return create_rule(self, listener_arn, *args, **kwargs)

    def backend_create_load_balancer(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
        if active() is not None and active().quotas and len(name) > LOAD_BALANCER_NAME:  # type: ignore[union-attr]
            raise ELBClientError("ValidationError", f"Load balancer name '{name}' cannot be "
                                 f"longer than '{LOAD_BALANCER_NAME}' characters")
        return create_load_balancer(self, name, *args, **kwargs)

    role_put_policy._dockyard_quota = True
    iam.Role.put_policy = role_put_policy
    iam.IAMBackend.create_policy = backend_create_policy
    elbv2.ELBv2Backend.create_rule = backend_create_rule
    elbv2.ELBv2Backend.create_load_balancer = backend_create_load_balancer
