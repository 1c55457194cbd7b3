"""Pool node-hours in the monthly statements.

A pool node is paid from its request to its release, whether it runs jobs
or idles; the jobs on it are billed to their projects as usual (the pool's
partition price). This is the network's side: node-hours and cost per pool
within the month (UTC), a live node counted up to ``now``.
"""

from __future__ import annotations

import calendar
from typing import Any

from sqlalchemy import inspect, or_, select
from sqlalchemy.orm import Session


def month_bounds(first_day: str, last_day: str) -> tuple[float, float]:
    y, m, _ = (int(x) for x in first_day.split("-"))
    start = float(calendar.timegm((y, m, 1, 0, 0, 0)))
    end = start + calendar.monthrange(y, m)[1] * 86400.0
    return start, end


def pool_usage(s: Session, first_day: str, last_day: str, now: float) -> list[dict[str, Any]]:
    if not inspect(s.get_bind()).has_table("pool_nodes"):
        return []
    from computenet.store.tables_pools import PoolNodeRow

    start, end = month_bounds(first_day, last_day)
    rows = s.scalars(
        select(PoolNodeRow).where(
            PoolNodeRow.requested_at < end,
            or_(PoolNodeRow.released_at.is_(None), PoolNodeRow.released_at > start),
        )
    )
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        lo = max(start, row.requested_at)
        hi = min(end, row.released_at if row.released_at is not None else now)
        if hi <= lo:
            continue
        entry = out.setdefault(
            row.pool,
            {"pool": row.pool, "cluster": row.cluster, "nodes": 0, "node_hours": 0.0, "cost": 0.0},
        )
        entry["nodes"] += 1
        entry["node_hours"] += (hi - lo) / 3600.0
        entry["cost"] += row.price_per_node_hour * (hi - lo) / 3600.0
    for entry in out.values():
        entry["node_hours"] = round(entry["node_hours"], 6)
        entry["cost"] = round(entry["cost"], 6)
    return sorted(out.values(), key=lambda e: e["pool"])
