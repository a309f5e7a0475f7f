"""Jenkins' OpenID Connect issuer, as the controller of a dockyard platform runs it: the
oidc-provider plugin (jenkinsci/oidc-provider-plugin, 206.v0a_5b_09149886) with the JCasC that
dockyard renders.

What it plays, from the plugin's source:
- the issuer is the Jenkins URL's ``oidc`` (``Issuer.url()``: root URL + ``oidc``); it serves
  ``/.well-known/openid-configuration`` (``issuer``, ``jwks_uri`` = issuer + ``/jwks``,
  ``id_token_signing_alg_values_supported: [RS256]``) and ``/jwks`` to anyone (``Keys`` is an
  ``UnprotectedRootAction``);
- a token is an RS256 JWT from a 2048-bit RSA key, ``kid`` the credential's id, ``typ`` JWT;
  its claims are ``iss``, ``aud`` (a string: the credential's audience), ``iat``, ``exp`` =
  ``iat`` + the configured ``tokenLifetime``, and each build claim template of
  ``security.idToken``, its ``format`` expanded with the build's environment as Jenkins
  computes it on the controller (``Util.replaceMacro``; a ``^${...}`` in JCasC is the escaped
  ``${...}``);
- the key is generated again whenever JCasC applies the credential, i.e. at every controller
  start (:meth:`restart`): tokens signed before can no longer be verified.

The build's environment is what Jenkins knows about the build, never what its Jenkinsfile
sets: ``JOB_NAME`` is ``<job>/<branch job>`` (branch-api encodes ``/`` in a branch as ``%2F``;
a pull request's job is ``PR-<number>``) and ``BUILD_NUMBER`` its number.
"""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from dockyard import trust
from dockyard.config.models import Config
from dockyard.jenkins.casc import render

_MACRO = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    """The bytes of a base64url string with or without padding."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class JenkinsIssuer:
    """The issuer of one dockyard platform's Jenkins."""

    cfg: Config
    _key: rsa.RSAPrivateKey = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.restart()

    @property
    def url(self) -> str:
        """The issuer, as tokens name it."""
        return trust.issuer_url(self.cfg)

    def restart(self) -> None:
        """A controller start: JCasC applies the credential again and the plugin generates a
        new key (``generatePrivateKey``; oidc-provider-plugin issues #19, #31, #97)."""
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def _settings(self) -> dict[str, Any]:
        document = render(self.cfg)
        credential = next(c["idToken"] for c in
                          document["credentials"]["system"]["domainCredentials"][0]["credentials"]
                          if "idToken" in c)
        return {"credential": credential, **document["security"]["idToken"]}

    def claims(self, job_name: str, build_number: int = 1, *, now: float | None = None
               ) -> dict[str, Any]:
        """The claims the plugin puts in a token for a build of ``job_name``."""
        settings = self._settings()
        issued = int(now if now is not None else time.time())
        environment = {"JOB_NAME": job_name, "BUILD_NUMBER": str(build_number),
                       "JOB_BASE_NAME": job_name.rsplit("/", 1)[-1],
                       "JENKINS_URL": self.cfg.url(self.cfg.jenkins.host)}
        claims: dict[str, Any] = {"iss": self.url, "aud": settings["credential"]["audience"],
                                  "iat": issued, "exp": issued + settings["tokenLifetime"]}
        for template in settings["buildClaimTemplates"]:
            value = _MACRO.sub(lambda m: environment[m.group(1)],
                               template["format"].replace("^${", "${"))
            claims[template["name"]] = int(value) if template["type"] == "integer" else value
        return claims

    def token(self, job: str, branch: str | None = None, *, pull_request: int | None = None,
              build_number: int = 1, now: float | None = None,
              claims: dict[str, Any] | None = None) -> str:
        """The token a build of ``job`` at ``branch`` (or of pull request ``pull_request``)
        gets from the ``dockyard-aws`` credential; ``claims`` replaces claims (forgeries)."""
        branch_job = f"PR-{pull_request}" if pull_request is not None else \
            trust.encode_branch(branch or "main")
        body = {**self.claims(f"{job}/{branch_job}", build_number, now=now), **(claims or {})}
        return self.sign(body)

    def sign(self, claims: dict[str, Any], key: rsa.RSAPrivateKey | None = None) -> str:
        """A JWT of ``claims`` signed as the plugin signs (or with another ``key``)."""
        header = {"kid": trust.ID_TOKEN_CREDENTIALS, "typ": "JWT", "alg": "RS256"}
        signing_input = (f"{b64url(json.dumps(header).encode())}."
                         f"{b64url(json.dumps(claims).encode())}")
        signature = (key or self._key).sign(signing_input.encode(), padding.PKCS1v15(),
                                            hashes.SHA256())
        return f"{signing_input}.{b64url(signature)}"

    def document(self, path: str) -> dict[str, Any] | None:
        """What the issuer answers at ``path`` (under its URL), None for a 404."""
        if path == "/.well-known/openid-configuration":
            return {"issuer": self.url, "jwks_uri": self.url + "/jwks",
                    "response_types_supported": ["code"],
                    "subject_types_supported": ["public"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                    "authorization_endpoint": "https://unimplemented",
                    "token_endpoint": "https://unimplemented"}
        if path == "/jwks":
            numbers = self._key.public_key().public_numbers()
            return {"keys": [{
                "kid": trust.ID_TOKEN_CREDENTIALS, "kty": "RSA", "alg": "RS256", "use": "sig",
                "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
                "e": b64url(numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big"))}]}
        return None


def serve_tokens(issuer: JenkinsIssuer) -> tuple[Any, str]:
    """A local HTTP endpoint that hands out the token a build would get, for trying pipeline
    commands by hand (``GET /token/web/main``, ``/token/web/PR-12``): the server and its URL."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = self.path.strip("/").split("/")
            if len(parts) < 3 or parts[0] != "token":
                self.send_error(404, "GET /token/JOB/BRANCH (or /token/JOB/PR-N)")
                return
            job, branch = parts[1], "/".join(parts[2:])
            number = int(branch[3:]) if re.fullmatch(r"PR-\d+", branch) else None
            body = issuer.token(job, None if number is not None else branch,
                                pull_request=number).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="jenkins-tokens").start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
