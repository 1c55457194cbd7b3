"""/images: the container images of each site's store (docs/containers.md).

Listing is for any authenticated caller; building and removing are for
administrators. A build runs mmdebstrap, which takes a minute or more: the
request answers when the image is in the store (or with why it is not).
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from computenet.api.deps import admin_user, current_user, get_runtime
from computenet.containers import ImageStore, build_image
from computenet.containers.build import check_packages
from computenet.containers.store import check_name
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
    chosen = site or runtime.settings.image_site
    rows = [r.to_dict() | {"site": chosen} for r in _store(runtime, chosen).list()]
    return {"images": rows}


@router.post("/images", status_code=201)
async def build(
    body: BuildRequest,
    _: Principal = Depends(admin_user),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    settings = runtime.settings
    check_name(body.name)
    check_packages(body.packages)
    record = await asyncio.to_thread(
        build_image,
        _store(runtime, None),
        body.name,
        body.packages,
        suite=body.suite or settings.image_suite,
        mirror=settings.image_mirror,
    )
    return record.to_dict() | {"site": settings.image_site}


@router.delete("/images/{name}")
async def remove(
    name: str,
    site: str | None = Query(None, pattern=_SITE),
    _: Principal = Depends(admin_user),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    chosen = site or runtime.settings.image_site
    record = _store(runtime, chosen).remove(name)
    return record.to_dict() | {"site": chosen}
