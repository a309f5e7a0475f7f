"""CloudFormation resource types moto's CloudFormation skips, played as AWS plays them.

moto creates no ``AWS::SecretsManager::Secret`` (it warns and skips it), so a stack output
that names a secret is missing and a task that reads the secret finds nothing. Following the
CloudFormation User Guide, "AWS::SecretsManager::Secret":
- ``Name`` names the secret (a generated name otherwise); ``SecretString`` is its value, or
  ``GenerateSecretString`` generates one (``PasswordLength``, ``ExcludeCharacters``,
  ``ExcludePunctuation``, ... as GetRandomPassword takes them, and with
  ``SecretStringTemplate`` + ``GenerateStringKey`` a JSON document with the password under
  that key);
- ``Ref`` returns the secret's ARN, as does ``Fn::GetAtt Id``;
- deleting the resource deletes the secret without a recovery window (the CloudFormation
  handler forces the deletion; "DeletionPolicy attribute", and
  aws-cloudformation/cloudformation-coverage-roadmap#1999), so a stack deleted and created
  again can reuse the name at once.

``AWS::CloudWatch::Alarm`` too (below, CloudWatchAlarm), ``AWS::IAM::OIDCProvider``
(IamOidcProvider), ``AWS::S3::BucketPolicy`` (S3BucketPolicy). And
``AWS::CertificateManager::Certificate`` (User Guide, "AWS::CertificateManager::Certificate"):
with DNS validation and a ``HostedZoneId`` in ``DomainValidationOptions``, CloudFormation writes
the validation record itself and the resource completes once ACM has issued the certificate;
``Ref`` returns its ARN. Here the certificate is requested from moto's ACM and issued at once
(the zone's validation record is the part not played), so a config from ``dockyard init``
(``certificate: auto``) deploys on the emulator as it would on AWS.

Importing this module registers the models (moto finds models by subclass); it is imported
wherever moto runs for dockyard's tests.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

from moto.acm.models import acm_backends
from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel
from moto.secretsmanager.models import secretsmanager_backends

from devtools.strict.policy import statements


class _Resource:
    """What every model here shares: the physical id it was created with, and no GetAtt
    unless it says so. A mixin, not a base class: moto finds models among the *direct*
    subclasses of CloudFormationModel (``parsing.get_model_list``)."""

    def __init__(self, physical_id: str) -> None:
        self.physical_id = physical_id

    @property
    def physical_resource_id(self) -> str:
        return self.physical_id

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False


class SecretsManagerSecret(_Resource, CloudFormationModel):
    """A secret created by a stack."""

    def __init__(self, arn: str, name: str) -> None:
        super().__init__(arn)
        self.arn, self.name = arn, name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SecretsManager::Secret"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Id"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute_name == "Id":
            return self.arn
        raise UnformattedGetAttTemplateException()

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Any, account_id: str,
            region_name: str, **kwargs: Any) -> SecretsManagerSecret:
        properties = cloudformation_json.get("Properties", {})
        backend = secretsmanager_backends[account_id][region_name]
        name = properties.get("Name") or resource_name
        value = properties.get("SecretString")
        generate = properties.get("GenerateSecretString")
        if value is None and generate is not None:
            password = backend.get_random_password(
                password_length=int(generate.get("PasswordLength", 32)),
                exclude_characters=generate.get("ExcludeCharacters", ""),
                exclude_numbers=_flag(generate, "ExcludeNumbers"),
                exclude_punctuation=_flag(generate, "ExcludePunctuation"),
                exclude_uppercase=_flag(generate, "ExcludeUppercase"),
                exclude_lowercase=_flag(generate, "ExcludeLowercase"),
                include_space=_flag(generate, "IncludeSpace"),
                require_each_included_type=_flag(generate, "RequireEachIncludedType", True))
            password = json.loads(password)["RandomPassword"]  # GetRandomPassword's answer
            template, key = generate.get("SecretStringTemplate"), generate.get("GenerateStringKey")
            value = json.dumps({**json.loads(template), key: password}) \
                if template and key else password
        tags = [{"Key": t["Key"], "Value": t["Value"]} for t in properties.get("Tags", [])]
        created = backend.create_secret(
            name=name, secret_string=value, secret_binary=None,
            description=properties.get("Description"), tags=tags or None,
            kms_key_id=properties.get("KmsKeyId"), client_request_token=None,
            replica_regions=[], force_overwrite=False)
        return cls(json.loads(created)["ARN"], name)  # CreateSecret's answer

    @classmethod
    def update_from_cloudformation_json(
            cls, original_resource: SecretsManagerSecret, new_resource_name: str,
            cloudformation_json: Any, account_id: str,
            region_name: str) -> SecretsManagerSecret:
        return original_resource  # the generated value is kept, as AWS keeps it

    @classmethod
    def delete_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Any, account_id: str,
            region_name: str) -> None:
        backend = secretsmanager_backends[account_id][region_name]
        backend.delete_secret(resource_name, recovery_window_in_days=None,
                              force_delete_without_recovery=True)

    def delete(self, account_id: str, region_name: str) -> None:
        secretsmanager_backends[account_id][region_name].delete_secret(
            self.arn, recovery_window_in_days=None, force_delete_without_recovery=True)


class CertificateManagerCertificate(_Resource, CloudFormationModel):
    """A DNS-validated certificate created by a stack, issued at once."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CertificateManager::Certificate"

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Any, account_id: str,
            region_name: str, **kwargs: Any) -> CertificateManagerCertificate:
        properties = cloudformation_json.get("Properties", {})
        backend = acm_backends[account_id][region_name]
        arn = backend.request_certificate(
            properties["DomainName"], idempotency_token=None,  # type: ignore[arg-type]
            subject_alt_names=properties.get("SubjectAlternativeNames") or [],
            tags=properties.get("Tags") or [])
        backend.get_certificate(arn).status = "ISSUED"  # validated through the zone
        return cls(arn)

    @classmethod
    def update_from_cloudformation_json(
            cls, original_resource: CertificateManagerCertificate, new_resource_name: str,
            cloudformation_json: Any, account_id: str,
            region_name: str) -> CertificateManagerCertificate:
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Any, account_id: str,
            region_name: str) -> None:
        acm_backends[account_id][region_name].delete_certificate(resource_name)

    def delete(self, account_id: str, region_name: str) -> None:
        acm_backends[account_id][region_name].delete_certificate(self.physical_id)


