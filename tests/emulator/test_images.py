"""What a fake image lacks, from its Dockerfile (devtools/images.py), and a one-off command of
it failing as the image would."""

from __future__ import annotations

import pytest
from devtools.images import lacks, missing_command


@pytest.mark.parametrize(("dockerfile", "absent", "present"), [
    ("FROM python:3.12-slim\n", {"curl", "wget"}, {"python", "sh"}),
    ("FROM python:3.14.1-slim-trixie AS app\n", {"curl"}, {"python"}),
    ("FROM python:3.12\n", set(), {"curl", "wget"}),
    ("FROM python:3.12-alpine\n", {"curl", "bash"}, {"wget", "sh"}),
    ("FROM scratch\n", {"sh", "curl", "python"}, set()),
    ("FROM python:3.12-slim\nRUN apt-get update && apt-get install -y --no-install-recommends "
     "curl\n", {"wget"}, {"curl"}),
    # the final stage counts: a builder stage's tools are not in the image
    ("FROM python:3.12 AS build\nRUN true\nFROM python:3.12-slim\n", {"curl"}, set()),
    ("FROM --platform=$BUILDPLATFORM alpine:3.20\nRUN apk add --no-cache curl\n", {"bash"},
     {"curl"}),
    ("FROM ghcr.io/acme/base:1\n", set(), {"curl"}),  # not in the table: lacks nothing
])
def test_what_an_image_lacks(dockerfile: str, absent: set[str], present: set[str]) -> None:
    found = lacks(dockerfile)
    assert absent <= found and not present & found, found


@pytest.mark.parametrize(("command", "missing"), [
    (["sh", "-c", 'curl -fsS -H "$DOCKYARD_TEST_HEADER" "$DOCKYARD_TEST_URL/healthz"'], "curl"),
    (["sh", "-c", "set -e; echo checking && wget -qO- http://x/ | grep ok"], "wget"),
    (["sh", "-c", "A=1 curl http://x/"], "curl"),
    (["sh", "-c", "python -c 'import urllib.request'"], None),
    (["curl", "http://x/"], "curl"),
    (["python", "manage.py", "migrate"], None),
])
def test_a_command_the_image_lacks_is_found(command: list[str], missing: str | None) -> None:
    assert missing_command(command, lacks("FROM python:3.12-slim\n")) == missing
