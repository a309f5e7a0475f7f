"""The rules build, deploy and the config share: durations, tags, registries, secret names."""

from __future__ import annotations

import pytest

from dockyard.errors import UsageError
from dockyard.rules import IMAGE_TAG, looks_secret, names_registry, parse_duration, url_lifetime


def test_durations() -> None:
    assert [parse_duration(v) for v in ("45m", "90s", "2h", "10")] == [2700, 90, 7200, 600]
    for bad in ("soon", "0m", "-5m", ""):
        with pytest.raises(UsageError, match="--since"):
            parse_duration(bad, "--since")


@pytest.mark.parametrize(("reference", "expected"), [
    ("docker.io/you/app", True), ("localhost/app", True), ("registry:5000/app", True),
    ("you/app", False), ("app", False), ("acme/web", False)])
def test_a_registry_is_named_as_docker_reads_it(reference: str, expected: bool) -> None:
    assert names_registry(reference) is expected


def test_tags_and_secret_names() -> None:
    assert IMAGE_TAG.match("v1.2.0-rc_1") and not IMAGE_TAG.match(".hidden")
    assert not IMAGE_TAG.match("x" * 129)
    assert looks_secret("db_password") and looks_secret("API_TOKEN")
    assert not looks_secret("LOG_LEVEL")


def test_presigned_urls_outlive_the_task_by_the_margin() -> None:
    assert url_lifetime(3600) == 3600 + 1800
