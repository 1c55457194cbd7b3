"""Files at sites: browse, download, upload, and pick a form's file input."""

from __future__ import annotations

import io
import posixpath
import re
from typing import IO, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from computenet.errors import AuthError, ComputeNetError, SpecError
from computenet.web import PREFIX
from computenet.web.render import page
from computenet.web.session import check_csrf, client_for, viewer

router = APIRouter()

FIELD = re.compile(r"^p_[a-z][a-z0-9_]*$")
APP = re.compile(r"^[a-z][a-z0-9_-]*$")


def _pick(field: str, app: str) -> dict[str, str] | None:
    """Which form field a chosen file goes back to, if the browser came from one."""
    if FIELD.match(field) and APP.match(app):
        return {"field": field, "app": app}
    return None


def _files_page(
    request: Request,
    site: str,
    path: str,
    pick: dict[str, str] | None,
    status_code: int = 200,
    error: str | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    client = client_for(request)
    me = viewer(request, client)
    sites = [s["name"] for s in client.get("/sites")["sites"]]
    site = site or (sites[0] if sites else "")
    listing: dict[str, Any] | None = None
    if site:
        try:
            listing = client.site_files(site, path)
        except AuthError:
            raise
        except ComputeNetError as exc:
            error, status_code = exc.message, exc.http_status
    parts = [p for p in (listing["path"] if listing else "").split("/") if p]
    crumbs = [{"name": p, "path": "/".join(parts[: i + 1])} for i, p in enumerate(parts)]
    return page(
        request,
        "files.html",
        status_code=status_code,
        viewer=me,
        sites=sites,
        site=site,
        listing=listing,
        crumbs=crumbs,
        pick=pick,
        pick_query=urlencode(pick) if pick else "",
        error=error,
        notice=notice,
    )


@router.get(f"{PREFIX}/files")
def files_page(
    request: Request,
    site: str = "",
    path: str = "",
    field: str = "",
    app: str = "",
    done: str = "",
) -> HTMLResponse:
    return _files_page(request, site, path, _pick(field, app), notice=done or None)


@router.get(f"{PREFIX}/files/download")
def download(request: Request, site: str, path: str) -> Response:
    data = client_for(request).download(site, path)
    name = re.sub(r"[^A-Za-z0-9_.+-]", "_", posixpath.basename(path)) or "file"
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _upload(
    request: Request, values: dict[str, str], filename: str, data: IO[bytes], size: int
) -> Response:
    check_csrf(request, values.get("csrf"))
    site, folder = values.get("site", ""), values.get("path", "")
    client = client_for(request)
    name = posixpath.basename(filename.replace("\\", "/"))
    try:
        if not name or name in (".", ".."):
            raise SpecError("choose a file to upload")
        target = f"{folder.rstrip('/')}/{name}" if folder.strip("/") else name
        client.upload(site, target, data, size=size)
    except AuthError:
        raise
    except ComputeNetError as exc:
        return _files_page(request, site, folder, None, exc.http_status, error=exc.message)
    query = urlencode({"site": site, "path": folder, "done": f"uploaded {target}"})
    return RedirectResponse(f"{PREFIX}/files?{query}", status_code=303)


@router.post(f"{PREFIX}/files/upload")
async def upload(request: Request) -> Response:
    """A multipart form: ``file``, the ``site`` and the folder ``path``.

    The form's parser spools the file to a temporary file (memory holds a
    megabyte of it at most); the SDK then streams it to the site's upload
    route in chunks. The server refuses a file over its upload limit (413)
    before reading it, and a failed upload leaves nothing at the site."""
    async with request.form() as posted:
        values = {k: v for k, v in posted.items() if isinstance(v, str)}
        item = posted.get("file")
        if isinstance(item, str) or item is None:
            return await run_in_threadpool(_upload, request, values, "", io.BytesIO(), 0)
        assert isinstance(item, UploadFile)
        size = item.size if item.size is not None else _size(item.file)
        return await run_in_threadpool(
            _upload, request, values, item.filename or "", item.file, size
        )


def _size(data: IO[bytes]) -> int:
    end = data.seek(0, 2)
    data.seek(0)
    return end
