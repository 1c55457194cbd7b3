"""/auth/login and /auth/logout: password sign-in to a session token.

A session token is an API token of kind ``session`` with every scope,
expiring after ``session_ttl_s``. A wrong user name and a wrong password get
the same answer (and take as long). Failed logins are counted per user name
and per client address: past ``login_max_failures`` in ``login_window_s``,
every attempt on either gets 429 with Retry-After until the window moves.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from computenet.api import oidc
from computenet.api.deps import current_user, get_runtime
from computenet.api.routes.users import whoami_dict
from computenet.api.schemas_tenancy import LoginRequest, OidcLoginRequest
from computenet.core.runtime import Runtime
from computenet.core.service import Principal
from computenet.core.tenancy import LoginLimiter, principal_of
from computenet.errors import AuthError, RateLimitError
from computenet.model.tenancy import ALL_SCOPES
from computenet.store import projects, users
from computenet.store.tables_tenancy import UserRow

router = APIRouter(tags=["auth"])

WRONG = "wrong user name or password"


@router.post("/auth/login", status_code=201)
def login(req: LoginRequest, request: Request, runtime: Runtime = Depends(get_runtime)) -> Any:
    """Sign in with a password: a session token (shown once), its expiry and
    the caller as ``/whoami`` shows them."""
    address = request.client.host if request.client else "unknown"
    keys = (f"user:{req.username}", f"addr:{address}")
    limiter = _limiter(runtime, keys)
    now = runtime.clock.now()
    with runtime.store.session() as s:
        user = s.get(UserRow, req.username)
        if not users.verify_password(user.password_hash if user else None, req.password):
            limiter.failed(keys)
            raise AuthError(WRONG)
        assert user is not None
        if user.disabled:
            raise AuthError(f"user {user.name} is disabled")
        limiter.succeeded(keys[0])
        body = _session(runtime, s, user, address, now)
    return JSONResponse(body, status_code=201)


def _limiter(runtime: Runtime, keys: tuple[str, ...]) -> LoginLimiter:
    """The failed-login counts, after checking that ``keys`` may try now."""
    limiter = runtime.tenancy.logins
    wait = limiter.retry_after(keys)
    if wait is not None:
        raise RateLimitError(
            f"too many failed logins; try again in {max(1, round(wait))} s",
            retry_after_s=wait,
        )
    return limiter


def _session(runtime: Runtime, s: Session, user: UserRow, address: str, now: float) -> Any:
    """A new session token for ``user``: the body login answers with."""
    row, token = users.create_token(
        s,
        user.name,
        f"session from {address}"[:64],
        ALL_SCOPES,
        now=now,
        kind="session",
        expires_at=now + runtime.settings.session_ttl_s,
    )
    creds = users.Credentials(user=user, token=row, roles=projects.roles_of(s, user.name))
    return {"token": token, "expires_at": row.expires_at, "user": whoami_dict(principal_of(creds))}


@router.post("/auth/oidc", status_code=201)
def login_oidc(
    req: OidcLoginRequest, request: Request, runtime: Runtime = Depends(get_runtime)
) -> Any:
    """Sign in with an ID token from the site's identity provider (api/oidc.py):
    the same answer as a password login. 404 when OIDC is not configured."""
    address = request.client.host if request.client else "unknown"
    keys = (f"addr:{address}",)
    limiter = _limiter(runtime, keys)
    now = runtime.clock.now()
    try:
        name = oidc.username(runtime.settings, req.id_token, now)
    except AuthError:
        limiter.failed(keys)
        raise
    with runtime.store.session() as s:
        user = s.get(UserRow, name)
        if user is None:
            limiter.failed(keys)
            raise AuthError(f"no user {name!r} here: an administrator adds users first")
        if user.disabled:
            raise AuthError(f"user {user.name} is disabled")
        body = _session(runtime, s, user, address, now)
    return JSONResponse(body, status_code=201)


@router.post("/auth/logout")
def logout(who: Principal = Depends(current_user), runtime: Runtime = Depends(get_runtime)) -> Any:
    """Revoke the token of this request (a session or a personal token)."""
    assert who.token_id is not None
    with runtime.store.session() as s:
        users.revoke_token(s, who.token_id, now=runtime.clock.now(), owner=who.name)
    runtime.tenancy.forget_token(who.token_id)
    return {"revoked": who.token_id}
