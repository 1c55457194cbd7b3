"""/capacity: the network's size, what a job of a shape could get within a
horizon, and peak beside measured speed (see core/capacity.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from computenet.api.deps import current_user, get_runtime
from computenet.core import capacity as cap
from computenet.core.runtime import Runtime
from computenet.core.service import Principal

router = APIRouter(tags=["capacity"])


@router.get("/capacity")
async def capacity(
    shape: list[str] = Query(
        [], max_length=cap.MAX_SHAPES, description="node, cpus=N or gpus=N [,mem=SIZE][,time=T]"
    ),
    horizon: list[str] = Query(
        [], max_length=cap.MAX_HORIZONS, description="10m, 1h, 24h, 2d or seconds (0 to 7 days)"
    ),
    curve: bool = Query(False, description="add the curve's horizons, from now to 24 h"),
    _: Principal = Depends(current_user),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    shapes, horizons = cap.parse_request(shape, horizon, curve)
    body = await cap.report(runtime.controller, shapes, horizons, await _sustained(runtime))
    body["applications"] = _applications(runtime)
    return body


def _applications(runtime: Runtime) -> list[dict[str, Any]]:
    """Catalogue applications' figures and cost per unit of work, per
    cluster and partition, over the last 30 days (as ``cnet report apps``)."""
    from computenet.api.routes.apps import REPORT_DAYS, _runs
    from computenet.apps import report

    now = runtime.clock.now()
    with runtime.store.session() as s:
        return report.rows(_runs(s, runtime, now - REPORT_DAYS * 86400.0, now, None))


async def _sustained(runtime: Runtime) -> dict[tuple[str, str], list[dict[str, Any]]]:
    from computenet.core import bench

    with runtime.store.session() as s:
        bench.settle(s, runtime.controller.clusters.infos(), runtime.clock.now())
    with runtime.store.session() as s:
        return bench.latest(s)
