"""Rules that several parts of dockyard apply to what users type: image references, tags,
durations, secret-looking names. One definition each, so build, deploy and the config agree."""

from __future__ import annotations

import re

from dockyard.errors import UsageError

IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
"""A Docker/OCI tag (distribution spec: ``[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}``)."""

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
"""An image digest, as ECR and kaniko write it."""

ECR_HOST = re.compile(r"^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
"""A private ECR registry's host name."""

SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "KEY")
"""Words that make an environment variable or build argument name look like a secret."""

URL_MARGIN_SECONDS = 1800
"""A presigned URL a task uses lives this much longer than the task may run (start-up, image
pull and a slow upload come on top of the build's own timeout)."""


TASK_REF = re.compile(r"^(arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:task/[A-Za-z0-9_-]{1,255}/)?"
                      r"([0-9a-f]{32}|[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12})$")
"""An ECS task: its ARN (``arn:aws:ecs:REGION:ACCOUNT:task/CLUSTER/ID``) or its id (32 hex
digits on Fargate; emulators write a UUID)."""

SHOWN_CHARACTERS = 60
"""How much of a value an error message repeats: enough to recognise it, never a flood."""


def shown(value: object) -> str:
    """``value`` as an error message quotes it (repr), cut to a readable length."""
    text = repr(value)
    if len(text) <= SHOWN_CHARACTERS:
        return text
    size = f" ({len(value):,} characters)" if isinstance(value, str) else ""
    return f"{text[:SHOWN_CHARACTERS - 1]}…{size}"


def clipped(text: str, most: int = 300) -> str:
    """A message (not a value) cut to ``most`` characters, saying how long it was."""
    return text if len(text) <= most else f"{text[:most]}… ({len(text):,} characters)"


def names_registry(repository: str) -> bool:
    """Whether ``repository`` starts with a registry host, as Docker reads a reference: a first
    component with a dot or a port, or ``localhost`` (``docker.io/you/app``, not ``you/app``)."""
    first = repository.split("/", 1)[0]
    return "/" in repository and ("." in first or ":" in first or first == "localhost")


def looks_secret(name: str) -> bool:
    """Whether a variable name says it holds a secret (``DB_PASSWORD``, ``API_TOKEN``)."""
    return any(word in name.upper() for word in SECRET_WORDS)


# [0-9], not \d: \d takes any script's digits, and int() reads them (a full-width 5 and m
# was 5 minutes).
_DURATION = re.compile(r"^([0-9]{1,9})([smh]?)$")


def parse_duration(value: str, option: str = "--timeout", *, most: int = 7 * 86400) -> int:
    """``45m``, ``90s``, ``2h`` (or plain minutes) in seconds, at most ``most``; errors name
    ``option``."""
    match = _DURATION.match(value)
    if match is None:
        raise UsageError(f"{option} {shown(value)}: use a number (digits 0-9) with s, m or h, "
                         "like 45m")
    seconds = int(match[1]) * {"s": 1, "m": 60, "h": 3600, "": 60}[match[2]]
    if seconds <= 0:
        raise UsageError(f"{option} {shown(value)}: must be more than zero")
    if seconds > most:
        raise UsageError(f"{option} {shown(value)}: at most {_duration_text(most)}")
    return seconds


def _duration_text(seconds: int) -> str:
    return f"{seconds // 3600} h" if seconds % 3600 == 0 else f"{seconds // 60} min"


def url_lifetime(task_seconds: int) -> int:
    """How long a presigned URL for a task that may run ``task_seconds`` must live."""
    return task_seconds + URL_MARGIN_SECONDS
