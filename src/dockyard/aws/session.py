"""One way to reach AWS for every command: profile, region, endpoint, retries, user agent.

boto3 already honours AWS_PROFILE, AWS_REGION and AWS_ENDPOINT_URL; dockyard keeps it that way,
so an emulator such as a moto server works through the very same calls as a real account.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3
import botocore.config
from botocore.exceptions import ProfileNotFound

from dockyard import __version__
from dockyard.aws.errors import AwsPreconditionError
from dockyard.aws.transport import harden

# Standard mode retries throttling and transient errors with backoff; 8 attempts spread over
# about a minute keeps a busy account from failing a long deploy.
PATIENT = 8
# A read that a loop repeats anyway (a log page every 2 s) gives up sooner, so one throttled
# read cannot hold the loop's status checks for a minute.
BRIEF = 2


@dataclass
class AwsSession:
    """A boto3 session with dockyard's client settings, and its clients made once each."""

    session: boto3.Session
    region: str
    log: Callable[[str], None] | None = None  # --debug: one line per AWS call
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    def client(self, service: str, attempts: int = PATIENT) -> Any:
        """A client for ``service`` in the session's region, trying each call up to
        ``attempts`` times; its answers are checked (:mod:`dockyard.aws.transport`)."""
        key = f"{service}/{attempts}"
        if key not in self._clients:
            # S3 URLs handed to kaniko are presigned with SigV4 (KMS-encrypted buckets require
            # it) for the regional virtual-hosted endpoint: botocore otherwise presigns for the
            # global one, which S3 answers with a 307 for new or non-us-east-1 buckets (the
            # re-sent request no longer matches the signature) and refuses in regions
            # launched after March 2019.
            extra = {"signature_version": "s3v4",
                     "s3": {"addressing_style": "virtual",
                            "us_east_1_regional_endpoint": "regional"}} \
                if service == "s3" else {}
            config = botocore.config.Config(
                region_name=self.region, retries={"mode": "standard", "max_attempts": attempts},
                user_agent_extra=f"dockyard/{__version__}", connect_timeout=10, read_timeout=60,
                **extra)
            client = harden(self.session.client(service, config=config), service)
            if self.log is not None:
                log_calls(client, self.log)
            self._clients[key] = client
        return self._clients[key]

    def credentials_expire(self) -> datetime | None:
        """When the current credentials stop working (None: long-lived or unknown)."""
        credentials = self.session.get_credentials()
        # botocore's RefreshableCredentials (SSO, assumed roles, ECS task roles) keep it here.
        expiry = getattr(credentials, "_expiry_time", None)
        return expiry if isinstance(expiry, datetime) else None


def log_calls(client: Any, log: Callable[[str], None]) -> None:
    """Write one line per call of ``client`` (each attempt): service, operation, HTTP status or
    error, time taken and AWS's request id. Never parameters or bodies: they can hold secrets."""
    started: dict[int, float] = {}
    service = client.meta.service_model.service_name

    def before(context: dict[str, Any], **_: Any) -> None:
        started[id(context)] = time.monotonic()

    def after(http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any],
              **_: Any) -> None:
        took = (time.monotonic() - started.pop(id(context), time.monotonic())) * 1000
        metadata = parsed.get("ResponseMetadata", {}) if isinstance(parsed, dict) else {}
        error = parsed.get("Error", {}).get("Code") if isinstance(parsed, dict) else None
        status = getattr(http_response, "status_code", "?")
        log(f"aws: {service} {model.name} {status}{f' {error}' if error else ''} "
            f"{took:.0f} ms request-id {metadata.get('RequestId', '-')}")

    def failed(exception: Exception, model: Any, context: dict[str, Any], **_: Any) -> None:
        took = (time.monotonic() - started.pop(id(context), time.monotonic())) * 1000
        log(f"aws: {service} {model.name} failed ({type(exception).__name__}) {took:.0f} ms")

    events = client.meta.events
    events.register("before-call.*.*", before)
    events.register("after-call.*.*", after)
    events.register("after-call-error.*.*", failed)


def make_session(profile: str | None, region: str,
                 log: Callable[[str], None] | None = None) -> AwsSession:
    """A session for ``profile`` (or the default chain) in ``region``; with ``log``, every
    AWS call is written to it (``--debug``)."""
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound:
        raise AwsPreconditionError(
            f"AWS profile {profile!r} is not configured",
            hint="check --profile / AWS_PROFILE against `aws configure list-profiles`") from None
    return AwsSession(session=session, region=region, log=log)
