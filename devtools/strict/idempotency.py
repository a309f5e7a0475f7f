"""Idempotency tokens as AWS honours them: a request repeated with the token of an earlier one
gets that request's answer and does nothing a second time. moto ignores the tokens, so a
RunTask retried after its answer was lost starts a second task there, and never on AWS.

- ECS RunTask and CreateService, ``clientToken``: "An identifier that you provide to ensure
  the idempotency of the request. It must be unique and is case sensitive." (API Reference)
- CloudFormation CreateChangeSet ``ClientToken``; ExecuteChangeSet, DeleteStack,
  CancelUpdateStack and ContinueUpdateRollback ``ClientRequestToken``: "Specify this token if
  you plan to retry requests so that CloudFormation knows that you're not attempting to ...
  again. You might retry ... requests to ensure that CloudFormation successfully received
  them." (API Reference)
"""

from __future__ import annotations

import threading

from devtools.strict.calls import Call
from devtools.strict.errors import Response

TOKENS = {("ecs", "RunTask"): "clientToken", ("ecs", "CreateService"): "clientToken",
          ("cloudformation", "CreateChangeSet"): "ClientToken",
          ("cloudformation", "ExecuteChangeSet"): "ClientRequestToken",
          ("cloudformation", "DeleteStack"): "ClientRequestToken",
          ("cloudformation", "CancelUpdateStack"): "ClientRequestToken",
          ("cloudformation", "ContinueUpdateRollback"): "ClientRequestToken"}


class Tokens:
    """The first answer to each tokened request, to give again when the token comes back."""

    def __init__(self) -> None:
        self._answers: dict[tuple[str, str, str], Response] = {}
        self._lock = threading.Lock()
        self.replayed = 0

    def _key(self, call: Call) -> tuple[str, str, str] | None:
        name = TOKENS.get((call.service, call.action))
        token = call.params.get(name) if name else None
        return (call.service, call.action, str(token)) if token else None

    def replay(self, call: Call) -> Response | None:
        """The answer to an earlier request with this call's token, if there was one."""
        key = self._key(call)
        with self._lock:
            answer = self._answers.get(key) if key else None
            if answer is not None:
                self.replayed += 1
            return answer

    def remember(self, call: Call, response: Response) -> None:
        """Keep a successful answer to a tokened request."""
        key = self._key(call)
        if key is not None and response.status < 300:
            with self._lock:
                self._answers.setdefault(key, response)

    def clear(self) -> None:
        """Forget every token (an account reset)."""
        with self._lock:
            self._answers.clear()
            self.replayed = 0
