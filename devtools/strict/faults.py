"""Transient faults at a seeded rate: throttling and server errors, as every AWS API returns
them now and then ("Error retries and exponential backoff in AWS": "you should implement retry
logic for ... throttling errors and 5xx errors"; botocore retries them, dockyard must not turn
them into failures). Resets of the connection are played by the network (network.py).

Presigned requests are spared: the program that sends them (kaniko) has no retry, and what it
does on a 5xx is kaniko's behaviour, not dockyard's.
"""

from __future__ import annotations

from devtools.strict.calls import Call
from devtools.strict.errors import Response, aws_error
from devtools.strict.profile import Profile

_THROTTLE = {"s3": (503, "SlowDown", "Please reduce your request rate."),
             "cloudformation": (400, "Throttling", "Rate exceeded"),
             "sts": (400, "Throttling", "Rate exceeded")}
_DEFAULT_THROTTLE = (400, "ThrottlingException", "Rate exceeded")
_SERVER = {"s3": (500, "InternalError", "We encountered an internal error. Please try again."),
           "cloudformation": (500, "InternalFailure", "An internal error occurred.")}
_DEFAULT_SERVER = (503, "ServiceUnavailableException", "Service is unavailable. Try again.")


def maybe_fail(call: Call, profile: Profile) -> Response | None:
    """A throttling or server error for this request, at the profile's rate (every time for
    the profile's ``throttled`` operations)."""
    if call.presigned or not call.signed:
        return None
    always = f"{call.service}:{call.action}" in profile.throttled
    if not always and (not profile.fault_rate or profile.draw() >= profile.fault_rate * 2 / 3):
        return None
    throttle = always or profile.draw() < 0.6
    profile.played.append("throttle" if throttle else "5xx")
    status, code, message = (_THROTTLE.get(call.service, _DEFAULT_THROTTLE) if throttle
                             else _SERVER.get(call.service, _DEFAULT_SERVER))
    return aws_error(call.service, status, code, message, call.method)
