"""The strict emulated account: moto behind the rules of this package, reachable through the
emulated network at AWS's own host names.

Two endpoints share one set of moto backends:
- the *world*: what dockyard, the fake kaniko and the fake ECS agent talk to, through the
  network (HTTPS_PROXY): faults, identities, IAM, quotas and eventual consistency apply;
- the *inspector*: plain moto on localhost, for tests to set up and look at the account
  without touching what the world sees (no faults, no stale reads consumed).
"""

from __future__ import annotations

import io
import json
import sys
import threading
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from devtools.strict import (
    access_logs,
    authz,
    behaviour,
    consistency,
    faults,
    logs,
    quotas,
    sigv4,
    web_identity,
)
from devtools.strict import profile as profiles
from devtools.strict.calls import Call, parse
from devtools.strict.credentials import ADMIN_KEY, ADMIN_SECRET, Session, Sessions
from devtools.strict.errors import Response, aws_error
from devtools.strict.idempotency import Tokens
from devtools.strict.network import INSIDE, Network

REGION = "ap-southeast-2"
CREDENTIALS_PATH = "/dockyard-credentials/"
_DENIED = {"s3": (403, "AccessDenied"), "cloudformation": (403, "AccessDenied"),
           "sts": (403, "AccessDenied")}
_INVALID = {"s3": (403, "InvalidAccessKeyId"), "cloudformation": (403, "InvalidClientTokenId"),
            "sts": (403, "InvalidClientTokenId")}
_EXPIRED = {"s3": (400, "ExpiredToken"), "cloudformation": (400, "ExpiredToken"),
            "sts": (400, "ExpiredToken")}


def _account() -> str:
    from moto.core.models import DEFAULT_ACCOUNT_ID

    return str(DEFAULT_ACCOUNT_ID)


class Middleware:
    """The rules, in the order AWS applies them: the network's faults, who signed, whether
    they may, quotas, then the (possibly stale) answer."""

    def __init__(self, app: Any, account: StrictAccount) -> None:
        self.app = app
        self.account = account

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if path.startswith(CREDENTIALS_PATH):
            response = self.account.container_credentials(path.removeprefix(CREDENTIALS_PATH))
        elif path.startswith("/moto-api"):
            return self.app(environ, start_response)  # type: ignore[no-any-return]
        else:
            body = _read_body(environ)
            response = self.handle(parse(environ, body), environ, body)
        start_response(f"{response.status} {_REASONS.get(response.status, 'Status')}",
                       response.headers)
        return [response.body]

    def handle(self, call: Call, environ: dict[str, Any], body: bytes) -> Response:
        """The answer to one request."""
        account, profile = self.account, self.account.profile
        failed = faults.maybe_fail(call, profile)
        if failed is not None:
            return failed
        if call.action == "AssumeRoleWithWebIdentity" and call.host.startswith("sts."):
            call.service = "sts"  # unsigned: STS API Reference, AssumeRoleWithWebIdentity
            return web_identity.exchange(call, account.sessions, account.issuer, _account(),
                                         call.host.split(".")[1] if call.host.count(".") > 2
                                         else REGION)
        refused = self._authenticate(call)
        if refused is not None:
            return refused
        where = authz.Where(region=call.region or REGION, account=_account())
        session = account.sessions.find(call.access_key) if call.signed else None
        if session is not None and profile.iam:
            message = authz.authorize(call, session.role_arn, session.session_name, where)
            if message is not None:
                status, code = _DENIED.get(call.service, (400, "AccessDeniedException"))
                return aws_error(call.service, status, code, message, call.method)
        if profile.quotas:
            over = quotas.check_request(call)
            if over is not None:
                return over
        replayed = account.tokens.replay(call)
        if replayed is not None:
            return replayed
        stale = account.consistency.serve_stale(call)
        if stale is not None:
            return stale
        account.consistency.before(call, account.describe_stack, account.describe_service)
        response = account.forward(environ, logs.widen(call) or body)
        account.tokens.remember(call, response)
        response = account.consistency.after(call, response)
        response = logs.lag(call, response)
        if session is not None and call.action in ("GetObject", "HeadObject") and \
                response.status == 404 and not authz.can_list(
                    authz.role_policies(session.role_arn), call.bucket, where):
            return aws_error("s3", 403, "AccessDenied", "Access Denied", call.method)
        return response

    def _authenticate(self, call: Call) -> Response | None:
        if call.signature_v2:
            # S3 User Guide, "Authenticating requests (AWS Signature Version 2)": buckets
            # created after June 24, 2020 accept only Signature Version 4.
            return aws_error("s3", 400, "InvalidRequest", "The authorization mechanism you "
                             "have provided is not supported. Please use AWS4-HMAC-SHA256.",
                             call.method)
        if not call.signed:
            return None
        sessions = self.account.sessions
        secret = sessions.secret_of(call.access_key)
        if secret is None:
            status, code = _INVALID.get(call.service, (400, "UnrecognizedClientException"))
            return aws_error(call.service, status, code, "The security token included in the "
                             "request is invalid.", call.method)
        session = sessions.find(call.access_key)
        if session is not None:
            token = call.header("x-amz-security-token") or \
                call.query.get("X-Amz-Security-Token", [""])[0]
            if token != session.token:
                status, code = _INVALID.get(call.service, (400, "UnrecognizedClientException"))
                return aws_error(call.service, status, code, "The security token included in "
                                 "the request is invalid.", call.method)
            if session.expired:
                status, code = _EXPIRED.get(call.service, (400, "ExpiredTokenException"))
                return aws_error(call.service, status, code, "The security token included in "
                                 "the request is expired", call.method)
        if call.presigned:
            problem = sigv4.check(call.method, call.raw_path, call.query_string,
                                  {**call.headers, "host": call.headers.get("host", "")},
                                  secret=secret)
            if problem is not None:
                return aws_error("s3", 403, problem[0], problem[1], call.method)
        return None


