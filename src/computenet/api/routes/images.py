"""/images: the container images of each site's store (docs/containers.md).

Listing and a build's status are for any authenticated caller; building
and removing are for administrators. A build runs mmdebstrap, which takes a
minute or more: the request is checked at once (bad input, an unknown
package: refused, nothing recorded), then answers 202 with the build's id
while it runs in the server's build thread (``containers/builds.py``).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from computenet.api.deps import admin_user, current_user, get_runtime
from computenet.containers import ImageStore
from computenet.containers.builds import BuildRecord, ImageBuilds
from computenet.containers.store import ImageRecord, check_name
from computenet.core.runtime import Runtime
from computenet.core.service import Principal

router = APIRouter(tags=["images"])

_SITE = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"


class BuildRequest(BaseModel):
    """An image from Debian packages (v1)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = Field(min_length=1, max_length=128)  # checked by check_name: a clear message
    packages: list[Annotated[str, StringConstraints(max_length=128)]] = Field(
        default_factory=list, max_length=200
    )
    suite: str | None = Field(None, pattern=r"^[a-z][a-z0-9-]{1,30}$")


def _store(runtime: Runtime, site: str | None) -> ImageStore:
    return ImageStore(runtime.settings.image_root(site or runtime.settings.image_site))


@router.get("/images")
async def images(
    site: str | None = Query(None, pattern=_SITE),
    _: Principal = Depends(current_user),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    """``images``: the images of the site's store; ``builds``: its builds
    still running, and failed ones newer than any image of their name."""
    chosen = site or runtime.settings.image_site
    store = _store(runtime, chosen)
    ready = store.list()
    rows = [r.to_dict() | {"site": chosen, "state": "ready"} for r in ready]
    builds = await asyncio.to_thread(runtime.image_builds.list, store)
    return {"images": rows, "builds": [_build(b, chosen) for b in _unsettled(builds, ready)]}


def _unsettled(builds: list[BuildRecord], ready: list[ImageRecord]) -> list[BuildRecord]:
    built_at = {r.name: r.created_at for r in ready}
    return [
        b
        for b in builds
        if b.state == "building" or (b.state == "failed" and b.started_at > built_at.get(b.name, 0))
    ]


def _build(record: BuildRecord, site: str) -> dict[str, Any]:
    return record.to_dict() | {"site": site}


@router.post("/images", status_code=202)
async def build(
    body: BuildRequest,
    _: Principal = Depends(admin_user),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    """Start a build: its record (``id``, state ``building``); follow it at
    ``GET /images/builds/{id}``."""
    settings = runtime.settings
    record = await asyncio.to_thread(
        runtime.image_builds.start,
        _store(runtime, None),
        body.name,
        body.packages,
        suite=body.suite or settings.image_suite,
        mirror=settings.image_mirror,
    )
    return _build(record, settings.image_site)


@router.get("/images/builds/{build_id}")
async def build_status(
    build_id: str,
    offset: int = Query(0, ge=0, description="where in the build's log to read from"),
    limit: int = Query(1 << 20, ge=1, le=1 << 24),
    _: Principal = Depends(current_user),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    """The build's record, ``log`` (its output from byte ``offset``) and
    ``log_offset`` (where that ends); ``image`` once it is ready."""
    settings = runtime.settings
    store = _store(runtime, None)
    builds: ImageBuilds = runtime.image_builds
    record = await asyncio.to_thread(builds.get, store, build_id)
    data = await asyncio.to_thread(builds.log, store, build_id, offset, limit)
    body = _build(record, settings.image_site) | {
        "log": data.decode("utf-8", "replace"),
        "log_offset": offset + len(data),
    }
    image = store.find(record.name) if record.state == "ready" else None
    if image is not None and image.digest == record.digest:
        body["image"] = image.to_dict() | {"site": settings.image_site}
    return body


@router.delete("/images/{name}")
async def remove(
    name: str,
    site: str | None = Query(None, pattern=_SITE),
    _: Principal = Depends(admin_user),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    """Forget the image ``name`` and the ended builds of that name (their logs too)."""
    chosen = site or runtime.settings.image_site
    store = _store(runtime, chosen)
    check_name(name)
    forgotten = await asyncio.to_thread(runtime.image_builds.forget, store, name)
    if forgotten and store.find(name) is None:
        return {"name": name, "site": chosen, "builds_forgotten": len(forgotten)}
    record = store.remove(name)
    return record.to_dict() | {"site": chosen, "builds_forgotten": len(forgotten)}
