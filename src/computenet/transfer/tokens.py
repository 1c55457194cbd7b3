"""Agent tokens: signed, with an expiry and a scope, checked in constant time.

A token is ``v1.<expires_unix>.<scope>.<nonce>.<hmac>``; the agent's secret
signs everything before the MAC. The agent mints short-lived read-only tokens
for third-party copies, so a site's long-lived token never leaves the
control plane.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from computenet.errors import AuthError, ForbiddenError

#: ``rw`` and ``r`` work on the agent's TLS listener; ``d`` (data) only on its plain
#: data listener (integrity-only copies), so a token seen in clear there opens
#: no control route
SCOPES = ("rw", "r", "d")


def load_secret(state_dir: Path) -> bytes:
    """The agent's signing secret (made on first start, mode 0600)."""
    path = state_dir / "secret"
    if path.is_file():
        return path.read_bytes()
    state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(secret)
    return secret


def _mac(secret: bytes, body: str) -> str:
    digest = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def mint(secret: bytes, *, expires_at: float, scope: str = "rw") -> str:
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")
    body = f"v1.{int(expires_at)}.{scope}.{secrets.token_urlsafe(12)}"
    return f"{body}.{_mac(secret, body)}"


def check(
    secret: bytes, token: str, *, now: float, need_write: bool, data_listener: bool = False
) -> str:
    """The token's scope, or ``AuthError`` (bad or expired) / ``ForbiddenError``.
    ``data_listener``: the request came to the plain data listener, which takes
    data tokens only (and the TLS listener takes none)."""
    body, _, mac = token.rpartition(".")
    expected = _mac(secret, body)
    # compare_digest on equal-length ASCII: no early exit on the first wrong byte
    if not body or not hmac.compare_digest(mac.encode(), expected.encode()):
        raise AuthError("wrong agent token")
    try:
        version, expires_s, scope, _nonce = body.split(".")
        expires_at = int(expires_s)
    except ValueError as exc:
        raise AuthError("malformed agent token") from exc
    if version != "v1" or scope not in SCOPES:
        raise AuthError("malformed agent token")
    if now >= expires_at:
        raise AuthError("agent token expired")
    if data_listener != (scope == "d"):
        raise ForbiddenError(
            "a data token works only on the agent's data listener"
            if scope == "d"
            else "the agent's data listener takes only data tokens"
        )
    if need_write and scope == "r":
        raise ForbiddenError("read-only agent token")
    return scope
