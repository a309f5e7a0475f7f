"""An AWS API request as the emulator's rules see it: who signed it, which service and action,
which parameters, in which region.

Services are told apart the way AWS's front ends do: by the SigV4 credential scope (the signing
name, ``.../ap-southeast-2/ecs/aws4_request``), the ``X-Amz-Target`` header (JSON protocols),
the ``Action`` parameter (query protocols) or, for S3, the method, path and sub-resources.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

_CREDENTIAL = re.compile(r"Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")
_S3_VIRTUAL = re.compile(r"^(?P<bucket>.+)\.s3(?:[.-](?P<region>[a-z0-9-]+))?\.amazonaws\.com$")
_S3_PATH_HOST = re.compile(r"^s3(?:[.-][a-z0-9-]+)?\.amazonaws\.com$")


@dataclass
class Call:
    """One request to the emulated account."""

    method: str
    host: str
    raw_path: str
    query_string: str
    headers: dict[str, str]
    body: bytes
    service: str = ""
    action: str = ""
    region: str = ""
    access_key: str = ""
    presigned: bool = False
    signature_v2: bool = False
    params: dict[str, Any] = field(default_factory=dict)
    bucket: str = ""
    key: str = ""

    @property
    def query(self) -> dict[str, list[str]]:
        """The query string, decoded."""
        return parse_qs(self.query_string, keep_blank_values=True)

    @property
    def signed(self) -> bool:
        """Whether the request carries AWS credentials at all."""
        return bool(self.access_key)

    def header(self, name: str) -> str:
        """A request header ('' when absent)."""
        return self.headers.get(name.lower(), "")


def parse(environ: dict[str, Any], body: bytes) -> Call:
    """The call a WSGI request makes."""
    headers = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items()
               if k.startswith("HTTP_")}
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = str(environ["CONTENT_TYPE"])
    if environ.get("CONTENT_LENGTH"):
        headers["content-length"] = str(environ["CONTENT_LENGTH"])
    raw_uri = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or
                  environ.get("PATH_INFO", "/"))
    raw_path, _, query_string = raw_uri.partition("?")
    if not query_string:
        query_string = str(environ.get("QUERY_STRING", ""))
    call = Call(method=str(environ.get("REQUEST_METHOD", "GET")),
                host=headers.get("host", "").split(":")[0] if ".amazonaws.com" in
                headers.get("host", "") else headers.get("host", ""),
                raw_path=raw_path, query_string=query_string, headers=headers, body=body)
    _identify(call)
    _operation(call)
    return call


def _identify(call: Call) -> None:
    if call.header("authorization").startswith("AWS ") or "AWSAccessKeyId" in call.query:
        call.signature_v2 = True
        return
    match = _CREDENTIAL.search(call.header("authorization"))
    if match is None:
        credential = call.query.get("X-Amz-Credential", [""])[0]
        match = _CREDENTIAL.search("Credential=" + credential) if credential else None
        call.presigned = match is not None
    if match is not None:
        call.access_key, _, call.region, call.service = match.groups()


def _operation(call: Call) -> None:
    target = call.header("x-amz-target")
    if call.service == "s3" or (not call.service and _S3_VIRTUAL.match(call.host)):
        call.service = "s3"
        _s3(call)
    elif target:
        call.action = target.rsplit(".", 1)[-1]
        try:
            call.params = json.loads(call.body or b"{}")
        except ValueError:
            call.params = {}
    else:
        form = parse_qs(call.body.decode("utf-8", "replace"), keep_blank_values=True) \
            if "x-www-form-urlencoded" in call.header("content-type") else {}
        merged = {**call.query, **form}
        call.params = {k: v[0] for k, v in merged.items()}
        call.action = call.params.get("Action", "")


def _s3(call: Call) -> None:
    path = unquote(call.raw_path)
    virtual = _S3_VIRTUAL.match(call.host)
    if virtual and not _S3_PATH_HOST.match(call.host):
        call.bucket, call.key = virtual["bucket"], path.lstrip("/")
    else:
        call.bucket, _, call.key = path.lstrip("/").partition("/")
    call.action = s3_action(call.method, bool(call.key), call.query)
    call.params = {"Bucket": call.bucket, "Key": call.key,
                   **{k: v[0] for k, v in call.query.items()}}


def s3_action(method: str, has_key: bool, query: dict[str, list[str]]) -> str:
    """The S3 operation of a REST request (S3 API Reference: each operation's request syntax)."""
    if has_key:
        if "uploads" in query:
            return "CreateMultipartUpload"
        if "uploadId" in query:
            return {"PUT": "UploadPart", "POST": "CompleteMultipartUpload",
                    "DELETE": "AbortMultipartUpload", "GET": "ListParts"}.get(method, "")
        return {"GET": "GetObject", "HEAD": "HeadObject", "PUT": "PutObject",
                "DELETE": "DeleteObject"}.get(method, "")
    subresources = [k for k in query if k not in ("list-type", "prefix", "delimiter",
                                                  "max-keys", "continuation-token",
                                                  "start-after", "encoding-type", "marker")]
    if method == "POST" and "delete" in query:
        return "DeleteObjects"
    if method in ("GET", "HEAD") and not subresources:
        return "HeadBucket" if method == "HEAD" else "ListObjects"
    sub = subresources[0] if subresources else ""
    return f"{method}Bucket{sub[:1].upper()}{sub[1:]}"
