"""/pools: node pools with their nodes, cost and events; slurmctld's resume
and suspend requests (``cnet pool resume|suspend``) come in here too.

Reading pools is for any authenticated caller; resume and suspend are for
administrators (the local server's own token is one).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from computenet.api.deps import admin_user, current_user, get_runtime
from computenet.core import pool_steps
from computenet.core.runtime import Runtime
from computenet.core.service import Principal
from computenet.shims.hostlist import expand

router = APIRouter(tags=["pools"])

#: slurmctld hands over at most this many names at once here
MAX_HOSTS = 10_000


class HostsRequest(BaseModel):
    """Nodes of one cluster, as slurmctld names them (v1)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    cluster: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
    hostlist: str = Field(min_length=1, max_length=65_536)


@router.get("/pools")
async def pools(
    _: Principal = Depends(current_user), runtime: Runtime = Depends(get_runtime)
) -> Any:
    return {"pools": runtime.controller.pools.describe()}


@router.get("/pools/events")
async def events(
    pool: str | None = Query(None, max_length=64),
    limit: int = Query(100, ge=1, le=10_000),
    _: Principal = Depends(current_user),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    return {"events": runtime.controller.pools.events(pool, limit)}


@router.post("/pools/resume", status_code=202)
async def resume(
    body: HostsRequest,
    _: Principal = Depends(admin_user),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    names = expand(body.hostlist, limit=MAX_HOSTS)
    async with runtime.controller.lock:
        return await pool_steps.resume(runtime.controller, body.cluster, names)


@router.post("/pools/suspend", status_code=202)
async def suspend(
    body: HostsRequest,
    _: Principal = Depends(admin_user),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    names = expand(body.hostlist, limit=MAX_HOSTS)
    async with runtime.controller.lock:
        return await pool_steps.suspend(runtime.controller, body.cluster, names)
