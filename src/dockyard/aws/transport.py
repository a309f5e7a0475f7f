"""Faults between dockyard and AWS that botocore does not handle, handled once for every client.

botocore retries throttling, 5xx answers and broken connections (standard retry mode). What
it passes on as if it were an answer:

- an answer whose body is not what the protocol promises: empty where the operation returns
  members in the body, or JSON that does not parse (botocore then hands back the text as a
  ``message`` and no members, so a cut-off DescribeTasks looks like "no tasks");
- an XML body that does not parse (``ResponseParserError``, raised as is).

Such an answer is asked for again when asking again cannot do anything twice: reads
(Describe*, List*, Get*, ...), calls that carry an idempotency token (RunTask's
``clientToken``, CloudFormation's ``ClientRequestToken``; dockyard fills the token in before
the first attempt, so every attempt carries the same one), and writes that set a state rather
than add to it (StopTask, UpdateService, PutObject). Any other call is not repeated: its fault
is an error that names the call and says the request may have taken effect.

A field missing from an answer is an error naming the call and the field
(:class:`MissingField`), not a KeyError deep in dockyard; and what botocore raises that is not
an answer (no credentials, an expired SSO session, a connection that failed after its retries)
is a dockyard error: the connection's here, naming the call; credentials and SSO where the
caller translates them (naming what it was doing), else in ``dockyard.cli.main``.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.exceptions import HTTPClientError
from botocore.parsers import ResponseParserError

from dockyard.aws.errors import NOT_CLIENT_ERRORS, AwsError
from dockyard.errors import DockyardError
from dockyard.polling import RetryableError, SystemClock

ATTEMPTS = 4
_FAULT = "__dockyard_transport_fault__"
_READS = ("Describe", "List", "Get", "Head", "BatchGet", "Lookup", "Filter", "Search",
          "Validate", "Estimate")
_TOKENS = ("clientToken", "ClientToken", "ClientRequestToken")
# Writes that set a state: doing one twice leaves what doing it once does.
_IDEMPOTENT = frozenset({
    ("ecs", "StopTask"), ("ecs", "UpdateService"), ("ecs", "RegisterTaskDefinition"),
    ("ecs", "TagResource"), ("s3", "PutObject"), ("s3", "DeleteObject"),
    ("s3", "DeleteObjects"), ("logs", "PutRetentionPolicy"), ("ecr", "BatchDeleteImage"),
    # Deletes, and a tag put again, whose "already done" answer dockyard takes as done.
    ("ecs", "DeleteService"), ("cloudformation", "DeleteChangeSet"),
    ("backup", "DeleteRecoveryPoint"), ("efs", "DeleteFileSystem"),
    ("ecr", "DeleteRepository"), ("ecr", "PutImage"),
})


class AnswerError(DockyardError):
    """AWS's answer could not be used: cut off, unparsable, or missing what it must hold."""


class UnusableAnswers(AnswerError, RetryableError):
    """A call safe to repeat whose every answer was unusable: a waiting loop skips the round
    and asks again at its next one, as it does when throttled."""


class Unreachable(AwsError, RetryableError):
    """A read that reached no answer through botocore's own retries (the connection reset
    each time): a waiting loop asks again at its next round, anything else fails with it."""


class MissingField(AnswerError, KeyError):
    """An answer without a field dockyard reads (still a KeyError for code that expects one)."""

    def __str__(self) -> str:
        return self.message


class Answer(dict[str, Any]):
    """A parsed answer whose missing keys are errors naming the call."""

    call = "an AWS call"

    def __missing__(self, key: str) -> Any:
        raise MissingField(f"AWS's answer to {self.call} has no {key}",
                           hint="a truncated or unexpected answer; run the command again")


def harden(client: Any, service: str, sleep: Callable[[float], None] | None = None) -> Any:
    """Make ``client`` check every answer's body and retry the faults above where it is safe
    (waiting between attempts with ``sleep``, the system clock's by default)."""
    sleep = sleep or SystemClock().sleep
    client.meta.events.register("before-parse", _check_body)
    original = client._make_api_call

    def make_api_call(operation: str, params: dict[str, Any]) -> Any:
        model = client.meta.service_model.operation_model(operation)
        params = _with_token(model, params)
        safe = _safe(service, operation, params)
        call = f"{service} {operation}"
        for attempt in range(1, ATTEMPTS + 1):
            try:
                answer = original(operation, params)
                fault = answer.pop(_FAULT, None) if isinstance(answer, dict) else None
            except ResponseParserError:
                fault = "a body that does not parse"
            except (HTTPClientError, BotoConnectionError) as err:  # after botocore's retries
                if isinstance(err, NOT_CLIENT_ERRORS):
                    raise  # the caller names what it was doing (aws/errors.py: translate)
                failed = Unreachable if operation.startswith(_READS) else AwsError
                raise failed(f"{call}: the connection to AWS failed ({type(err).__name__})",
                             hint="check the network or proxy; run the command again") from err
            if fault is None:
                return _wrap(answer, call)
            if not safe:
                raise AnswerError(f"AWS's answer to {call} was {fault}",
                                  hint="the request may have taken effect all the same: "
                                       "`dockyard status` shows where things are; then run the "
                                       "command again")
            if attempt == ATTEMPTS:
                raise UnusableAnswers(f"AWS's answer to {call} was {fault}, {ATTEMPTS} times",
                                      hint="a proxy or the network between here and AWS cuts "
                                           "answers short; run the command again")
            sleep(min(0.5 * 2 ** attempt, 8.0) * random.uniform(0.5, 1.0))
        raise AssertionError("unreachable")

    client._make_api_call = make_api_call
    return client


def _with_token(model: Any, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with the operation's idempotency token filled in, once for all attempts."""
    shape = model.input_shape
    if shape is None:
        return params
    for name in _TOKENS:
        if name in shape.members and not params.get(name):
            return {**params, name: str(uuid.uuid4())}
    return params


def _safe(service: str, operation: str, params: dict[str, Any]) -> bool:
    return operation.startswith(_READS) or (service, operation) in _IDEMPOTENT or \
        any(params.get(name) for name in _TOKENS)


def _check_body(operation_model: Any, response_dict: dict[str, Any],
                customized_response_dict: dict[str, Any], **_: Any) -> None:
    """Mark an answer whose body cannot be what the operation returns (before-parse hook)."""
    if response_dict.get("status_code", 500) >= 300 or operation_model.has_streaming_output:
        return
    shape = operation_model.output_shape
    if shape is None or shape.serialization.get("payload"):
        return
    body = response_dict.get("body") or b""
    in_body = [m for m in shape.members.values() if not m.serialization.get("location")]
    protocol = operation_model.service_model.resolved_protocol
    if not body.strip():
        if in_body and protocol in ("json", "rest-json", "query", "ec2"):
            customized_response_dict[_FAULT] = "empty"
        return
    if protocol in ("json", "rest-json"):
        try:
            json.loads(body)
        except ValueError:
            customized_response_dict[_FAULT] = "cut off (its JSON does not parse)"


def _wrap(value: Any, call: str) -> Any:
    if isinstance(value, dict):
        answer = Answer({k: _wrap(v, call) for k, v in value.items()})
        answer.call = call
        return answer
    if isinstance(value, list):
        return [_wrap(v, call) for v in value]
    return value
