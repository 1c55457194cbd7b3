"""FastAPI dependencies: the runtime, a database session, the caller.

``current_user`` and ``authorize`` run the route's rule from ``api.authz``
(one place decides who may do what); the caller behind a token is cached
by ``core.tenancy`` so a request costs no query on the hot path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from computenet.api.authz import Access, authorize, bearer
from computenet.core.runtime import Runtime
from computenet.core.service import Principal
from computenet.errors import ForbiddenError

__all__ = [
    "Access",
    "admin_user",
    "authorize",
    "bearer",
    "current_user",
    "get_runtime",
    "get_session",
]

# The cheap dependencies are coroutines: FastAPI runs a plain ``def``
# dependency in the thread pool, and two pool hops per request cost more than
# the work they wrap (a dictionary lookup, or one indexed row on a cache miss).


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_session(runtime: Runtime = Depends(get_runtime)) -> AsyncIterator[Session]:
    """A session for the route, committed or rolled back on the event loop.

    A coroutine on purpose: run in the thread pool, its end would wait for a
    free worker thread while holding a database connection, and under load
    every worker thread could be waiting for a connection that such a
    request holds (a stall found by benchmarks/load_mix.py).
    """
    with runtime.store.session() as session:
        yield session


async def current_user(granted: Access = Depends(authorize)) -> Principal:
    return granted.who


async def admin_user(who: Principal = Depends(current_user)) -> Principal:
    if not who.is_admin:
        raise ForbiddenError("this needs a network administrator")
    return who
