"""Secrets Manager: reading a secret dockyard created."""

from __future__ import annotations

import json
import re
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


def secret_fields(client: Any, name: str) -> dict[str, str] | None:
    """The top-level keys of a secret that holds a JSON object ({} for anything else), each with
    the label of the PEM block its value starts with ("PRIVATE KEY" for PKCS#8, "RSA PRIVATE
    KEY" for PKCS#1; "" for a value that is not PEM); None when there is no such secret. The
    values are read once, never kept or shown."""
    text = secret_text(client, name)
    if text is None:
        return None
    try:
        document = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(document, dict):
        return {}
    return {key: _pem_label(value) for key, value in sorted(document.items())}


def _pem_label(value: Any) -> str:
    found = re.match(r"\s*-----BEGIN ([A-Z0-9 ]+)-----", value) if isinstance(value, str) else None
    return found.group(1) if found else ""


def create_command(region: str, name: str) -> str:
    """The command that creates secret ``name``, for a hint."""
    return (f"aws secretsmanager create-secret --region {region} --name {name} "
            "--secret-string 'VALUE'")


def secret_arn(client: Any, name: str, field: str = "") -> str:
    """The full ARN of secret ``name`` (ECS task definitions need it; a name is not enough);
    ``field`` names where dockyard.yml refers to it, for the error."""
    try:
        raw = client.describe_secret(SecretId=name)
    except ClientError as err:
        if error_code(err) == "ResourceNotFoundException":
            where = f"{field}: " if field else ""
            region = client.meta.region_name
            raise AwsPreconditionError(
                f"{where}the secret {name} does not exist in {region}",
                hint=f"create it: {create_command(region, name)} (or fix the name in "
                     "dockyard.yml)") from err
        raise translate(err, f"look up the secret {name}") from err
    return str(raw["ARN"])


def secret_exists(client: Any, ref: str) -> bool | None:
    """Whether the secret ``ref`` (a name or an ARN) exists; None when this identity may not
    look (DescribeSecret shows metadata, never the value)."""
    try:
        client.describe_secret(SecretId=ref)
    except ClientError as err:
        if error_code(err) == "ResourceNotFoundException":
            return False
        if error_code(err) in ("AccessDeniedException", "AccessDenied"):
            return None
        raise translate(err, f"look up the secret {ref}") from err
    return True
