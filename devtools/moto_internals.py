"""The parts of moto the emulator patches or reads, checked before the first patch.

The emulator (devtools/ecs, devtools/strict, moto_server.patch_moto) replaces some of moto's
methods and reads some of its private attributes. Those are not moto's public interface: a new
moto may rename one, and a patch that no longer lands would leave moto's own, kinder behaviour
in place (a service that never rolls, a stack that forgets its outputs) with every test still
green. So moto is pinned in pyproject.toml to the version below, and :func:`require` refuses to
start on a moto that lacks any of them, naming what is missing.
"""

from __future__ import annotations

import importlib

CHECKED_AGAINST = "5.2.6"

# module -> dotted attributes the emulator patches or reads
REQUIRED: dict[str, tuple[str, ...]] = {
    "moto.ecs.models": (
        "EC2ContainerServiceBackend.create_service",
        "EC2ContainerServiceBackend.update_service",
        "EC2ContainerServiceBackend.describe_services",
        "EC2ContainerServiceBackend._get_service",
        "EC2ContainerServiceBackend.describe_task_definition",
        "Service.create_from_cloudformation_json",
        "Cluster.delete_from_cloudformation_json",
        "TaskDefinition.create_from_cloudformation_json",
        "TaskDefinition.update_from_cloudformation_json",
        "ecs_backends",
    ),
    "moto.ecs.responses": (
        "EC2ContainerServiceResponse.create_service",
        "EC2ContainerServiceResponse._get_param",
        "EC2ContainerServiceResponse.call_action",
    ),
    "moto.elbv2.responses": ("ELBV2Response.call_action",),
    "moto.ecs.exceptions": ("InvalidParameterException",),
    "moto.elbv2.models": (
        "FakeTargetGroup.health_for",
        "FakeTargetGroup.register",
        "FakeTargetGroup.deregister",
        "FakeTargetGroup.has_cfn_attr",
        "FakeTargetGroup.create_from_cloudformation_json",
        "FakeHealthStatus",
        "elbv2_backends",
    ),
    "moto.cloudformation.models": (
        "ChangeSet.apply",
        "Stack._create_output_map",
        "CloudFormationBackend.execute_change_set",
        "CloudFormationBackend.delete_stack",
    ),
    "moto.cloudformation.parsing": ("parse_condition", "clean_json", "ResourceMap.update",
                                    "ResourceMap._delete_resource"),
    "moto.ec2.exceptions": ("InvalidSecurityGroupNotFoundError",
                            "InvalidPermissionNotFoundError"),
    "moto.ec2.models.security_groups": ("SecurityGroupIngress",
                                        "SecurityGroup.create_from_cloudformation_json",
                                        "SecurityGroup.update_from_cloudformation_json"),
    "moto.cloudwatch.models": ("cloudwatch_backends",),
    "moto.ecr.models": ("ecr_backends",),
    "moto.iam.models": ("iam_backends", "Role.update_from_cloudformation_json",
                        "Role.put_policy", "IAMBackend.create_policy"),
    "moto.logs.models": ("LogGroup.get_cfn_attribute",),
    "moto.core.responses": ("ActionResult",),
    "moto.moto_api": ("state_manager",),
}


class MotoMismatch(RuntimeError):
    """The installed moto is not the one the emulator's patches were checked against."""


def missing() -> list[str]:
    """The required internals the installed moto lacks."""
    gone = []
    for module_name, attributes in REQUIRED.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            gone.append(module_name)
            continue
        for dotted in attributes:
            found: object = module
            for part in dotted.split("."):
                found = getattr(found, part, _MISSING)
                if found is _MISSING:
                    gone.append(f"{module_name}.{dotted}")
                    break
    return gone


_MISSING = object()


def require() -> None:
    """Raise :class:`MotoMismatch` unless every internal the emulator relies on is there."""
    import moto

    gone = missing()
    if gone:
        raise MotoMismatch(
            f"moto {moto.__version__} lacks {', '.join(gone)}, which the emulator patches or "
            f"reads; it was checked against moto {CHECKED_AGAINST} (the pin in "
            "pyproject.toml): install that version, or check each patch against this one")