class CloudWatchAlarm(_Resource, CloudFormationModel):
    """A metric alarm created by a stack (CloudFormation User Guide, "AWS::CloudWatch::Alarm"):
    ``AlarmName`` names it (a generated name otherwise), on one metric (``Namespace``,
    ``MetricName``, ``Dimensions``, ``Statistic``, ``Period``) or on ``Metrics``, metric math
    over metric queries; ``Ref`` returns its name. moto has the alarm API but no such
    resource; the alarm starts in moto's OK state, and tests move it with SetAlarmState."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return "AlarmName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Any, account_id: str,
            region_name: str, **kwargs: Any) -> CloudWatchAlarm:
        from moto.cloudwatch.models import (
            Dimension,
            Metric,
            MetricDataQuery,
            MetricStat,
            cloudwatch_backends,
        )

        p = cloudformation_json.get("Properties", {})
        queries = None
        if p.get("Metrics"):
            queries = []
            for query in p["Metrics"]:
                stat = query.get("MetricStat")
                metric_stat = MetricStat(
                    metric=Metric(metric_name=stat["Metric"]["MetricName"],
                                  namespace=stat["Metric"]["Namespace"],
                                  dimensions=[Dimension(d["Name"], d["Value"])
                                              for d in stat["Metric"].get("Dimensions", [])]),
                    period=str(stat["Period"]), stat=stat["Stat"],
                    unit=stat.get("Unit")) if stat else None
                queries.append(MetricDataQuery(
                    query_id=query["Id"], label=query.get("Label"),
                    period=query.get("Period"), return_data=query.get("ReturnData"),
                    expression=query.get("Expression"), metric_stat=metric_stat))
        name = p.get("AlarmName") or resource_name
        cloudwatch_backends[account_id][region_name].put_metric_alarm(
            name=name, namespace=p.get("Namespace"), metric_name=p.get("MetricName"),
            comparison_operator=p["ComparisonOperator"],
            evaluation_periods=int(p["EvaluationPeriods"]), period=p.get("Period"),
            threshold=float(p["Threshold"]), statistic=p.get("Statistic"),
            description=p.get("AlarmDescription"),
            dimensions=[{"name": d["Name"], "value": d["Value"]}
                        for d in p.get("Dimensions", [])],
            alarm_actions=p.get("AlarmActions", []), metric_data_queries=queries,
            datapoints_to_alarm=p.get("DatapointsToAlarm"),
            treat_missing_data=p.get("TreatMissingData"))
        return cls(name)

    @classmethod
    def update_from_cloudformation_json(
            cls, original_resource: CloudWatchAlarm, new_resource_name: str,
            cloudformation_json: Any, account_id: str, region_name: str) -> CloudWatchAlarm:
        return cls.create_from_cloudformation_json(  # PutMetricAlarm replaces it in place
            original_resource.physical_id, cloudformation_json, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Any, account_id: str,
            region_name: str) -> None:
        from moto.cloudwatch.models import cloudwatch_backends

        cloudwatch_backends[account_id][region_name].delete_alarms([resource_name])

    def delete(self, account_id: str, region_name: str) -> None:
        from moto.cloudwatch.models import cloudwatch_backends

        cloudwatch_backends[account_id][region_name].delete_alarms([self.physical_id])


class IamOidcProvider(_Resource, CloudFormationModel):
    """An IAM OpenID Connect provider created by a stack (CloudFormation User Guide,
    "AWS::IAM::OIDCProvider"): ``Url`` (create-only; its host and path name the provider),
    ``ClientIdList``, an optional ``ThumbprintList`` (IAM API Reference,
    CreateOpenIDConnectProvider: "This parameter is optional"); ``Ref`` returns its ARN,
    ``arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH``. moto has the IAM API but skips the
    resource."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::IAM::OIDCProvider"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute_name == "Arn":
            return self.physical_id
        raise UnformattedGetAttTemplateException()

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Any, account_id: str,
            region_name: str, **kwargs: Any) -> IamOidcProvider:
        properties = cloudformation_json.get("Properties", {})
        provider = _iam(account_id, region_name).create_open_id_connect_provider(
            properties["Url"], properties.get("ThumbprintList") or [],
            properties.get("ClientIdList") or [], properties.get("Tags") or [])
        return cls(provider.arn)

    @classmethod
    def update_from_cloudformation_json(
            cls, original_resource: IamOidcProvider, new_resource_name: str,
            cloudformation_json: Any, account_id: str, region_name: str) -> IamOidcProvider:
        # Url is create-only; the client ids and thumbprints are updated in place.
        properties = cloudformation_json.get("Properties", {})
        provider = _iam(account_id, region_name).get_open_id_connect_provider(
            original_resource.physical_id)
        provider.client_id_list = properties.get("ClientIdList") or []
        provider.thumbprint_list = properties.get("ThumbprintList") or []
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Any, account_id: str,
            region_name: str) -> None:
        _iam(account_id, region_name).delete_open_id_connect_provider(resource_name)

    def delete(self, account_id: str, region_name: str) -> None:
        _iam(account_id, region_name).delete_open_id_connect_provider(self.physical_id)


