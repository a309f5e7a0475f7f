"""AssumeRoleWithWebIdentity as AWS STS answers it, for the strict profile.

moto's ``assume_role_with_web_identity`` reads neither the token nor the role: any string gets
credentials for any role. STS (API Reference, AssumeRoleWithWebIdentity; IAM User Guide,
"Create an OpenID Connect (OIDC) identity provider in IAM" and "Available keys for AWS OIDC
federation"; re:Post, "resolve the InvalidIdentityToken error") does this, in this order:
- the call is not signed ("does not require the use of AWS security credentials");
- the token is a JWT whose ``iss`` names an IAM OIDC provider of the account (its URL without
  ``https://``), else InvalidIdentityToken "No OpenIDConnect provider found in your account";
- its ``aud`` is one of the provider's client ids, else InvalidIdentityToken "Incorrect token
  audience";
- STS fetches the issuer's ``/.well-known/openid-configuration`` and its ``jwks_uri`` from the
  public internet; an issuer it cannot reach is IDPCommunicationError ("Couldn't retrieve
  verification key from your identity provider"), a signature that no key verifies is
  InvalidIdentityToken;
- a token past its ``exp`` (IAM allows five minutes of clock skew) is ExpiredTokenException;
- the role's trust policy must allow ``sts:AssumeRoleWithWebIdentity`` to the provider
  (``Principal: {Federated: <provider ARN>}``), with the conditions evaluated on the keys
  ``<provider>:aud`` and ``<provider>:sub`` (and ``:amr``, ``:oaud``, ``:email`` where the token
  has them): for an issuer AWS does not know, no other claim reaches the policy. Otherwise
  AccessDenied "Not authorized to perform sts:AssumeRoleWithWebIdentity";
- ``DurationSeconds`` (default 3600) must lie between 900 and the role's MaxSessionDuration,
  else ValidationError.
The credentials it returns are a session of the role, named ``RoleSessionName``, that the
account's IAM rules then judge (devtools/strict/authz.py).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from xml.sax.saxutils import escape

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from devtools.jenkins_oidc import b64url_decode
from devtools.strict.calls import Call
from devtools.strict.credentials import Sessions
from devtools.strict.errors import Response, aws_error
from devtools.strict.policy import statements, trusts

CLOCK_SKEW_SECONDS = 300
# The claims IAM turns into condition keys for a provider it has no special rules for.
CONDITION_CLAIMS = ("aud", "sub", "amr", "oaud", "email")


class Issuer(Protocol):
    """Something on the internet that serves an issuer's documents."""

    @property
    def url(self) -> str: ...

    def document(self, path: str) -> dict[str, Any] | None: ...


class Refused(Exception):
    """STS's answer is an error."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def exchange(call: Call, sessions: Sessions, issuers: Callable[[str], Issuer | None],
             account: str, region: str) -> Response:
    """STS's answer to one AssumeRoleWithWebIdentity request."""
    try:
        return _exchange(call.params, sessions, issuers, account, region)
    except Refused as err:
        return aws_error("sts", err.status, err.code, err.message, call.method)


def _exchange(params: dict[str, Any], sessions: Sessions,
              issuers: Callable[[str], Issuer | None], account: str, region: str) -> Response:
    token = str(params.get("WebIdentityToken", ""))
    role_arn = str(params.get("RoleArn", ""))
    session_name = str(params.get("RoleSessionName", ""))
    header, claims, signed, signature = _parse(token)
    provider = _provider(account, str(claims.get("iss", "")))
    audiences = claims.get("aud")
    audiences = audiences if isinstance(audiences, list) else [audiences]
    if not any(a in provider.client_id_list for a in audiences):
        raise Refused(400, "InvalidIdentityToken", "Incorrect token audience")
    _verify(issuers(str(claims["iss"])), header, signed, signature)
    if time.time() > float(claims.get("exp", 0)) + CLOCK_SKEW_SECONDS:
        raise Refused(400, "ExpiredTokenException", "Token expired: current date/time must be "
                      "before the expiration date/time")
    role = _role(role_arn)
    context: dict[str, str | list[str]] = {
        f"{provider.url}:{claim}": str(claims[claim]) for claim in CONDITION_CLAIMS
        if claim in claims}
    context[f"{provider.url}:aud"] = [str(a) for a in audiences]
    if role is None or not trusts(statements(role.assume_role_policy_document), "Federated",
                                  provider.arn, "sts:AssumeRoleWithWebIdentity",
                                  context).allowed:
        raise Refused(403, "AccessDenied", "Not authorized to perform "
                      "sts:AssumeRoleWithWebIdentity")
    seconds = int(params.get("DurationSeconds") or 3600)
    if seconds < 900 or seconds > int(role.max_session_duration or 3600):
        raise Refused(400, "ValidationError", f"The requested DurationSeconds exceeds the "
                      f"MaxSessionDuration set for this role ({seconds} s)"
                      if seconds >= 900 else "DurationSeconds must be at least 900")
    session = sessions.issue(role_arn, seconds, region, session_name=session_name)
    return _answer(session.document(), role_arn, session_name,
                   subject=str(claims.get("sub", "")), provider=provider.url,
                   audience=str(audiences[0]), account=account, seconds=seconds)


