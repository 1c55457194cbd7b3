"""The browser's session: its cookie, its CSRF token and its SDK client.

The session cookie holds the server's session token (``POST /auth/login``
made it; the server stores only its hash and can revoke it). It is
HttpOnly, so page scripts cannot read it, and SameSite=Lax. Every form
carries a CSRF token derived from the session token with HMAC-SHA256: a
page of another site can make the browser send the cookie, but cannot read
a page to learn the form's token. The login form, before any session,
checks a random value in a cookie against the same value in the form.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from computenet.client import Client
from computenet.errors import AuthError, ForbiddenError
from computenet.web import PREFIX
from computenet.web.transport import AppTransport

SESSION_COOKIE = "cn_session"
LOGIN_COOKIE = "cn_login_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_REFUSED = "this form's security token is missing or wrong: reload the page and try again"


def csrf_for(token: str) -> str:
    """The CSRF token of the session whose token is ``token``."""
    return hmac.new(token.encode(), b"computenet portal form", hashlib.sha256).hexdigest()[:40]


def token_of(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def client_for(request: Request, token: str | None = None) -> Client:
    """An SDK client into this server as the browser's user (``token``, else
    the session cookie's; none: only public calls work)."""
    peer = request.client
    address = (peer.host, peer.port) if peer else ("unknown", 0)
    transport = AppTransport(request.app, address)
    return Client("http://portal.invalid", token or token_of(request), transport=transport)


def check_csrf(request: Request, sent: str | None) -> None:
    """Refuse (403, nothing done) a form post whose CSRF token is not the session's."""
    token = token_of(request)
    given = sent or request.headers.get(CSRF_HEADER) or ""
    if token is None:
        raise AuthError("your session has ended: sign in again")
    if not hmac.compare_digest(given.encode(), csrf_for(token).encode()):
        raise ForbiddenError(CSRF_REFUSED)


def check_login_csrf(request: Request, sent: str | None) -> None:
    cookie = request.cookies.get(LOGIN_COOKIE) or ""
    if not cookie or not hmac.compare_digest((sent or "").encode(), cookie.encode()):
        raise ForbiddenError(CSRF_REFUSED)


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session(response: Response, request: Request, token: str, max_age_s: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max(1, max_age_s),
        path=PREFIX,
        httponly=True,
        samesite="lax",
        secure=secure(request),
    )
    response.delete_cookie(LOGIN_COOKIE, path=PREFIX)


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)


@dataclass(frozen=True)
class Viewer:
    """The signed-in user as ``/whoami`` describes them, and their form token."""

    me: dict[str, Any]
    csrf: str

    @property
    def name(self) -> str:
        return str(self.me["name"])

    @property
    def is_admin(self) -> bool:
        return bool(self.me.get("is_admin"))

    @property
    def projects(self) -> list[dict[str, Any]]:
        return list(self.me.get("projects") or [])

    def manages(self, project: str) -> bool:
        return self.is_admin or any(
            p["name"] == project and p["role"] == "manager" for p in self.projects
        )


def viewer(request: Request, client: Client) -> Viewer:
    """Who is signed in (``AuthError`` when the cookie's session is unknown,
    expired or revoked: the page then sends the browser to the login page)."""
    token = token_of(request)
    if token is None:
        raise AuthError("sign in first")
    return Viewer(client.whoami(), csrf_for(token))
