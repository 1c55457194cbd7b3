"""/reports: utilisation, waits, efficiency, idle capacity, prediction error."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from computenet.api.authz import Access, authorize
from computenet.api.deps import current_user, get_runtime
from computenet.core.runtime import Runtime
from computenet.core.service import Principal
from computenet.telemetry import reports, utilization

router = APIRouter(tags=["reports"])
WEEK_S = 7 * 86400.0


def capacity(runtime: Runtime) -> dict[tuple[str, str], int]:
    """CPUs per (cluster, partition), from what the clusters said, else the config."""
    infos = runtime.controller.clusters.infos() or [c.to_info() for c in runtime.settings.clusters]
    return {(i.name, p.name): p.total_cpus for i in infos for p in i.partitions}


def _range(runtime: Runtime, since: str | None, until: str | None) -> tuple[float, float, float]:
    now = runtime.clock.now()
    return (
        reports.parse_when(since, now, now - WEEK_S),
        reports.parse_when(until, now, now),
        now,
    )


@router.get("/reports/utilization")
def utilization_report(
    since: str | None = Query(None, description="UTC date/time, epoch, or -7d"),
    until: str | None = None,
    by: str = Query("cluster", description="cluster | partition | project | user | day"),
    granted: Access = Depends(authorize),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    start, end, now = _range(runtime, since, until)
    utilization.check_by(by)
    who = granted.who
    if by == "user":
        granted.need_admin("utilization by user")
    with runtime.store.session() as s:
        return utilization.utilization(
            s,
            capacity(runtime),
            since=start,
            until=end,
            now=now,
            by=by,
            with_users=who.is_admin,
        )


@router.get("/reports/waits")
def waits(
    since: str | None = None,
    until: str | None = None,
    by: str = Query("cluster", description="cluster (and job size) | day"),
    who: Principal = Depends(current_user),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    start, end, _ = _range(runtime, since, until)
    with runtime.store.session() as s:
        return reports.waits(s, since=start, until=end, by=by)


@router.get("/reports/efficiency")
def efficiency(
    since: str | None = None,
    until: str | None = None,
    by: str = "user",
    who: Principal = Depends(current_user),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    start, end, _ = _range(runtime, since, until)
    with runtime.store.session() as s:
        return reports.efficiency(
            s, since=start, until=end, by=by, owner=None if who.is_admin else who.name
        )


@router.get("/reports/idle")
def idle_report(runtime: Runtime = Depends(get_runtime)) -> Any:
    with runtime.store.session() as s:
        return utilization.idle(s, capacity(runtime), now=runtime.clock.now())


@router.get("/reports/predictions")
def predictions(
    since: str | None = None,
    until: str | None = None,
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    start, end, _ = _range(runtime, since, until)
    with runtime.store.session() as s:
        return reports.predictions(s, since=start, until=end)