_REASONS = {200: "OK", 204: "No Content", 206: "Partial Content", 307: "Temporary Redirect",
            400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
            500: "Internal Server Error", 503: "Service Unavailable"}


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ["wsgi.input"]
    length = environ.get("CONTENT_LENGTH")
    if length:
        return bytes(stream.read(int(length)))
    if environ.get("wsgi.input_terminated") or "chunked" in \
            str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower():
        return bytes(stream.read())
    return b""


class StrictAccount:
    """An emulated account as strict as the profile says; start it once per test session."""

    def __init__(self, profile: profiles.Profile | None = None, region: str = REGION) -> None:
        self.profile = profile or profiles.Profile()
        self.region = region
        self.sessions = Sessions()
        self.consistency = consistency.Consistency(lambda: self.profile.stale_reads)
        self.tokens = Tokens()
        self._container_roles: dict[str, tuple[str, int | None]] = {}
        self._issuers: dict[str, web_identity.Issuer] = {}
        self._servers: list[Any] = []
        self.network: Network | None = None
        self._app: Any = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> StrictAccount:
        """Start the world and inspector endpoints and the network; switch the profile on."""
        import logging

        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        from devtools.moto_server import patch_moto

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        patch_moto()
        behaviour.install()
        quotas.install()
        access_logs.install()
        self._app = DomainDispatcherApplication(create_backend_app)
        for app in (Middleware(self._app, self), self._app):
            server = make_server("127.0.0.1", 0, app, threaded=True,
                                 request_handler=MotoRequestHandler)
            threading.Thread(target=server.serve_forever, daemon=True,
                             name="dockyard-account").start()
            self._servers.append(server)
        self.network = Network(self._servers[0].server_address[:2], _bucket_region).start()
        profiles.ACTIVE = self.profile
        return self

    def stop(self) -> None:
        """Stop serving and switch the profile off."""
        profiles.ACTIVE = None
        if self.network is not None:
            self.network.stop()
        for server in self._servers:
            server.shutdown()

    def reset(self) -> None:
        """An empty account again (moto's reset), with the fault sequence restarted."""
        request = urllib.request.Request(f"{self.inspector}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=30):
            pass
        self.sessions.clear()
        self.consistency.clear()
        self.tokens.clear()
        self._container_roles.clear()
        self._issuers.clear()
        from devtools.ecs import scaling
        scaling.reset()  # the loads and evaluations of an earlier test's services
        if self.network is not None:  # the faults an earlier test played are not this one's
            self.network.damaged.clear()
        self.profile.reseed()

    # -- the internet AWS reaches ------------------------------------------------------------------

    def publish(self, issuer: web_identity.Issuer) -> None:
        """Put an OIDC issuer on the internet, where STS fetches its keys."""
        self._issuers[issuer.url] = issuer

    def unpublish(self, url: str) -> None:
        """Take an issuer off the internet (STS then cannot reach it)."""
        self._issuers.pop(url, None)

    def issuer(self, url: str) -> web_identity.Issuer | None:
        """The issuer STS reaches at ``url``, if any."""
        return self._issuers.get(url)

    # -- endpoints and credentials ----------------------------------------------------------------

    @property
    def world(self) -> str:
        """The world endpoint (for AWS_ENDPOINT_URL-style use; the network is the usual way)."""
        host, port = self._servers[0].server_address[:2]
        return f"http://{host}:{port}"

    @property
    def inspector(self) -> str:
        """Plain moto, for tests to look at the account."""
        host, port = self._servers[1].server_address[:2]
        return f"http://{host}:{port}"

    def session(self, role_arn: str, seconds: int | None = None) -> Session:
        """Credentials for ``role_arn``, as ECS hands them to a task."""
        return self.sessions.issue(role_arn, seconds or self.profile.session_seconds,
                                   self.region)

    def container_uri(self, role_arn: str, seconds: int | None = None) -> str:
        """An AWS_CONTAINER_CREDENTIALS_FULL_URI that serves fresh credentials for the role
        each time it is asked (as the ECS agent's endpoint does)."""
        token = uuid.uuid4().hex
        self._container_roles[token] = (role_arn, seconds)
        return f"{self.world}{CREDENTIALS_PATH}{token}"

    def container_credentials(self, token: str) -> Response:
        """The container credentials endpoint: ``<token>`` from :meth:`container_uri`, or
        ``role/<role name>`` for any role of the account."""
        found = self._container_roles.get(token)
        if found is None and token.startswith("role/"):
            arn = _role_arn(token.removeprefix("role/"))
            found = (arn, None) if arn else None
        if found is None:
            return Response(404, [("Content-Type", "application/json")], b"{}")
        body = json.dumps(self.session(*found).document()).encode()
        return Response(200, [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))], body)

    def env(self, role_arn: str | None = None, seconds: int | None = None) -> dict[str, str]:
        """The environment of a program that reaches this account through the network: as
        the administrator, or as ``role_arn`` through the container credentials endpoint."""
        assert self.network is not None
        proxy = self.network.proxy_url
        bundle = str(self.network.authority.bundle)
        env = {"HTTPS_PROXY": proxy, "https_proxy": proxy, "NO_PROXY": "127.0.0.1,localhost",
               "no_proxy": "127.0.0.1,localhost", "AWS_CA_BUNDLE": bundle,
               "REQUESTS_CA_BUNDLE": bundle, "AWS_EC2_METADATA_DISABLED": "true",
               "AWS_DEFAULT_REGION": self.region}
        if role_arn is None:
            env.update(AWS_ACCESS_KEY_ID=ADMIN_KEY, AWS_SECRET_ACCESS_KEY=ADMIN_SECRET)
        else:
            env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = self.container_uri(role_arn, seconds)
        return env

    def http(self) -> Any:
        """A requests session that reaches the world through the network."""
        import requests

        assert self.network is not None
        http = requests.Session()
        http.headers["User-Agent"] = f"{http.headers['User-Agent']} {INSIDE}"
        http.trust_env = False
        http.proxies = {"https": self.network.proxy_url}
        http.verify = str(self.network.authority.bundle)
        return http

    def client(self, service: str, session: Session | None = None,
               region: str | None = None) -> Any:
        """A boto3 client that reaches the world through the network (as ``session``, or as
        the administrator)."""
        import boto3
        import botocore.config

        assert self.network is not None
        keys = ({"aws_access_key_id": session.access_key,
                 "aws_secret_access_key": session.secret_key,
                 "aws_session_token": session.token} if session else
                {"aws_access_key_id": ADMIN_KEY, "aws_secret_access_key": ADMIN_SECRET})
        config = botocore.config.Config(proxies={"https": self.network.proxy_url},
                                        retries={"mode": "standard", "max_attempts": 8},
                                        user_agent_extra=INSIDE)
        return boto3.client(service, region_name=region or self.region, config=config,
                            verify=str(self.network.authority.bundle), **keys)

    # -- reads the consistency rules need ---------------------------------------------------------

    def forward(self, environ: dict[str, Any], body: bytes) -> Response:
        """Pass a request to moto and collect its answer."""
        inner = dict(environ)
        inner["wsgi.input"] = io.BytesIO(body)
        inner["CONTENT_LENGTH"] = str(len(body))
        inner.pop("HTTP_TRANSFER_ENCODING", None)
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]],
                           exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = int(status.split(maxsplit=1)[0]), headers
            return lambda _: None

        chunks = self._app(inner, start_response)
        try:
            data = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        return Response(captured["status"], list(captured["headers"]), data)

    def _internal(self, service: str, host: str, body: bytes, headers: dict[str, str]
                  ) -> Response:
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": "/", "QUERY_STRING": "", "RAW_URI": "/",
            "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0), "wsgi.multithread": True, "wsgi.multiprocess": False,
            "wsgi.run_once": False, "HTTP_HOST": host, "HTTP_AUTHORIZATION": (
                f"AWS4-HMAC-SHA256 Credential={ADMIN_KEY}/20260101/{self.region}/{service}/"
                "aws4_request, SignedHeaders=host, Signature=internal"),
            **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}}
        environ["CONTENT_TYPE"] = headers.get("content-type", "")
        return self.forward(environ, body)

    def describe_stack(self, ref: str) -> tuple[list[str], bytes]:
        """The names a stack is asked for by, and DescribeStacks' answer for it now."""
        from moto.cloudformation.models import cloudformation_backends

        backend = cloudformation_backends[_account()][self.region]
        change_set = backend.change_sets.get(ref) or next(
            (c for c in backend.change_sets.values() if c.change_set_name == ref), None)
        stack_id = change_set.stack_id if change_set is not None else ref
        stack = backend.stacks.get(stack_id) or next(
            (s for s in backend.stacks.values() if s.name == stack_id), None)
        if stack is None:
            return [], b""
        from urllib.parse import urlencode

        body = urlencode({"Action": "DescribeStacks", "Version": "2010-05-15",
                          "StackName": stack.stack_id}).encode()
        answer = self._internal("cloudformation", f"cloudformation.{self.region}.amazonaws.com",
                                body, {"content-type": "application/x-www-form-urlencoded"})
        return ([stack.name, stack.stack_id], answer.body) if answer.status == 200 else ([], b"")

    def describe_service(self, cluster: str, service: str) -> dict[str, Any] | None:
        """DescribeServices' answer for one service now (None when there is none)."""
        body = json.dumps({"cluster": cluster, "services": [service]}).encode()
        answer = self._internal("ecs", f"ecs.{self.region}.amazonaws.com", body, {
            "content-type": "application/x-amz-json-1.1",
            "x-amz-target": "AmazonEC2ContainerServiceV20141113.DescribeServices"})
        found = json.loads(answer.body or b"{}").get("services", []) \
            if answer.status == 200 else []
        return dict(found[0]) if found else None


def _role_arn(name: str) -> str | None:
    from moto.iam.models import iam_backends

    role = next((r for r in iam_backends[_account()]["aws"].roles.values() if r.name == name),
                None)
    return str(role.arn) if role is not None else None


def _bucket_region(bucket: str) -> str | None:
    from moto.s3.models import s3_backends

    found = s3_backends[_account()]["aws"].buckets.get(bucket)
    return str(found.region_name) if found is not None else None
