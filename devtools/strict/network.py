"""The network between dockyard and AWS, played on localhost: an HTTPS proxy that answers for
AWS's real host names, so the CLI resolves endpoints, builds URLs and verifies TLS exactly as it
does against a real account (no endpoint override), and S3's endpoint rules apply.

Clients reach it the way they reach any corporate proxy: ``HTTPS_PROXY`` and a CA bundle
(``AWS_CA_BUNDLE`` for botocore, ``REQUESTS_CA_BUNDLE`` for requests). It terminates TLS with
a certificate for each host name it is asked for (signed by its own CA), then passes the
request, Host header intact, to the emulated account.

What it adds, as S3 documents it:
- the global endpoint (``BUCKET.s3.amazonaws.com``, or ``s3.amazonaws.com/BUCKET``) for a bucket
  outside us-east-1 answers 307 Temporary Redirect to the regional endpoint while the bucket's
  DNS name propagates, "up to 24 hours" after it was created (S3 User Guide, "Making requests":
  "Temporary redirects"); every bucket of an emulated account is that young;
- in a Region launched after March 20, 2019 the global endpoint is refused with
  IllegalLocationConstraintException (S3 User Guide, "Virtual hosting of buckets": "Legacy
  global endpoint");
- with the profile's fault rate, a connection is now and then reset before the request is
  passed on (the network is not reliable, and SDKs retry such resets);
- with the profile's answer fault (off unless a test asks for it), an answer is now and then
  damaged after the account acted on the request: lost with the connection, cut off midway,
  shortened with a matching length, or emptied. Proxies, load balancers and flaky links do
  each of these; what the client may do about it depends on whether asking again is safe.

Resets and answer faults are played on the traffic of programs outside the account (the CLI,
Jenkins' steps) only. The players that stand for what runs inside AWS (kaniko's task, the
ECS service player) and the tests' own reads of the account mark their requests with
``INSIDE`` in the User-Agent and are spared: they reach AWS inside AWS's network, and a fault
matrix that judges the CLI must not be decided by a fault the CLI never saw.
"""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import socketserver
import ssl
import tempfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from devtools.strict.profile import active

# Regions AWS launched after March 20, 2019 (opt-in regions), where the legacy global S3
# endpoint is not served.
OPT_IN_REGIONS = frozenset({
    "af-south-1", "ap-east-1", "ap-east-2", "ap-south-2", "ap-southeast-3", "ap-southeast-4",
    "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-west-1", "eu-central-2",
    "eu-south-1", "eu-south-2", "il-central-1", "me-central-1", "me-south-1", "mx-central-1"})
_GLOBAL_VIRTUAL = re.compile(r"^(?P<bucket>.+)\.s3\.amazonaws\.com$")
INSIDE = "dockyard-emulator-inside"  # User-Agent marker of the account's own players
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade",
               "te", "trailer", "expect", "content-length"}


class Authority:
    """A certificate authority that issues a certificate for any host name asked for."""

    def __init__(self, folder: Path) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        self._x509, self._hashes, self._serialization = x509, hashes, serialization
        self._folder = folder
        self._key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dockyard emulator CA")])
        now = datetime.now(UTC)
        public = self._key.public_key()
        self._cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                      .public_key(public).serial_number(x509.random_serial_number())
                      .not_valid_before(now - timedelta(days=1))
                      .not_valid_after(now + timedelta(days=30))
                      .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                      .add_extension(x509.KeyUsage(
                          digital_signature=True, key_cert_sign=True, crl_sign=True,
                          content_commitment=False, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, encipher_only=False,
                          decipher_only=False), critical=True)
                      .add_extension(x509.SubjectKeyIdentifier.from_public_key(public),
                                     critical=False)
                      .sign(self._key, hashes.SHA256()))
        self.bundle = folder / "ca.pem"
        self.bundle.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))
        self._leaf_key = ec.generate_private_key(ec.SECP256R1())
        self._leaf_key_file = folder / "leaf.key"
        self._leaf_key_file.write_bytes(self._leaf_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        self._contexts: dict[str, ssl.SSLContext] = {}
        self._lock = threading.Lock()

    def context_for(self, host: str) -> ssl.SSLContext:
        """A server-side TLS context presenting a certificate for ``host``."""
        with self._lock:
            if host not in self._contexts:
                self._contexts[host] = self._issue(host)
            return self._contexts[host]

    def _issue(self, host: str) -> ssl.SSLContext:
        x509 = self._x509
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        now = datetime.now(UTC)
        public = self._leaf_key.public_key()
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host[:64])]))
                .issuer_name(self._cert.subject).public_key(public)
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - timedelta(days=1))
                .not_valid_after(now + timedelta(days=7))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                               critical=False)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self._key.public_key()), critical=False)
                .sign(self._key, self._hashes.SHA256()))
        path = self._folder / f"{re.sub(r'[^A-Za-z0-9.-]', '_', host)}.pem"
        path.write_bytes(cert.public_bytes(self._serialization.Encoding.PEM))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(path), str(self._leaf_key_file))
        return context


