"""Errors shaped the way each AWS protocol sends them, so botocore parses them as it parses
AWS's own (botocore's ``parsers.py``: JSON ``__type``, query ``ErrorResponse``, S3 ``Error``)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

# Protocols of the services dockyard calls (botocore's service models, metadata.protocol).
_PROTOCOLS = {"cloudformation": "query", "sts": "query", "iam": "query", "ec2": "ec2",
              "elasticloadbalancing": "query", "s3": "rest-xml", "route53": "rest-xml",
              "elasticfilesystem": "rest-json", "backup": "rest-json"}


@dataclass
class Response:
    """A response to send instead of (or after) moto's."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def aws_error(service: str, status: int, code: str, message: str,
              method: str = "POST") -> Response:
    """An error response for ``service`` in its protocol's shape."""
    protocol = _PROTOCOLS.get(service, "json")
    request_id = str(uuid.uuid4())
    if protocol in ("query", "ec2"):
        body = (f'<ErrorResponse><Error><Type>Sender</Type><Code>{escape(code)}</Code>'
                f'<Message>{escape(message)}</Message></Error>'
                f'<RequestId>{request_id}</RequestId></ErrorResponse>').encode()
        if protocol == "ec2":
            body = (f'<Response><Errors><Error><Code>{escape(code)}</Code><Message>'
                    f'{escape(message)}</Message></Error></Errors><RequestID>{request_id}'
                    '</RequestID></Response>').encode()
        headers = [("Content-Type", "text/xml")]
    elif protocol == "rest-xml":
        body = b"" if method == "HEAD" else (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{escape(code)}</Code>'
            f'<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId>'
            '</Error>').encode()
        headers = [("Content-Type", "application/xml")]
    else:
        body = json.dumps({"__type": code, "message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code)]
    headers += [("x-amzn-RequestId", request_id), ("Content-Length", str(len(body)))]
    return Response(status, headers, body)
