"""Sign-in, sign-out and the dashboard."""

from __future__ import annotations

import calendar
import contextlib
import itertools
import json
import math
import time
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from computenet.client import Client
from computenet.errors import AuthError, ComputeNetError
from computenet.web import PREFIX
from computenet.web.render import page
from computenet.web.session import (
    LOGIN_COOKIE,
    check_csrf,
    check_login_csrf,
    client_for,
    end_session,
    new_login_csrf,
    secure,
    set_session,
    viewer,
)

router = APIRouter()

DAYS = 7
RUNNING_SHOWN = 50


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a portal page, never another site."""
    plain = target and "\\" not in target and "//" not in target
    if plain and target is not None and target.startswith(PREFIX + "/"):
        return target
    return PREFIX + "/"


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse(PREFIX + "/", status_code=303)


@router.get(PREFIX)
def portal_root() -> RedirectResponse:
    return RedirectResponse(PREFIX + "/", status_code=303)


def _login_page(
    request: Request,
    next_page: str,
    username: str = "",
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    csrf = request.cookies.get(LOGIN_COOKIE) or new_login_csrf()
    response = page(
        request,
        "login.html",
        status_code=status,
        login_csrf=csrf,
        next=safe_next(next_page),
        username=username,
        error=error,
    )
    response.set_cookie(
        LOGIN_COOKIE, csrf, path=PREFIX, httponly=True, samesite="strict", secure=secure(request)
    )
    return response


@router.get(f"{PREFIX}/login")
def login_form(request: Request, next: str = PREFIX + "/") -> HTMLResponse:
    return _login_page(request, next)


@router.post(f"{PREFIX}/login")
def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    csrf: str = Form(""),
    next: str = Form(PREFIX + "/"),
) -> Response:
    """Sign in through ``POST /auth/login``; the session token goes into an
    HttpOnly cookie. A wrong password shows the form again with the
    server's message (429 after too many)."""
    check_login_csrf(request, csrf)
    client = client_for(request, None)
    try:
        body = client.login(username, password)
    except AuthError as exc:
        return _login_page(request, next, username, exc.message, exc.http_status)
    except ComputeNetError as exc:
        if exc.http_status not in (422, 429):
            raise
        message = exc.message if exc.http_status == 429 else "give a user name and a password"
        form = _login_page(request, next, username, message, exc.http_status)
        if "retry_after_s" in exc.details:
            wait = max(1, math.ceil(float(exc.details["retry_after_s"])))
            form.headers["Retry-After"] = str(wait)
        return form
    response = RedirectResponse(safe_next(next), status_code=303)
    max_age = int(body["expires_at"] - time.time()) if body.get("expires_at") else 12 * 3600
    set_session(response, request, body["token"], max_age)
    return response


@router.post(f"{PREFIX}/logout")
def logout(request: Request, csrf: str = Form("")) -> Response:
    """Revoke the session on the server and drop the cookie."""
    check_csrf(request, csrf)
    with contextlib.suppress(AuthError):  # already ended: the cookie goes all the same
        client_for(request).logout()
    response = RedirectResponse(f"{PREFIX}/login", status_code=303)
    end_session(response)
    return response


def chart(days: list[str], series: dict[str, list[float]]) -> str:
    """A chart's data for static/portal.js: x as epoch days, one list per series."""
    xs = [calendar.timegm(time.strptime(d, "%Y-%m-%d")) for d in days]
    return json.dumps({"x": xs, "series": [{"label": k, "values": v} for k, v in series.items()]})


def dashboard_data(client: Client) -> dict[str, Any]:
    since = f"-{DAYS}d"
    util = client.utilization(by="day", since=since)["rows"]
    waits = client.waits(by="day", since=since)["rows"]
    running = list(
        itertools.islice(
            client.jobs(state="RUNNING", page_size=RUNNING_SHOWN, newest_first=True),
            RUNNING_SHOWN,
        )
    )
    return {
        "clusters": client.clusters(),
        "running": running,
        "budgets_list": client.budgets(),
        "util_chart": chart(
            [r["day"] for r in util], {"used %": [100 * r["utilization"] for r in util]}
        ),
        "wait_chart": chart(
            [r["day"] for r in waits],
            {"mean s": [r["mean_s"] for r in waits], "p95 s": [r["p95_s"] for r in waits]},
        ),
    }


@router.get(f"{PREFIX}/")
def dashboard(request: Request) -> HTMLResponse:
    client = client_for(request)
    me = viewer(request, client)
    data = dashboard_data(client)
    by_project = {b["project"]: b for b in data.pop("budgets_list")}
    budgets = [
        {"project": p["name"], "role": p["role"], "budget": by_project.get(p["name"])}
        for p in me.projects
    ]
    return page(request, "dashboard.html", viewer=me, budgets=budgets, days=DAYS, **data)
