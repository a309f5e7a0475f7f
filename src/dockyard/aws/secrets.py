"""Secrets Manager: reading a secret dockyard created."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from dockyard.aws.errors import AwsPreconditionError, error_code, translate


def secret_text(client: Any, name: str) -> str | None:
    """The current text of secret ``name``, or None when there is no such secret."""
    try:
        raw = client.get_secret_value(SecretId=name)
    except ClientError as err:
        if error_code(err) == "ResourceNotFoundException":
            return None
        raise translate(err, f"read the secret {name}") from err
    return str(raw["SecretString"])


def secret_arn(client: Any, name: str) -> str:
    """The full ARN of secret ``name`` (ECS task definitions need it; a name is not enough)."""
    try:
        raw = client.describe_secret(SecretId=name)
    except ClientError as err:
        if error_code(err) == "ResourceNotFoundException":
            raise AwsPreconditionError(f"the secret {name} does not exist in Secrets Manager",
                                       hint="create it, or fix the name in dockyard.yml") from err
        raise translate(err, f"look up the secret {name}") from err
    return str(raw["ARN"])
