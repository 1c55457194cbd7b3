"""/sites/{name}/files: browse a site, download a file, upload one.

The site is opened as a transfer endpoint (``transfer/sites.py``); uploads
go through the transfer engine (chunked, BLAKE3-checked, written under a
temporary name and renamed only when whole). Paths are relative to the
site's root: ``..`` and links that lead outside it are refused (403) and
nothing is read or written. An upload over ``max_upload_bytes`` is refused
(413) before anything is written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from computenet.api.deps import get_runtime
from computenet.core.runtime import Runtime
from computenet.errors import LimitError, NotFoundError, SpecError
from computenet.transfer import records
from computenet.transfer.endpoint import Endpoint
from computenet.transfer.paths import clean_relative
from computenet.transfer.sites import open_endpoint

router = APIRouter(tags=["files"])

MAX_ENTRIES = 1000
READ_CHUNK = 1 << 20


def _endpoint(runtime: Runtime, name: str) -> Endpoint:
    with runtime.store.session() as s:
        row = records.get_site(s, name)
        return open_endpoint(row.name, row.kind, dict(row.config))


@router.get("/sites/{name}/files")
async def list_files(
    name: str,
    path: str = Query("", max_length=4096, description="a directory under the site's root"),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    """The directory's entries (directories first), at most 1,000."""
    rel = clean_relative(path)
    async with _endpoint(runtime, name) as ep:
        top = await ep.stat(rel or ".")
        if top is None:
            raise NotFoundError(f"no {rel or '/'} at site {name}")
        if not top.is_dir:
            raise SpecError(f"{rel} at site {name} is a file, not a directory")
        entries = [e for e in await ep.walk(rel or ".") if e.rel and "/" not in e.rel]
    entries.sort(key=lambda e: (not e.is_dir, e.rel))
    return {
        "site": name,
        "path": rel,
        "entries": [
            {
                "name": e.rel,
                "path": f"{rel}/{e.rel}" if rel else e.rel,
                "size": e.size,
                "mtime": e.mtime_ns / 1e9,
                "is_dir": e.is_dir,
            }
            for e in entries[:MAX_ENTRIES]
        ],
        "truncated": len(entries) > MAX_ENTRIES,
    }


@router.get("/sites/{name}/files/content")
async def download(
    name: str,
    path: str = Query(..., min_length=1, max_length=4096),
    runtime: Runtime = Depends(get_runtime),
) -> StreamingResponse:
    rel = clean_relative(path)
    ep = _endpoint(runtime, name)
    try:
        st = await ep.stat(rel)
    except BaseException:
        await ep.close()
        raise
    if st is None or st.is_dir:
        await ep.close()
        raise NotFoundError(f"no file {rel} at site {name}")

    async def body() -> AsyncIterator[bytes]:
        try:
            offset = 0
            while offset < st.size:
                data = await ep.read(rel, offset, min(READ_CHUNK, st.size - offset))
                if not data:
                    break
                offset += len(data)
                yield data
        finally:
            await ep.close()

    filename = os.path.basename(rel).replace('"', "_")
    return StreamingResponse(
        body(),
        media_type="application/octet-stream",
        headers={
            "Content-Length": str(st.size),
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )


@router.put("/sites/{name}/files/content", status_code=201)
async def upload(
    name: str,
    request: Request,
    path: str = Query(..., min_length=1, max_length=4096),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    """Write the request's body as the file ``path`` (replacing one there)."""
    from computenet.transfer.engine import copy
    from computenet.transfer.local import LocalEndpoint

    rel = clean_relative(path)
    if not rel:
        raise SpecError("give the file's path under the site's root")
    limit = runtime.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise LimitError(f"upload of {declared} bytes is over the limit of {limit} bytes")
    dest = _endpoint(runtime, name)  # a missing site is refused before reading the body
    runtime.settings.state_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="cn-upload-", dir=runtime.settings.state_dir))
    try:
        local = staging / "upload"
        size = 0
        with open(local, "wb") as fh:
            async for part in request.stream():
                size += len(part)
                if size > limit:
                    raise LimitError(f"upload is over the limit of {limit} bytes")
                fh.write(part)
        parent = os.path.dirname(rel)
        async with LocalEndpoint(staging, name="upload") as src:
            if parent:
                await dest.mkdirs(parent)
            result = await copy(src, "upload", dest, rel)
    finally:
        await dest.close()
        shutil.rmtree(staging, ignore_errors=True)
    return {"site": name, "path": rel, "bytes": size, "result": result.to_dict()}
