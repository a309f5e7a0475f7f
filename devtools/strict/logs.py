"""CloudWatch Logs' lazily updated stream times.

DescribeLogStreams, LogStream.lastEventTimestamp: "The lastEventTime value updates on an
eventual consistency basis. It typically updates in less than an hour from ingestion, but in
rare situations might take longer." The emulator reports it (and orders by it, for
``orderBy=LastEventTime``) only for streams whose first event is older than ``LAG_SECONDS``:
a stream a new task just started looks older than the one before it, as it can on AWS.
"""

from __future__ import annotations

import json
import time
from typing import Any

from devtools.strict.calls import Call
from devtools.strict.errors import Response

LAG_SECONDS = 600


def widen(call: Call) -> bytes | None:
    """The request body to send moto instead (every stream, so the emulator can order them)."""
    if (call.service, call.action) != ("logs", "DescribeLogStreams") or \
            call.params.get("orderBy") != "LastEventTime":
        return None
    params = {k: v for k, v in call.params.items() if k not in ("limit", "nextToken")}
    return json.dumps(params).encode()


def lag(call: Call, response: Response) -> Response:
    """The answer with lastEventTimestamp as AWS may still report it."""
    if widen(call) is None or response.status != 200:
        return response
    document: dict[str, Any] = json.loads(response.body or b"{}")
    now_ms = time.time() * 1000
    streams = document.get("logStreams", [])
    for stream in streams:
        first = stream.get("firstEventTimestamp")
        if first is None or now_ms - first < LAG_SECONDS * 1000:
            stream.pop("lastEventTimestamp", None)
    streams.sort(key=lambda s: s.get("lastEventTimestamp", 0),
                 reverse=bool(call.params.get("descending")))
    limit = int(call.params.get("limit") or 50)
    body = json.dumps({"logStreams": streams[:limit]}).encode()
    headers = [(k, v) for k, v in response.headers if k.lower() != "content-length"]
    return Response(200, [*headers, ("Content-Length", str(len(body)))], body)