def _parse(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    parts = token.split(".")
    try:
        if len(parts) != 3:
            raise ValueError("not a JWT")
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        signature = b64url_decode(parts[2])
    except (ValueError, TypeError):
        raise Refused(400, "InvalidIdentityToken", "The ID Token provided is not a valid "
                      "JWT") from None
    if not isinstance(header, dict) or not isinstance(claims, dict) or "iss" not in claims:
        raise Refused(400, "InvalidIdentityToken", "The ID Token provided is not a valid JWT")
    return header, claims, f"{parts[0]}.{parts[1]}".encode(), signature


def _provider(account: str, issuer: str) -> Any:
    from moto.iam.models import iam_backends

    name = issuer.removeprefix("https://")
    for provider in iam_backends[account]["aws"].open_id_providers.values():
        if provider.url == name:
            return provider
    raise Refused(400, "InvalidIdentityToken", "No OpenIDConnect provider found in your account "
                  f"for {issuer}")


def _role(arn: str) -> Any:
    from moto.iam.models import iam_backends

    account = arn.split(":")[4] if arn.count(":") >= 5 else ""
    if not account or account not in iam_backends:
        return None
    backend = iam_backends[account]["aws"]
    return next((r for r in backend.roles.values() if r.arn == arn), None)


def _verify(issuer: Issuer | None, header: dict[str, Any], signed: bytes,
            signature: bytes) -> None:
    unreachable = Refused(400, "IDPCommunicationError", "Couldn't retrieve verification key "
                          "from your identity provider, please reference "
                          "AssumeRoleWithWebIdentity documentation for requirements")
    if issuer is None:
        raise unreachable
    discovery = issuer.document("/.well-known/openid-configuration")
    if discovery is None or not str(discovery.get("jwks_uri", "")).startswith(issuer.url):
        raise unreachable
    keys = issuer.document(str(discovery["jwks_uri"]).removeprefix(issuer.url))
    if keys is None:
        raise unreachable
    if header.get("alg") != "RS256":
        raise Refused(400, "InvalidIdentityToken", "The token's algorithm is not supported")
    for key in keys.get("keys", []):
        if key.get("kid") != header.get("kid") or key.get("kty") != "RSA":
            continue
        public = rsa.RSAPublicNumbers(int.from_bytes(b64url_decode(key["e"]), "big"),
                                      int.from_bytes(b64url_decode(key["n"]), "big")).public_key()
        try:
            public.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
            return
        except InvalidSignature:
            break
    raise Refused(400, "InvalidIdentityToken", "The web identity token's signature could not be "
                  "verified with the identity provider's keys")


def _answer(credentials: dict[str, str], role_arn: str, session_name: str, *, subject: str,
            provider: str, audience: str, account: str, seconds: int) -> Response:
    role = role_arn.rsplit("/", 1)[-1]
    expires = (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = (
        '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        "<AssumeRoleWithWebIdentityResult>"
        f"<SubjectFromWebIdentityToken>{escape(subject)}</SubjectFromWebIdentityToken>"
        f"<Audience>{escape(audience)}</Audience>"
        f"<AssumedRoleUser><Arn>arn:aws:sts::{account}:assumed-role/{escape(role)}/"
        f"{escape(session_name)}</Arn><AssumedRoleId>AROA{uuid.uuid4().hex[:17].upper()}:"
        f"{escape(session_name)}</AssumedRoleId></AssumedRoleUser>"
        f"<Credentials><SessionToken>{escape(credentials['Token'])}</SessionToken>"
        f"<SecretAccessKey>{escape(credentials['SecretAccessKey'])}</SecretAccessKey>"
        f"<Expiration>{expires}</Expiration>"
        f"<AccessKeyId>{escape(credentials['AccessKeyId'])}</AccessKeyId></Credentials>"
        f"<Provider>{escape(provider)}</Provider>"
        "</AssumeRoleWithWebIdentityResult>"
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        "</AssumeRoleWithWebIdentityResponse>").encode()
    return Response(200, [("Content-Type", "text/xml"), ("Content-Length", str(len(body)))],
                    body)
