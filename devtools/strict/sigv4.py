"""Checking presigned S3 URLs as S3 does (Amazon S3 API Reference, "Authenticating Requests:
Using Query Parameters (AWS Signature Version 4)").

S3 recomputes the signature from the request it receives, including its Host header: a URL
signed for one host and sent to another (after a 307 redirect from the global endpoint to the
regional one, say) fails with SignatureDoesNotMatch. A URL is refused once X-Amz-Date plus
X-Amz-Expires has passed ("Request has expired"), and with the credentials that signed it
("If you created a presigned URL using a temporary token, then the URL expires when the token
expires", S3 User Guide, "Sharing objects with presigned URLs").
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote

MAX_EXPIRES = 604_800  # seven days, the most SigV4 query authentication allows


def _encode(value: str) -> str:
    return quote(value, safe="-_.~")


def canonical_request(method: str, raw_path: str, query_string: str,
                      headers: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The canonical request of a presigned S3 request, and its parameters."""
    pairs = parse_qsl(query_string, keep_blank_values=True)
    params = dict(pairs)
    signed = params.get("X-Amz-SignedHeaders", "host").split(";")
    query = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in
                     sorted((k, v) for k, v in pairs if k != "X-Amz-Signature"))
    canonical_headers = "".join(f"{name}:{' '.join(headers.get(name, '').split())}\n"
                                for name in signed)
    text = "\n".join([method, raw_path or "/", query, canonical_headers, ";".join(signed),
                      "UNSIGNED-PAYLOAD"])
    return text, params


def signature(secret: str, params: dict[str, str], canonical: str) -> str:
    """The SigV4 signature for a canonical request, from the signing parameters."""
    _, day, region, service, _ = params["X-Amz-Credential"].split("/")
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", params["X-Amz-Date"], scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def check(method: str, raw_path: str, query_string: str, headers: dict[str, str], *,
          secret: str | None, now: datetime | None = None) -> tuple[str, str] | None:
    """None when the presigned request is good; else the S3 error code and message."""
    if secret is None:
        return "InvalidAccessKeyId", ("The AWS Access Key Id you provided does not exist in our "
                                      "records.")
    canonical, params = canonical_request(method, raw_path, query_string, headers)
    try:
        signed_at = datetime.strptime(params["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        expires = int(params.get("X-Amz-Expires", "0"))
    except (KeyError, ValueError):
        return "AuthorizationQueryParametersError", "X-Amz-Date or X-Amz-Expires is malformed"
    if not 1 <= expires <= MAX_EXPIRES:
        return "AuthorizationQueryParametersError", ("X-Amz-Expires must be less than a week "
                                                     "(in seconds) that is 604800")
    if not hmac.compare_digest(signature(secret, params, canonical),
                               params.get("X-Amz-Signature", "")):
        return "SignatureDoesNotMatch", ("The request signature we calculated does not match "
                                         "the signature you provided. Check your key and "
                                         "signing method.")
    if (now or datetime.now(UTC)) > signed_at + timedelta(seconds=expires):
        return "AccessDenied", "Request has expired"
    return None
