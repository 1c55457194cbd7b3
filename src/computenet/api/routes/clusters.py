"""/clusters: what the network can run on, with health and features."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from computenet.api.deps import current_user, get_runtime
from computenet.core.runtime import Runtime
from computenet.core.service import Principal

router = APIRouter(tags=["clusters"])


@router.get("/clusters")
async def clusters(
    _: Principal = Depends(current_user), runtime: Runtime = Depends(get_runtime)
) -> Any:
    await runtime.controller.clusters.refresh()
    rows = runtime.controller.clusters.describe()
    views = await runtime.controller.clusters.views(with_snapshots=True)
    for row in rows:
        view = views.get(row["name"])
        snap = getattr(view, "snapshot", None)
        if snap is not None:
            row["cpus_total"] = sum(n.cpus for n in snap.nodes)
            row["cpus_alloc"] = sum(n.cpus_alloc for n in snap.nodes)
            row["jobs_running"] = len(snap.running)
            row["jobs_pending"] = len(snap.pending)
    return {"clusters": rows}
