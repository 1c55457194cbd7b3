"""The FastAPI application: routers under /api/v1, errors as JSON."""

from __future__ import annotations

import importlib
import logging
import math
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from computenet import __version__
from computenet.api.authz import authorize, authorize_page, bind
from computenet.api.stale import LastGood
from computenet.core.runtime import Runtime
from computenet.errors import ComputeNetError, LimitError, SpecError

log = logging.getLogger("computenet.api")

API_PREFIX = "/api/v1"
MAX_BODY_BYTES = 64 << 20
#: routes that stream a file's body to disk and hold the site's upload limit
#: themselves: their bodies may be as large as ``max_upload_bytes`` (plus a
#: form's framing for the portal's), and are never held in memory here
UPLOAD_ROUTES = (
    ("PUT", re.compile(r"^/api/v1/sites/[^/]+/files/content$"), 0),
    ("POST", re.compile(r"^/portal/files/upload$"), 1 << 20),
)
#: Routers of optional capabilities, mounted when their module is present.
OPTIONAL_ROUTERS = (
    "transfers",
    "files",
    "reports",
    "accounting",
    "telemetry",
    "apps",
    "pools",
    "capacity",
    "bench",
    "images",
)


def _error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)


class BodyLimit:
    """Refuse a request whose body is over the limit, without reading more of it.

    A declared body (``Content-Length``) is judged before it is read. A
    chunked one declares nothing, so it is read here, up to the limit, and
    handed on whole; one byte over and it is refused. A plain ASGI
    middleware: Starlette's ``BaseHTTPMiddleware`` costs a task and a stream
    per request, a large share of a small request's time.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, upload_max_bytes: int = 0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_max_bytes = upload_max_bytes

    def _too_big(self, limit: int, scope: Scope) -> Response:
        message = f"request body over {limit} bytes"
        if scope["path"].startswith("/portal/"):  # a browser's form: a page saying so
            from computenet.web.render import page_error

            return page_error(Request(scope), LimitError(message))
        return _error(413, "limit", message, transient=False)

    def _limit(self, scope: Scope) -> tuple[int, bool]:
        """The body limit of this request, and whether its route holds the limit
        itself as it streams the body (see UPLOAD_ROUTES)."""
        for method, path, framing in UPLOAD_ROUTES:
            if scope["method"] == method and path.match(scope["path"]):
                return max(self.max_bytes, self.upload_max_bytes + framing), framing == 0
        return self.max_bytes, False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, streams = self._limit(scope)
        if streams:  # the route judges its body as it reads it, with the site's message
            await self.app(scope, receive, send)
            return
        chunked = False
        for key, value in scope["headers"]:
            if key == b"content-length":
                if not value.isdigit() or int(value) > limit:
                    await self._too_big(limit, scope)(scope, receive, send)
                    return
                break
            if key == b"transfer-encoding":
                chunked = True
        if not chunked:
            await self.app(scope, receive, send)
            return
        parts: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            size += len(message.get("body", b""))
            if size > limit:
                await self._too_big(limit, scope)(scope, receive, send)
                return
            parts.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        whole: list[Message] = [{"type": "http.request", "body": b"".join(parts)}]

        async def replay() -> Message:
            return whole.pop() if whole else await receive()

        await self.app(scope, replay, send)


def create_app(runtime: Runtime, *, manage_runtime: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if manage_runtime:
            await runtime.start()
        try:
            yield
        finally:
            if manage_runtime:
                await runtime.stop()

    app = FastAPI(
        title="computenet",
        version=__version__,
        lifespan=lifespan,
        description="One control plane in front of many compute clusters.",
    )
    app.state.runtime = runtime
    #: recent answers, replayed to their callers while the database is unreachable
    app.state.last_good = LastGood()

    from computenet.web import PREFIX as PORTAL
    from computenet.web import portal
    from computenet.web.render import STATIC, page_error

    @app.exception_handler(ComputeNetError)
    async def on_error(request: Request, exc: ComputeNetError) -> Response:
        if request.url.path.startswith(PORTAL):  # a browser's page: HTML, not JSON
            return page_error(request, exc)
        headers = None
        if "retry_after_s" in exc.details:
            headers = {"Retry-After": str(max(1, math.ceil(float(exc.details["retry_after_s"]))))}
        return JSONResponse({"error": exc.to_dict()}, status_code=exc.http_status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        if request.url.path.startswith(PORTAL):
            return page_error(request, SpecError(f"{where}: {first.get('msg', 'invalid')}"))
        return _error(
            422, "invalid_request", f"{where}: {first.get('msg', 'invalid')}", transient=False
        )

    app.add_middleware(
        BodyLimit, max_bytes=MAX_BODY_BYTES, upload_max_bytes=runtime.settings.max_upload_bytes
    )

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    from computenet.api.routes import auth as sign_in
    from computenet.api.routes import clusters, jobs, projects, tokens, users

    # Every route passes its rule in api/authz.py before it runs.
    auth = [Depends(authorize)]
    for module in (jobs, clusters, users, sign_in, tokens, projects):
        bind(API_PREFIX, module.router)
        app.include_router(module.router, prefix=API_PREFIX, dependencies=auth)
    for name in OPTIONAL_ROUTERS:
        try:
            module = importlib.import_module(f"computenet.api.routes.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"computenet.api.routes.{name}":
                raise
            continue
        bind(API_PREFIX, module.router)
        app.include_router(module.router, prefix=API_PREFIX, dependencies=auth)
        if hasattr(module, "public_router"):
            app.include_router(module.public_router)
    # The web portal (docs/portal.md): pages with their own rules in api/authz.py.
    for router in portal.routers():
        bind("", router)
        app.include_router(router, dependencies=[Depends(authorize_page)], include_in_schema=False)
    app.mount(f"{PORTAL}/static", StaticFiles(directory=STATIC), name="portal-static")
    return app
