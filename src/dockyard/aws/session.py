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
from botocore.exceptions import ClientError, ProfileNotFound

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
    expires: datetime | None = None  # a web identity session's end
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    def client(self, service: str, attempts: int = PATIENT, *, unsigned: bool = False) -> Any:
        """A client for ``service`` in the session's region, trying each call up to
        ``attempts`` times; its answers are checked (:mod:`dockyard.aws.transport`).
        ``unsigned``: its requests carry no credentials (STS AssumeRoleWithWebIdentity)."""
        key = f"{service}/{attempts}/{unsigned}"
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
            if unsigned:
                from botocore import UNSIGNED

                extra["signature_version"] = UNSIGNED
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
        if self.expires is not None:
            return self.expires
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


@dataclass(frozen=True)
class WebIdentity:
    """A pipeline build's token, and the role it is to be exchanged for."""

    token: str
    role_arn: str
    session_name: str
    seconds: int
    subject: str  # the token's sub, for messages


def web_identity_session(identity: WebIdentity, region: str,
                         log: Callable[[str], None] | None = None) -> AwsSession:
    """A session of ``identity.role_arn``, from STS in exchange for the build's token
    (AssumeRoleWithWebIdentity needs no credentials: its request is not signed)."""
    sts = AwsSession(boto3.Session(region_name=region), region, log).client("sts", unsigned=True)
    try:
        answer = sts.assume_role_with_web_identity(
            RoleArn=identity.role_arn, RoleSessionName=identity.session_name,
            WebIdentityToken=identity.token, DurationSeconds=identity.seconds)
    except ClientError as err:
        raise _refused(err, identity) from err
    credentials = answer["Credentials"]
    session = boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                            aws_secret_access_key=credentials["SecretAccessKey"],
                            aws_session_token=credentials["SessionToken"], region_name=region)
    return AwsSession(session=session, region=region, log=log,
                      expires=credentials["Expiration"])


def _refused(err: ClientError, identity: WebIdentity) -> AwsPreconditionError:
    """What STS's refusal means for the build (STS API Reference, AssumeRoleWithWebIdentity,
    Errors)."""
    from dockyard.aws.errors import error_code, error_message

    code, message = error_code(err), error_message(err)
    role = identity.role_arn.rsplit("/", 1)[-1]
    hints = {
        "AccessDenied": f"the role {role} does not trust builds of {identity.subject}: only "
                        "the deploy branches of the app's job may use it (dockyard.yml's "
                        "jenkins.jobs[].deploy_branches and apps.<name>.job, as `dockyard up` "
                        "last deployed them)",
        "InvalidIdentityToken": "the token is not one this account's IAM OIDC provider for "
                                "Jenkins accepts; run `dockyard up` after changing the Jenkins "
                                "host or domain",
        "IDPCommunicationError": "AWS STS could not fetch Jenkins' keys from "
                                 "https://<jenkins>/oidc/jwks; it must answer from the internet "
                                 "(dockyard up opens exactly that path)",
        "ExpiredTokenException": "the token is older than its 5 minutes: the pipeline step "
                                 "gets a new one each time; retry the step",
        "ValidationError": "the command asks for a longer session than the role allows; run "
                           "`dockyard up` so the role's maximum fits the app's deploys",
    }
    return AwsPreconditionError(
        f"AWS STS refused this build's credentials for {role} ({code}): {message}",
        hint=hints.get(code, "see `dockyard --debug` for the call"))
