"""AWS errors, translated once at the wrapper boundary into errors a user can act on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    SSOError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)

from dockyard.errors import DockyardError, ExitCode
from dockyard.polling import RetryableError

T = TypeVar("T")

_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired"}
_INVALID = {"InvalidClientTokenId", "UnrecognizedClientException", "AuthFailure",
            "SignatureDoesNotMatch", "IncompleteSignature"}
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
           "UnauthorizedAccess"}
_THROTTLED = {"Throttling", "ThrottlingException", "RequestLimitExceeded",
              "TooManyRequestsException"}
# Transient server-side failures (botocore's standard retry mode retries these too): a loop
# that reads again anyway (a log page, a task's status) treats them as throttling.
_UNAVAILABLE = {"ServiceUnavailable", "ServiceUnavailableException", "InternalFailure",
                "InternalError", "InternalServerError", "InternalServerException"}


class AwsPreconditionError(DockyardError):
    """AWS cannot be used as asked: credentials, access, region or a missing stack.
    ``denied``: AWS refused the call itself (AccessDenied)."""

    exit_code = ExitCode.AWS_PRECONDITION
    denied = False


class AwsError(DockyardError):
    """An AWS call failed for a reason that is not about access."""


class AwsUnavailable(AwsError, RetryableError):
    """AWS failed on its side (a 5xx): a loop that reads again anyway goes on."""


def error_code(err: ClientError) -> str:
    """The AWS error code of a ClientError."""
    return str(err.response.get("Error", {}).get("Code", ""))


def error_message(err: ClientError) -> str:
    """The AWS error message of a ClientError, on one line."""
    message = str(err.response.get("Error", {}).get("Message", "")) or str(err)
    if message.lstrip().startswith("<"):  # an HTML page from a proxy or an emulator
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
        return f"the endpoint does not offer this call (HTTP {status})"
    return " ".join(message.split())


# botocore's failures that are not an AWS answer: credentials, SSO, the network. Anything else
# is a bug in dockyard and must not pass for an AWS error.
NOT_CLIENT_ERRORS = (NoCredentialsError, PartialCredentialsError, UnauthorizedSSOTokenError,
                     SSOError, TokenRetrievalError, EndpointConnectionError)


def translate(err: Exception, action: str) -> DockyardError:
    """The dockyard error for a botocore failure while doing ``action``."""
    if isinstance(err, NoCredentialsError | PartialCredentialsError):
        return AwsPreconditionError(f"{action}: no AWS credentials found",
                                    hint="set AWS_PROFILE (or --profile), or run `aws configure`")
    if isinstance(err, UnauthorizedSSOTokenError | TokenRetrievalError | SSOError):
        return AwsPreconditionError(f"{action}: the AWS SSO session has expired or is missing",
                                    hint="run `aws sso login` for this profile, then retry")
    if isinstance(err, EndpointConnectionError):
        return AwsPreconditionError(f"{action}: cannot reach {err.kwargs.get('endpoint_url')}",
                                    hint="check the region (--region) and your network")
    if isinstance(err, ClientError):
        code, message = error_code(err), error_message(err)
        if code in _EXPIRED:
            return AwsPreconditionError(f"{action}: the AWS credentials have expired",
                                        hint="refresh them (`aws sso login`, or new keys)")
        if code in _INVALID:
            return AwsPreconditionError(f"{action}: the AWS credentials are not valid ({code})",
                                        hint="check the keys or profile, and that the region "
                                             "is enabled for the account")
        if code in _DENIED:
            refused = AwsPreconditionError(f"{action}: access denied: {message}",
                                           hint="the identity needs permission for this call")
            refused.denied = True
            return refused
        if code in _THROTTLED or "Rate exceeded" in message:
            return RetryableError(f"{action}: AWS is throttling requests ({code})")
        if code in _UNAVAILABLE:
            return AwsUnavailable(f"{action}: {message} ({code}: AWS failed on its side; try "
                                  "again)")
        return AwsError(f"{action}: {message} ({code})")
    return AwsError(f"{action}: {err}")


@contextmanager
def translated(action: str, done_if: tuple[str, ...] = ()) -> Iterator[None]:
    """Run a block of AWS calls, raising dockyard errors instead of botocore ones; an error
    whose code is in ``done_if`` means the block's work is done already (a delete whose first
    answer was lost, retried: "not found") and ends the block quietly."""
    try:
        yield
    except ClientError as err:
        if error_code(err) in done_if:
            return
        raise translate(err, action) from err
    except NOT_CLIENT_ERRORS as err:
        raise translate(err, action) from err


def call(action: str, fn: Callable[[], T]) -> T:
    """Call ``fn`` with errors translated (for one-line wrappers)."""
    with translated(action):
        return fn()
