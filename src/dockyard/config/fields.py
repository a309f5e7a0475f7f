"""The building blocks of dockyard.yml's models: the base model (strict, frozen, no unknown
keys), a Fargate size, and the annotated types whose validators name what a value must be."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ValidationInfo,
    field_validator,
)

from dockyard.config import fargate, limits
from dockyard.rules import looks_secret, shown

_LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
                       2192, 2557, 2922, 3288, 3653)
_NAME = re.compile(r"^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){1,19}$")
_DNS_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_DOMAIN = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_REGION = re.compile(r"^[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SM_ARN = re.compile(
    r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[\w/+=.@-]+(:.*)?$")
_SSM_ARN = re.compile(r"^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/[\w/.-]+$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$")
_SM_NAME = re.compile(r"^[\w/+=.@-]{1,512}$")
_SSM_NAME = re.compile(r"^ssm:/?[\w/.-]{1,1011}$")
_REPO_SLUG = re.compile(r"^[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}$")
_PATH = re.compile(r"^/[\x21-\x7e]*$")
_TAG_FILTER = re.compile(r"^[A-Za-z0-9._*-]{1,128}$")
# A git branch a job deploys from: no wildcard, nothing Jenkins escapes in a job's name but '/',
# and not the name GitHub pull requests get in a multibranch job (PR-12).
_BRANCH = re.compile(r"^(?!PR-[0-9]+$)(?!\.{1,2}$)(?!/)(?!.*//)(?!.*/$)[A-Za-z0-9._/-]{1,200}$")


def _check(pattern: re.Pattern[str], what: str) -> AfterValidator:
    def validate(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"{shown(value)} is not {what}")
        return value

    return AfterValidator(validate)


def _lower(value: Any) -> Any:
    return value.lower().rstrip(".") if isinstance(value, str) else value


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError:
        raise ValueError(f"{shown(value)} is not a CIDR block (like 10.0.0.0/16, with no host "
                         "bits set)") from None


def _retention(days: int) -> int:
    if days not in _LOG_RETENTION_DAYS:
        raise ValueError(f"{days} is not a CloudWatch Logs retention; use one of 1, 3, 7, 14, 30, "
                         "60, 90, 180, 365 (or another value CloudWatch offers)")
    return days


def _known_region(region: str) -> str:
    known = limits.known_regions()
    if known is not None and region not in known:
        raise ValueError(f"{shown(region)} is not an AWS region this installation knows (botocore "
                         "lists every region there is; a newer one needs a newer boto3)")
    return region


def _scalar_to_str(value: Any) -> Any:
    # YAML reads `DEBUG: 1` as an int and `ON: yes` as a bool; environment values are strings.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _env_name(key: str) -> str:
    if not _ENV_NAME.match(key):
        raise ValueError(f"{shown(key)} is not an environment variable name")
    return key


def _not_secret_looking(key: str) -> str:
    if looks_secret(key):
        raise ValueError(f"{key} looks like a secret; move it to 'secrets' as a Secrets Manager or "
                         "SSM reference, so its value never sits in the task definition")
    return key


def _secret_ref(ref: str) -> str:
    if _SM_ARN.match(ref) or _SSM_ARN.match(ref) or _SSM_NAME.match(ref):
        return ref
    if _SM_NAME.match(ref) and not ref.startswith("arn:"):
        return ref
    raise ValueError(f"{shown(ref)} is not a Secrets Manager name or ARN, nor "
                     "ssm:/parameter/path")


Name = Annotated[str, _check(_NAME, "a valid name: 2-20 characters of lowercase letters, digits "
                             "and single hyphens, starting with a letter")]
Host = Annotated[str, BeforeValidator(_lower), _check(_DNS_LABEL, "a DNS label (like 'jenkins')")]
Cidr = Annotated[str, AfterValidator(_cidr)]
Cpu = Annotated[int, AfterValidator(fargate.check_cpu)]
StorageGib = Annotated[int, AfterValidator(fargate.check_storage)]
Retention = Annotated[int, AfterValidator(_retention)]
EnvValue = Annotated[str, BeforeValidator(_scalar_to_str)]
SecretName = Annotated[str, AfterValidator(_env_name)]
EnvName = Annotated[str, AfterValidator(_env_name), AfterValidator(_not_secret_looking)]
SecretRef = Annotated[str, AfterValidator(_secret_ref)]


class Model(BaseModel):
    """Base of every dockyard.yml section: unknown keys are errors, values are immutable, and
    types are strict (``port: true`` is not port 1, ``count: "2"`` is not 2)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class FargateSize(Model):
    """A Fargate task size; memory is checked against the CPU value declared before it."""

    cpu: Cpu
    memory: int

    @field_validator("memory")
    @classmethod
    def _memory_fits_cpu(cls, memory: int, info: ValidationInfo) -> int:
        cpu = info.data.get("cpu")
        return memory if cpu is None else fargate.check_memory(cpu, memory)

