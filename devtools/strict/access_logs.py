"""Load balancer access logs as Elastic Load Balancing checks them.

moto ignores a load balancer's ``LoadBalancerAttributes`` in a template and stores any
``access_logs.s3.*`` attributes it is given without looking at the bucket. AWS applies the
template's attributes when it creates the load balancer, and refuses to turn access logs on
unless the bucket exists and its policy lets Elastic Load Balancing write under
``<prefix>/AWSLogs/<account>/``: "Access Denied for bucket: <name>. Please check S3bucket
permission" (ELB User Guide, "Enable access logs for your Application Load Balancer", step 2,
and "Troubleshoot": the load balancer tests the permissions when logging is enabled).

Who writes follows the same page: Elastic Load Balancing's own account in Regions opened before
August 2022 (the two this emulator's tests use are listed here), and the service principal
``logdelivery.elasticloadbalancing.amazonaws.com`` elsewhere.
"""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from typing import Any

from devtools.strict.profile import active

# ELB User Guide, "Enable access logs", step 2: "Regions available before August 2022".
_ELB_ACCOUNTS = {"ap-southeast-2": "783225319266", "us-east-1": "127311923021",
                 "us-west-2": "797873946194", "eu-west-1": "156460612806"}
_ELB_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"


def refusal(bucket: Any, name: str, prefix: str, account: str, region: str) -> str | None:
    """Why Elastic Load Balancing may not write access logs to ``bucket`` (a moto bucket, or
    None when there is none), or None when it may."""
    denied = f"Access Denied for bucket: {name}. Please check S3bucket permission"
    if bucket is None or not getattr(bucket, "policy", None):
        return denied
    policy = bucket.policy
    document = json.loads(policy.decode() if isinstance(policy, bytes) else policy)
    key = "/".join(part for part in (prefix.strip("/"), "AWSLogs", account,
                                     "elasticloadbalancing", region, "test.log.gz") if part)
    target = f"arn:aws:s3:::{name}/{key}"
    for statement in _as_list(document.get("Statement")):
        if statement.get("Effect") != "Allow" or "Condition" in statement:
            continue
        if not any(a in ("s3:PutObject", "s3:*", "*") for a in _as_list(statement.get("Action"))):
            continue
        if not any(fnmatchcase(target, r) for r in _as_list(statement.get("Resource"))):
            continue
        if _writer(statement.get("Principal"), region):
            return None
    return denied


def _writer(principal: Any, region: str) -> bool:
    if not isinstance(principal, dict):
        return False
    account = _ELB_ACCOUNTS.get(region)
    if account is not None:
        return any(p in (account, f"arn:aws:iam::{account}:root")
                   for p in _as_list(principal.get("AWS")))
    return _ELB_SERVICE in _as_list(principal.get("Service"))


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def install() -> None:
    """Patch moto's ELBv2 models: a template's attributes are applied at creation, and
    turning access logs on is checked against the bucket while a strict account runs."""
    from moto.elbv2 import models as elbv2
    from moto.elbv2.exceptions import ELBClientError as RESTError
    from moto.s3.models import s3_backends

    if getattr(elbv2.ELBv2Backend.modify_load_balancer_attributes, "_dockyard_logs", False):
        return
    modify = elbv2.ELBv2Backend.modify_load_balancer_attributes
    create = elbv2.FakeLoadBalancer.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def modify_attributes(self: Any, arn: str, attrs: dict[str, Any]) -> dict[str, Any]:
        if active() is not None and str(attrs.get("access_logs.s3.enabled")).lower() == "true":
            name = str(attrs.get("access_logs.s3.bucket", ""))
            bucket = s3_backends[self.account_id]["aws"].buckets.get(name)
            why = refusal(bucket, name, str(attrs.get("access_logs.s3.prefix", "")),
                          self.account_id, self.region_name)
            if why is not None:
                raise RESTError("InvalidConfigurationRequest", why)
        return modify(self, arn, attrs)

    def create_from_template(cls: Any, /, resource_name: str, cloudformation_json: Any,
                             account_id: str, region_name: str, **kwargs: Any) -> Any:
        balancer = create(cls, resource_name, cloudformation_json, account_id, region_name,
                          **kwargs)
        attributes = {a["Key"]: a["Value"] for a in
                      cloudformation_json["Properties"].get("LoadBalancerAttributes", [])}
        if attributes and active() is not None:
            backend = elbv2.elbv2_backends[account_id][region_name]
            try:
                backend.modify_load_balancer_attributes(balancer.arn, attributes)
            except RESTError:
                backend.delete_load_balancer(balancer.arn)  # CloudFormation's create failed
                raise
        return balancer

    modify_attributes._dockyard_logs = True  # type: ignore[attr-defined]
    setattr(elbv2.ELBv2Backend, "modify_load_balancer_attributes", modify_attributes)  # noqa: B010
    setattr(elbv2.FakeLoadBalancer, "create_from_cloudformation_json",  # noqa: B010
            classmethod(create_from_template))
