"""The rule table: every mounted route has one, and a route without one is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx2
from fastapi import APIRouter, Depends
from fastapi.routing import iter_route_contexts

from computenet.api import authz
from computenet.api.app import API_PREFIX, create_app
from computenet.core.runtime import Runtime
from computenet.web import PREFIX as PORTAL

from .conftest import TOKEN, clocked_settings


def api_routes(app: Any) -> list[tuple[str, str]]:
    """The API's routes and the web portal's pages (not its static files)."""
    return sorted(
        (method, rc.path)
        for rc in iter_route_contexts(app.routes)
        if (rc.path or "").startswith((API_PREFIX, PORTAL)) or rc.path == "/"
        for method in rc.methods or ()
        if not (rc.path or "").startswith(f"{PORTAL}/static")
    )


def test_every_route_of_the_app_has_a_rule(tmp_path: Path) -> None:
    app = create_app(Runtime(clocked_settings(tmp_path)), manage_runtime=False)
    routes = api_routes(app)
    assert len(routes) > 50
    missing = [f"{m} {p}" for m, p in routes if (m, p) not in authz.RULES]
    assert missing == [], "add these to RULES in src/computenet/api/authz.py"
    stale = sorted(set(authz.RULES) - set(routes))
    assert stale == [], "RULES names routes that do not exist"


def test_a_route_without_a_rule_is_refused(tmp_path: Path) -> None:
    from tests.support.live import LiveServer

    extra = APIRouter()

    @extra.get("/unruled")
    def unruled() -> dict[str, str]:
        return {"leaked": "yes"}

    runtime = Runtime(clocked_settings(tmp_path))
    server = LiveServer(runtime)
    try:
        app = server.server.config.app
        assert authz.bind(API_PREFIX, extra) == ["GET /api/v1/unruled"]
        app.include_router(extra, prefix=API_PREFIX, dependencies=[Depends(authz.authorize)])
        resp = httpx2.get(
            server.url + "/api/v1/unruled", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert resp.status_code == 403 and "no authorisation rule" in resp.text
        assert "leaked" not in resp.text
    finally:
        server.stop()
