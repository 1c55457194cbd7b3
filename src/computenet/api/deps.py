"""FastAPI dependencies: the runtime, a database session, the caller."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from computenet.core.runtime import Runtime
from computenet.core.service import Principal
from computenet.errors import ForbiddenError
from computenet.store.users import authenticate

bearer = HTTPBearer(auto_error=False, description="computenet token (cnet prints its path)")


# The cheap dependencies are coroutines: FastAPI runs a plain ``def``
# dependency in the thread pool, and two pool hops per request cost more than
# the work they wrap (a dictionary lookup, or one indexed row on a cache miss).


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_session(runtime: Runtime = Depends(get_runtime)) -> Iterator[Session]:
    with runtime.store.session() as session:
        yield session


async def current_user(
    request: Request,
    creds: HTTPAuthorizationCredentials | None = Depends(bearer),
) -> Principal:
    runtime: Runtime = request.app.state.runtime
    cache: dict[str, Principal] = runtime.__dict__.setdefault("_principals", {})
    token = creds.credentials if creds else None
    if token and token in cache:
        return cache[token]
    with runtime.store.session() as session:
        row = authenticate(session, token)
        principal = Principal(name=row.name, is_admin=row.is_admin, project=row.project)
    if token:
        cache[token] = principal
    return principal


async def admin_user(who: Principal = Depends(current_user)) -> Principal:
    if not who.is_admin:
        raise ForbiddenError("this needs an administrator's token")
    return who