def _scaling(account_id: str, region_name: str) -> Any:
    from moto.applicationautoscaling.models import applicationautoscaling_backends

    return applicationautoscaling_backends[account_id][region_name]


class ScalableTarget(_Resource, CloudFormationModel):
    """A scalable target registered by a stack (CloudFormation User Guide,
    "AWS::ApplicationAutoScaling::ScalableTarget"): ``ResourceId``, ``ScalableDimension`` and
    ``ServiceNamespace`` (create-only) name it, ``MinCapacity`` and ``MaxCapacity`` are
    required and updated in place; it is registered as RegisterScalableTarget registers one
    (an ECS service that does not exist is refused, the desired count is clamped:
    devtools/ecs/scaling.py). ``Ref`` returns ``RESOURCE|DIMENSION|NAMESPACE``, the id a
    ScalingPolicy's ``ScalingTargetId`` takes. moto skips the resource."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApplicationAutoScaling::ScalableTarget"

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Any, account_id: str,
            region_name: str, **kwargs: Any) -> ScalableTarget:
        p = cloudformation_json.get("Properties", {})
        _scaling(account_id, region_name).register_scalable_target(
            p["ServiceNamespace"], p["ResourceId"], p["ScalableDimension"],
            int(p["MinCapacity"]), int(p["MaxCapacity"]), p.get("RoleARN", ""),
            p.get("SuspendedState"))
        return cls(f"{p['ResourceId']}|{p['ScalableDimension']}|{p['ServiceNamespace']}")

    @classmethod
    def update_from_cloudformation_json(
            cls, original_resource: ScalableTarget, new_resource_name: str,
            cloudformation_json: Any, account_id: str, region_name: str) -> ScalableTarget:
        return cls.create_from_cloudformation_json(
            original_resource.physical_id, cloudformation_json, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Any, account_id: str,
            region_name: str) -> None:
        resource, dimension, namespace = resource_name.split("|")
        backend = _scaling(account_id, region_name)
        if backend._scalable_target_exists(resource, dimension):
            backend.deregister_scalable_target(namespace, resource, dimension)

    def delete(self, account_id: str, region_name: str) -> None:
        self.delete_from_cloudformation_json(self.physical_id, {}, account_id, region_name)


def _policy_target(p: dict[str, Any]) -> tuple[str, str, str]:
    """A policy's target: its ScalingTargetId (a ScalableTarget's Ref), or the three ids."""
    if p.get("ScalingTargetId"):
        resource, dimension, namespace = str(p["ScalingTargetId"]).split("|")
        return resource, dimension, namespace
    return (str(p.get("ResourceId")), str(p.get("ScalableDimension")),
            str(p.get("ServiceNamespace")))


class ScalingPolicy(_Resource, CloudFormationModel):
    """A scaling policy put by a stack (CloudFormation User Guide,
    "AWS::ApplicationAutoScaling::ScalingPolicy"): ``PolicyName``, ``PolicyType``, the target
    by ``ScalingTargetId`` or by ``ResourceId`` + ``ScalableDimension`` +
    ``ServiceNamespace``, and its configuration; put as PutScalingPolicy puts it (no target:
    ObjectNotFoundException). ``Ref`` returns its ARN. moto skips the resource."""

    def __init__(self, arn: str, key: tuple[str, str, str, str]) -> None:
        super().__init__(arn)
        self.key = key

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApplicationAutoScaling::ScalingPolicy"

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Any, account_id: str,
            region_name: str, **kwargs: Any) -> ScalingPolicy:
        p = cloudformation_json.get("Properties", {})
        resource, dimension, namespace = _policy_target(p)
        body = p.get("TargetTrackingScalingPolicyConfiguration") or \
            p.get("StepScalingPolicyConfiguration") or {}
        policy = _scaling(account_id, region_name).put_scaling_policy(
            p["PolicyName"], namespace, resource, dimension, body, p["PolicyType"])
        return cls(policy.policy_arn, (p["PolicyName"], namespace, resource, dimension))

    @classmethod
    def update_from_cloudformation_json(
            cls, original_resource: ScalingPolicy, new_resource_name: str,
            cloudformation_json: Any, account_id: str, region_name: str) -> ScalingPolicy:
        return cls.create_from_cloudformation_json(
            original_resource.physical_id, cloudformation_json, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Any, account_id: str,
            region_name: str) -> None:
        p = cloudformation_json.get("Properties", {})
        resource, dimension, namespace = _policy_target(p)
        with contextlib.suppress(Exception):  # gone with its target already
            _scaling(account_id, region_name).delete_scaling_policy(
                p.get("PolicyName"), namespace, resource, dimension)

    def delete(self, account_id: str, region_name: str) -> None:
        with contextlib.suppress(Exception):  # gone with its target already
            _scaling(account_id, region_name).delete_scaling_policy(*self.key)


class S3BucketPolicy(_Resource, CloudFormationModel):
    """A bucket's policy set by a stack (CloudFormation User Guide, "AWS::S3::BucketPolicy"):
    ``Bucket`` names the bucket, ``PolicyDocument`` is put as PutBucketPolicy puts it, updated
    in place; deleting the resource deletes the bucket's policy. ``Ref`` returns the bucket's
    name. moto skips the resource, so no bucket policy a template sets would exist."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::BucketPolicy"

    @classmethod
    def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Any, account_id: str,
            region_name: str, **kwargs: Any) -> S3BucketPolicy:
        properties = cloudformation_json.get("Properties", {})
        bucket = str(properties["Bucket"])
        _s3(account_id).put_bucket_policy(bucket, json.dumps(properties["PolicyDocument"]).encode())
        return cls(bucket)

    @classmethod
    def update_from_cloudformation_json(
            cls, original_resource: S3BucketPolicy, new_resource_name: str,
            cloudformation_json: Any, account_id: str, region_name: str) -> S3BucketPolicy:
        properties = cloudformation_json.get("Properties", {})
        if str(properties["Bucket"]) != original_resource.physical_id:  # replacement
            original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json,
                                                   account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: Any, account_id: str,
            region_name: str) -> None:
        cls(resource_name).delete(account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        with contextlib.suppress(Exception):  # the bucket may be gone already
            _s3(account_id).delete_bucket_policy(self.physical_id)


def _s3(account_id: str) -> Any:
    from moto.s3.models import s3_backends

    return s3_backends[account_id]["aws"]


def _iam(account_id: str, region_name: str) -> Any:
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    return iam_backends[account_id][get_partition(region_name)]


def _flag(options: dict[str, Any], key: str, default: bool = False) -> bool:
    value = options.get(key, default)
    return value if isinstance(value, bool) else str(value).lower() == "true"


def _target_group_attributes() -> None:
    """``Fn::GetAtt`` of a target group, which moto's model lacks (CloudFormation User Guide,
    "AWS::ElasticLoadBalancingV2::TargetGroup", Return values): ``TargetGroupFullName``
    (``targetgroup/NAME/ID``, CloudWatch's dimension), ``TargetGroupName`` and
    ``LoadBalancerArns``."""
    from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
    from moto.elbv2.models import FakeTargetGroup

    attributes = ("TargetGroupFullName", "TargetGroupName", "LoadBalancerArns")

    def has_cfn_attr(cls: Any, attr: str) -> bool:
        return attr in attributes

    def get_cfn_attribute(self: Any, attribute_name: str) -> Any:
        if attribute_name == "TargetGroupFullName":
            return self.arn.split(":", 5)[5]
        if attribute_name == "TargetGroupName":
            return self.name
        if attribute_name == "LoadBalancerArns":
            return list(self.load_balancer_arns)
        raise UnformattedGetAttTemplateException()

    FakeTargetGroup.has_cfn_attr = classmethod(has_cfn_attr)  # type: ignore[method-assign,assignment]
    FakeTargetGroup.get_cfn_attribute = get_cfn_attribute  # type: ignore[attr-defined]


_target_group_attributes()


def _task_definition_roles() -> None:
    """``AWS::ECS::TaskDefinition`` as CloudFormation creates it (User Guide,
    "AWS::ECS::TaskDefinition"): with its ``TaskRoleArn`` and ``ExecutionRoleArn`` (moto's
    model drops both: "currently TaskRoleArn isn't stored"), its network mode, compatibilities,
    size and platform. Without the roles a task of a stack's definition would seem to run with
    no role, and ECS's iam:PassRole check at RunTask would see none to check; an update that
    changes only a role registers a new revision, as CloudFormation does (replacement)."""
    from moto.core.utils import pascal_to_camelcase, remap_nested_keys
    from moto.ecs.models import TaskDefinition, ecs_backends

    def register(properties: dict[str, Any], account_id: str, region_name: str) -> Any:
        return ecs_backends[account_id][region_name].register_task_definition(
            family=properties["Family"],
            container_definitions=remap_nested_keys(properties.get("ContainerDefinitions", []),
                                                    pascal_to_camelcase),
            volumes=remap_nested_keys(properties.get("Volumes", []), pascal_to_camelcase),
            network_mode=properties.get("NetworkMode"),
            requires_compatibilities=properties.get("RequiresCompatibilities"),
            cpu=properties.get("Cpu"), memory=properties.get("Memory"),
            task_role_arn=properties.get("TaskRoleArn"),
            execution_role_arn=properties.get("ExecutionRoleArn"),
            runtime_platform=remap_nested_keys(properties.get("RuntimePlatform") or {},
                                               pascal_to_camelcase) or None,
            ephemeral_storage=remap_nested_keys(properties.get("EphemeralStorage") or {},
                                                pascal_to_camelcase) or None)

    def create(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str,
               region_name: str, /, **kwargs: Any) -> Any:
        return register(cloudformation_json["Properties"], account_id, region_name)

    def update(cls: Any, /, *, original_resource: Any, new_resource_name: str,
               cloudformation_json: Any, account_id: str, region_name: str) -> Any:
        ecs_backends[account_id][region_name].deregister_task_definition(original_resource.arn)
        return register(cloudformation_json["Properties"], account_id, region_name)

    TaskDefinition.create_from_cloudformation_json = classmethod(create)  # type: ignore[method-assign,assignment]
    TaskDefinition.update_from_cloudformation_json = classmethod(update)  # type: ignore[method-assign,assignment]


_task_definition_roles()

def _conditional_updates() -> None:
    """A stack update creates the resources whose ``Condition`` has become true and deletes
    those whose condition has become false (CloudFormation User Guide, "Conditions syntax":
    a resource with a condition is created only when the condition is true; "Update a stack
    with conditions"); moto evaluates conditions only when a stack is created, so an update
    that flips one left the stack as it was."""
    original = parsing.ResourceMap.update
    if getattr(original, "_dockyard_patched", False):
        return

    def update(self: Any, template: dict[str, Any],
               parameters: dict[str, Any] | None = None) -> None:
        conditional = {name: r["Condition"] for name, r in template.get("Resources", {}).items()
                       if r.get("Condition")}
        # moto's update sets a conditional resource it "modifies" to None, losing the object
        # that deletes it: kept from before.
        existing = {name: self._parsed_resources.get(name) for name in conditional}
        original(self, template, parameters)
        for name, condition in conditional.items():
            found = self._parsed_resources.get(name) or existing.get(name)
            if self.lazy_condition_map[condition]:
                if found is None:
                    self._parsed_resources.pop(name, None)
                    self[name]  # creates it
                else:
                    self._parsed_resources[name] = found
            else:
                self._parsed_resources.pop(name, None)
                if found is not None:
                    self._delete_resource(found, template["Resources"][name])

    update._dockyard_patched = True  # type: ignore[attr-defined]
    parsing.ResourceMap.update = update  # type: ignore[method-assign]


def _ingress_deletion() -> None:
    """Deleting an ``AWS::EC2::SecurityGroupIngress`` revokes its rule (User Guide,
    "AWS::EC2::SecurityGroupIngress"); moto's model had no deletion, so the rule stayed."""
    from moto.ec2.exceptions import (
        InvalidPermissionNotFoundError,
        InvalidSecurityGroupNotFoundError,
    )
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.security_groups import SecurityGroupIngress

    def delete(self: Any, account_id: str, region_name: str) -> None:
        props = self.properties
        source = {key: props[name] for key, name in (("GroupId", "SourceSecurityGroupId"),
                                                     ("GroupName", "SourceSecurityGroupName"))
                  if props.get(name)}
        # Gone already (the group went first, or the rule was revoked by hand): nothing to do.
        with contextlib.suppress(InvalidSecurityGroupNotFoundError,
                                 InvalidPermissionNotFoundError):
            ec2_backends[account_id][region_name].revoke_security_group_ingress(
                group_name_or_id=self.security_group.id, ip_protocol=props.get("IpProtocol"),
                from_port=props.get("FromPort"), to_port=props.get("ToPort"),
                ip_ranges=[{"CidrIp": props["CidrIp"]}] if props.get("CidrIp") else [],
                source_groups=[source] if source else [])

    SecurityGroupIngress.delete = delete  # type: ignore[attr-defined]


def _security_group_updates() -> None:
    """An update of ``AWS::EC2::SecurityGroup`` that keeps its GroupName, GroupDescription and
    VpcId changes its inline ingress rules in place: the group and its id stay, and rules other
    resources added are left alone (User Guide, "AWS::EC2::SecurityGroup": SecurityGroupIngress
    "Update requires: No interruption"; GroupDescription, GroupName, VpcId "Replacement").
    moto deleted the group and created another, with an id the running tasks and the other
    stacks' rules do not know. (Inline egress is not compared: dockyard's groups keep theirs.)"""
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.security_groups import SecurityGroup

    created = SecurityGroup.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    replaced = SecurityGroup.update_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create(cls: Any, resource_name: str, cloudformation_json: Any, account_id: str,
               region_name: str, **kwargs: Any) -> Any:
        group = created(cls, resource_name, cloudformation_json, account_id, region_name,
                        **kwargs)
        group.cfn_properties = cloudformation_json["Properties"]
        return group

    def update(cls: Any, /, *, original_resource: Any, new_resource_name: str,
               cloudformation_json: Any, account_id: str, region_name: str) -> Any:
        old = getattr(original_resource, "cfn_properties", None)
        new = cloudformation_json["Properties"]
        if old is None or any(old.get(k) != new.get(k)
                              for k in ("GroupName", "GroupDescription", "VpcId")):
            return replaced(cls, original_resource=original_resource,
                            new_resource_name=new_resource_name,
                            cloudformation_json=cloudformation_json, account_id=account_id,
                            region_name=region_name)
        backend = ec2_backends[account_id][region_name]
        before, after = old.get("SecurityGroupIngress", []), new.get("SecurityGroupIngress", [])
        for rule in [r for r in before if r not in after]:
            backend.revoke_security_group_ingress(original_resource.id, **_rule(rule))
        for rule in [r for r in after if r not in before]:
            backend.authorize_security_group_ingress(original_resource.id, **_rule(rule))
        original_resource.cfn_properties = new
        return original_resource

    SecurityGroup.create_from_cloudformation_json = classmethod(create)  # type: ignore[method-assign,assignment,arg-type]
    SecurityGroup.update_from_cloudformation_json = classmethod(update)  # type: ignore[method-assign,assignment]


def _rule(rule: dict[str, Any]) -> dict[str, Any]:
    """An inline ingress rule as moto's authorize and revoke take it."""
    source = {key: rule[name] for key, name in (("GroupId", "SourceSecurityGroupId"),
                                                ("GroupName", "SourceSecurityGroupName"))
              if rule.get(name)}
    return {"ip_protocol": rule["IpProtocol"], "from_port": rule.get("FromPort"),
            "to_port": rule.get("ToPort"),
            "ip_ranges": [{"CidrIp": rule["CidrIp"]}] if rule.get("CidrIp") else [],
            "source_groups": [source] if source else []}


def _patch_equals() -> None:
    """Fn::Equals compares strings. A Number parameter's value "becomes a string" wherever the
    template uses it, by Ref among others (CloudFormation User Guide, "CloudFormation template
    Parameters syntax", Number); moto turns it into an int, so ``Equals(Ref(Port), "5001")``
    was false for 5001."""
    original = parsing.parse_condition
    if getattr(original, "_dockyard_patched", False):
        return

    def parse_condition(condition: Any, resources_map: Any, condition_map: Any) -> bool:
        if isinstance(condition, dict) and list(condition) == ["Fn::Equals"]:
            values = [parsing.clean_json(v, resources_map) for v in condition["Fn::Equals"]]
            if all(isinstance(v, int | float | str) and not isinstance(v, bool) for v in values):
                return str(values[0]) == str(values[1])
        return bool(original(condition, resources_map, condition_map))

    parse_condition._dockyard_patched = True  # type: ignore[attr-defined]
    parsing.parse_condition = parse_condition



def bucket_permission(document: str, action: str, resource: str) -> str:
    """A bucket policy's say on a request, as moto's S3 asks it (only statements for every
    principal, ``"*"``, which moto can judge without knowing the caller), with their
    conditions evaluated: moto ignores them, so the usual "deny plain HTTP" statement
    (``aws:SecureTransport`` false: S3 User Guide, "Bucket policy examples", "Managing access
    based on HTTP or HTTPS requests") would deny every request. Requests reach the emulated
    account over TLS, as AWS's endpoints take them. Returns DENIED, PERMITTED or NEUTRAL."""
    context = {"aws:SecureTransport": "true"}
    said = "NEUTRAL"
    for statement in statements(document):
        if "*" not in statement.principals.get("AWS", ()) or \
                not statement.matches(action, resource, context):
            continue
        if statement.effect == "Deny":
            return "DENIED"
        said = "PERMITTED"
    return said


def _bucket_permissions() -> None:
    """Judge bucket policies with their conditions (``bucket_permission``)."""
    from moto.iam.access_control import PermissionResult
    from moto.s3 import models as s3_models

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        return getattr(PermissionResult, bucket_permission(self.policy.decode(), action,
                                                           resource))

    setattr(s3_models.FakeBucket, "get_permission", get_permission)  # noqa: B010


_patch_equals()
_bucket_permissions()
_conditional_updates()
_ingress_deletion()
_security_group_updates()

# moto caches its model map; a model defined after the first stack would otherwise be missed.
parsing.get_model_list.cache_clear()
parsing.get_model_map.cache_clear()
parsing.get_name_type_map.cache_clear()