class Network:
    """The proxy, forwarding to the emulated account at ``upstream`` (host, port)."""

    def __init__(self, upstream: tuple[str, int], bucket_region: Any) -> None:
        self.upstream = upstream
        self.bucket_region = bucket_region  # bucket name -> its region, or None
        self._tmp = tempfile.TemporaryDirectory(prefix="dockyard-network-")
        self.authority = Authority(Path(self._tmp.name))
        self.resets = 0
        self.damaged: list[str] = []  # the answer faults played, in order
        network = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                network._handle(self)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.address = self._server.server_address
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="dockyard-network")

    @property
    def proxy_url(self) -> str:
        """The value of HTTPS_PROXY for clients."""
        host, port = self.address[0], self.address[1]
        return f"http://{host!s}:{port}" if isinstance(host, str) else \
            f"http://{host.decode()}:{port}"

    def start(self) -> Network:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and forget the certificates."""
        self._server.shutdown()
        self._server.server_close()
        self._tmp.cleanup()

    # -- one client connection --------------------------------------------------------------------

    def _handle(self, handler: socketserver.StreamRequestHandler) -> None:
        line = handler.rfile.readline(65537).decode("latin-1")
        parts = line.split()
        if len(parts) != 3:
            return
        method, target, _ = parts
        _read_headers(handler.rfile)
        if method != "CONNECT":
            handler.wfile.write(b"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\n\r\n")
            return
        host = target.rsplit(":", 1)[0]
        if not host.endswith(".amazonaws.com"):
            handler.wfile.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        handler.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        handler.wfile.flush()
        context = self.authority.context_for(host)
        try:
            tls = context.wrap_socket(handler.connection, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self._serve(tls, host)
        except (OSError, ssl.SSLError, http.client.HTTPException):
            pass
        finally:
            with contextlib.suppress(OSError):
                tls.close()

    def _serve(self, tls: ssl.SSLSocket, host: str) -> None:
        reader, writer = tls.makefile("rb"), tls.makefile("wb")
        upstream = http.client.HTTPConnection(*self.upstream, timeout=300)
        try:
            while True:
                line = reader.readline(65537).decode("latin-1")
                if not line.strip():
                    return
                method, target, _ = line.split(" ", 2)
                headers = _read_headers(reader)
                if headers.get("expect", "").lower() == "100-continue":
                    writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                    writer.flush()
                body = _read_body(reader, headers)
                outside = INSIDE not in headers.get("user-agent", "")
                if outside and self._reset(target):
                    self.resets += 1
                    tls.shutdown(socket.SHUT_RDWR)
                    return
                status, reason, out_headers, out_body = self._answer(
                    upstream, method, target, headers=headers, body=body, host=host)
                fault = self._answer_fault(target, method, status, headers) if outside else ""
                if fault == "lost":
                    self.damaged.append(fault)
                    tls.shutdown(socket.SHUT_RDWR)
                    return
                if fault in ("short", "empty"):
                    out_body = out_body[:len(out_body) // 2] if fault == "short" else b""
                    out_headers = [(k, v) for k, v in out_headers
                                   if k.lower() != "content-length"]
                    out_headers.append(("Content-Length", str(len(out_body))))
                writer.write(f"HTTP/1.1 {status} {reason}\r\n".encode("latin-1"))
                for name, value in out_headers:
                    writer.write(f"{name}: {value}\r\n".encode("latin-1"))
                writer.write(b"\r\n")
                if fault == "cut":
                    writer.write(out_body[:len(out_body) // 2])
                    writer.flush()
                    self.damaged.append(fault)
                    tls.shutdown(socket.SHUT_RDWR)
                    return
                if fault:
                    self.damaged.append(fault)
                if method != "HEAD":
                    writer.write(out_body)
                writer.flush()
                if headers.get("connection", "").lower() == "close":
                    return
        finally:
            upstream.close()

    def _answer_fault(self, target: str, method: str, status: int,
                      headers: dict[str, str]) -> str:
        """The answer fault to play on this answer ('' for none): the one asked for this
        operation once, or one at the profile's rate."""
        profile = active()
        action = headers.get("x-amz-target", "").rsplit(".", 1)[-1]
        if profile is not None and action in profile.answer_fault_once and status < 300:
            return profile.answer_fault_once.pop(action)
        if profile is None or not profile.answer_fault or "X-Amz-Signature=" in target \
                or method == "HEAD" or status >= 300:
            return ""
        return profile.answer_fault if profile.draw() < profile.answer_fault_rate else ""

    def _reset(self, target: str) -> bool:
        profile = active()
        if profile is None or not profile.fault_rate or "X-Amz-Signature=" in target:
            return False
        return profile.draw() < profile.fault_rate / 3

    def _answer(self, upstream: http.client.HTTPConnection, method: str, target: str, *,
                headers: dict[str, str], body: bytes,
                host: str) -> tuple[int, str, list[tuple[str, str]], bytes]:
        redirect = self._s3_global(host, target)
        if redirect is not None:
            return redirect
        forward = {k: v for k, v in headers.items() if k not in _HOP_BY_HOP}
        forward["host"] = headers.get("host", host)
        forward["x-dockyard-transport"] = "https"
        forward["content-length"] = str(len(body))
        upstream.request(method, target, body=body, headers=forward)
        response = upstream.getresponse()
        data = response.read()
        out = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
        length = response.getheader("content-length") if method == "HEAD" else None
        out.append(("Content-Length", length if length is not None else str(len(data))))
        return response.status, response.reason, out, data

    def _s3_global(self, host: str, target: str
                   ) -> tuple[int, str, list[tuple[str, str]], bytes] | None:
        path = urlsplit(target).path
        if host == "s3.amazonaws.com":
            bucket = path.lstrip("/").split("/", 1)[0]
        elif (match := _GLOBAL_VIRTUAL.match(host)) is not None:
            bucket = match["bucket"]
        else:
            return None
        region = self.bucket_region(bucket) if bucket else None
        if region is None or region == "us-east-1":
            return None
        if region in OPT_IN_REGIONS:
            body = (f"<Error><Code>IllegalLocationConstraintException</Code><Message>The "
                    f"{region} location constraint is incompatible for the region specific "
                    "endpoint this request was sent to.</Message></Error>").encode()
            return 400, "Bad Request", [("Content-Type", "application/xml"),
                                        ("Content-Length", str(len(body)))], body
        location = f"https://{bucket}.s3.{region}.amazonaws.com{target}" \
            if host != "s3.amazonaws.com" else \
            f"https://{bucket}.s3.{region}.amazonaws.com{target[len(bucket) + 1:]}"
        body = (f"<Error><Code>TemporaryRedirect</Code><Message>Please re-send this request to "
                f"the specified temporary endpoint. Continue to use the original request "
                f"endpoint for future requests.</Message><Bucket>{bucket}</Bucket>"
                f"<Endpoint>{bucket}.s3.{region}.amazonaws.com</Endpoint></Error>").encode()
        return 307, "Temporary Redirect", [("Location", location),
                                           ("x-amz-bucket-region", region),
                                           ("Content-Type", "application/xml"),
                                           ("Content-Length", str(len(body)))], body


def _read_headers(reader: Any) -> dict[str, str]:
    headers: dict[str, str] = {}
    while True:
        line = reader.readline(65537).decode("latin-1")
        if line in ("\r\n", "\n", ""):
            return headers
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()


def _read_body(reader: Any, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks: list[bytes] = []
        while True:
            size = int(reader.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while reader.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(reader.read(size))
            reader.readline()
    length = int(headers.get("content-length", "0") or 0)
    return reader.read(length) if length else b""
