"""Templates, their filters, and error pages.

Templates autoescape everything: a job named ``<script>`` is shown as text.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from computenet.errors import AuthError, ComputeNetError, RateLimitError
from computenet.web import PREFIX
from computenet.web.session import end_session

HERE = Path(__file__).parent
STATIC = HERE / "static"
VENDOR_FILES = ("htmx.min.js", "uPlot.iife.min.js", "uPlot.min.css")

env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # templates ship in the package; no stat per page
)
_vendor_checked: dict[Path, list[str]] = {}


def missing_vendor_files() -> list[str]:
    """The browser libraries scripts/build-web has not put in place (looked
    up once per process: they come with the installed package)."""
    if STATIC not in _vendor_checked:
        found = [n for n in VENDOR_FILES if not (STATIC / "vendor" / n).is_file()]
        _vendor_checked[STATIC] = found
    return _vendor_checked[STATIC]


def when(epoch: float | None) -> Markup | str:
    """A moment for a page: UTC as text and in the title; static/portal.js
    rewrites the text in the browser's time zone (the title keeps UTC)."""
    if epoch is None:
        return "-"
    t = time.gmtime(epoch)
    shown = time.strftime("%Y-%m-%d %H:%M:%S", t)
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", t)
    # Markup.format escapes what it fills in
    return Markup('<time datetime="{}" title="{} UTC">{}</time>').format(iso, shown, shown)


def duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "-"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


def money(value: float | None) -> str:
    """Two decimals from 1 up, else four, and for a cost below 0.0001 (a
    short test job) two significant digits, so that it never reads as 0."""
    if value is None:
        return "-"
    size = abs(value)
    if size >= 1:
        return f"{value:,.2f}"
    if size == 0 or size >= 1e-4:
        return f"{value:,.4f}"
    return f"{value:.{1 - math.floor(math.log10(size))}f}"


def hours(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 3600:,.2f}"


env.filters.update(when=when, duration=duration, money=money, hours=hours, urlpart=quote)
env.globals.update(prefix=PREFIX, missing_vendor_files=missing_vendor_files)


#: every page: scripts and styles only from the portal itself, no framing,
#: forms only back here; uPlot and htmx set inline styles from script
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def page(
    request: Request,
    name: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    context.setdefault("viewer", None)
    context.setdefault("error", None)
    context.setdefault("notice", None)
    html = env.get_template(name).render(request=request, path=request.url.path, **context)
    return HTMLResponse(
        html, status_code=status_code, headers={**SECURITY_HEADERS, **(headers or {})}
    )


def page_error(request: Request, exc: ComputeNetError) -> Response:
    """An error of a portal request, for a browser: a session that ended sends
    it to the login page; anything else is a page (or, for htmx, a fragment)
    with the error's one-line message and the API's status code."""
    if isinstance(exc, AuthError) and not request.url.path.startswith(f"{PREFIX}/login"):
        target = f"{PREFIX}/login?next={quote(request.url.path)}"
        response: Response
        if request.headers.get("hx-request"):
            response = Response(status_code=204, headers={"HX-Redirect": target})
        else:
            response = RedirectResponse(target, status_code=303)
        end_session(response)
        return response
    headers = {}
    if isinstance(exc, RateLimitError) and "retry_after_s" in exc.details:
        headers["Retry-After"] = str(max(1, math.ceil(float(exc.details["retry_after_s"]))))
    if request.headers.get("hx-request"):
        html = env.get_template("_error.html").render(message=exc.message)
        return HTMLResponse(html, status_code=exc.http_status, headers=headers)
    return page(
        request, "error.html", status_code=exc.http_status, headers=headers, message=exc.message
    )
