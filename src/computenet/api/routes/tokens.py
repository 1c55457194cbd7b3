"""/tokens: personal API tokens, listed and revoked by their owner.

A new token is shown once; only its SHA-256 is kept. It may carry at most
the scopes of the token that makes it. Revoking takes effect at once on
this server and within ``auth_cache_ttl_s`` on others sharing the database.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from computenet.api.authz import Access, authorize
from computenet.api.deps import current_user, get_runtime
from computenet.api.schemas_tenancy import TokenCreate
from computenet.core.runtime import Runtime
from computenet.core.service import Principal
from computenet.errors import ForbiddenError, NotFoundError
from computenet.model.tenancy import ordered_scopes
from computenet.store import users
from computenet.store.tables_tenancy import TokenRow

router = APIRouter(tags=["tokens"])


@router.get("/tokens")
def list_tokens(
    user: str | None = Query(None, description="another user's tokens, or * for all (admins)"),
    revoked: bool = Query(False, description="include revoked and expired tokens"),
    who: Principal = Depends(current_user),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    owner: str | None = who.name
    if user is not None and user != who.name:
        if not who.is_admin:
            raise ForbiddenError("listing another user's tokens needs a network administrator")
        owner = None if user == "*" else user
    now = runtime.clock.now()
    with runtime.store.session() as s:
        rows = users.list_tokens(s, owner, with_revoked=revoked)
    if not revoked:
        rows = [r for r in rows if r.expires_at is None or r.expires_at > now]
    return {"tokens": [{**users.token_to_dict(r), "current": r.id == who.token_id} for r in rows]}


@router.post("/tokens", status_code=201)
def create_token(
    req: TokenCreate,
    who: Principal = Depends(current_user),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    scopes = frozenset(req.scopes) if req.scopes is not None else who.scopes
    extra = scopes - who.scopes
    if extra:
        raise ForbiddenError(
            f"a token cannot grant more than the token that makes it: this one lacks "
            f"{', '.join(ordered_scopes(extra))}"
        )
    now = runtime.clock.now()
    expires = now + req.expires_in_s if req.expires_in_s is not None else None
    with runtime.store.session() as s:
        row, token = users.create_token(s, who.name, req.name, scopes, now=now, expires_at=expires)
        body = {**users.token_to_dict(row), "token": token}
    return JSONResponse(body, status_code=201)


@router.delete("/tokens/{token_id}")
def revoke_token(
    token_id: int, granted: Access = Depends(authorize), runtime: Runtime = Depends(get_runtime)
) -> Any:
    with runtime.store.session() as s:
        found = s.get(TokenRow, token_id)
        if found is None:
            raise NotFoundError(f"no token {token_id}")
        granted.check(found.owner, None, f"no token {token_id}")
        row = users.revoke_token(s, token_id, now=runtime.clock.now(), owner=None)
        body = users.token_to_dict(row)
    runtime.tenancy.forget_token(token_id)
    return body
