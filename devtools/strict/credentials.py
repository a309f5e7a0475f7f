"""Who is calling: the account's administrator, or a role session the account handed out.

ECS gives a task's containers temporary credentials for its task role through the container
credentials endpoint (ECS Developer Guide, "Task IAM role": AWS_CONTAINER_CREDENTIALS_*); the
emulator does the same, through STS's AssumeRole model in moto so that GetCallerIdentity names
the role. Each session expires; a request signed with an expired session is refused with
ExpiredToken (STS API Reference, "Credentials": "The date on which the current credentials
expire").
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

ADMIN_KEY = "testing"
ADMIN_SECRET = "testing"


@dataclass(frozen=True)
class Session:
    """Temporary credentials for a role."""

    role_arn: str
    access_key: str
    secret_key: str
    token: str
    expires: datetime
    session_name: str = "dockyard-strict"

    @property
    def expired(self) -> bool:
        """Whether AWS would refuse these credentials now."""
        return datetime.now(UTC) >= self.expires

    def document(self) -> dict[str, str]:
        """The container credentials endpoint's answer (what botocore's ContainerProvider
        reads)."""
        return {"AccessKeyId": self.access_key, "SecretAccessKey": self.secret_key,
                "Token": self.token, "RoleArn": self.role_arn,
                "Expiration": self.expires.strftime("%Y-%m-%dT%H:%M:%SZ")}


class Sessions:
    """The sessions this account has handed out, by access key."""

    def __init__(self) -> None:
        self._by_key: dict[str, Session] = {}
        self._lock = threading.Lock()

    def issue(self, role_arn: str, seconds: int, region: str = "ap-southeast-2", *,
              session_name: str = "dockyard-strict") -> Session:
        """New credentials for ``role_arn``, valid for ``seconds``, in a session named
        ``session_name``."""
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.sts.models import sts_backends

        account = role_arn.split(":")[4] or DEFAULT_ACCOUNT_ID
        assumed = sts_backends[account]["aws"].assume_role(
            region_name=region, role_session_name=session_name, role_arn=role_arn,
            policy="", duration=max(seconds, 1), external_id="")
        session = Session(role_arn=role_arn, access_key=assumed.access_key_id,
                          secret_key=assumed.secret_access_key,
                          token=assumed.session_token,
                          expires=datetime.now(UTC) + timedelta(seconds=seconds),
                          session_name=session_name)
        with self._lock:
            self._by_key[session.access_key] = session
        return session

    def find(self, access_key: str) -> Session | None:
        """The session an access key belongs to."""
        with self._lock:
            return self._by_key.get(access_key)

    def secret_of(self, access_key: str) -> str | None:
        """The secret key that signs with ``access_key`` (the administrator's too)."""
        if access_key == ADMIN_KEY:
            return ADMIN_SECRET
        session = self.find(access_key)
        return session.secret_key if session else None

    def clear(self) -> None:
        """Forget every session (an account reset)."""
        with self._lock:
            self._by_key.clear()
