"""Monthly statements: core-seconds, GPU-seconds and cost per project and
user, from the daily roll-up (usage counted on the days it ran)."""

from __future__ import annotations

import calendar
import csv
import io
import re
import time
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computenet.errors import SpecError
from computenet.store.tables_accounting import UsageDailyRow

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def month_range(month: str) -> tuple[str, str]:
    """First and last day (YYYY-MM-DD) of ``YYYY-MM``."""
    m = _MONTH.match(month)
    if m is None or not 1 <= int(m.group(2)) <= 12:
        raise SpecError(f"invalid month {month!r}: expected YYYY-MM, like 2025-03")
    year, mon = int(m.group(1)), int(m.group(2))
    last = calendar.monthrange(year, mon)[1]
    return f"{year:04d}-{mon:02d}-01", f"{year:04d}-{mon:02d}-{last:02d}"


def current_month(now: float) -> str:
    return time.strftime("%Y-%m", time.gmtime(now))


def statement(
    session: Session, month: str, project: str | None = None, now: float | None = None
) -> dict[str, Any]:
    """One month's usage per project, with a line per user; zeros when none;
    and the node-hours the network's pools were paid for that month."""
    first, last = month_range(month)
    t = UsageDailyRow
    query = (
        select(
            t.project,
            t.owner,
            func.sum(t.core_seconds),
            func.sum(t.gpu_seconds),
            func.sum(t.cost),
            func.sum(t.attempts),
        )
        .where(t.day >= first, t.day <= last)
        .group_by(t.project, t.owner)
        .order_by(t.project, t.owner)
    )
    if project is not None:
        query = query.where(t.project == project)
    projects: dict[str, dict[str, Any]] = {}
    for proj, owner, core_s, gpu_s, cost, attempts in session.execute(query):
        entry = projects.setdefault(
            proj,
            {"project": proj, "core_seconds": 0.0, "gpu_seconds": 0.0, "cost": 0.0, "users": []},
        )
        entry["core_seconds"] += float(core_s or 0)
        entry["gpu_seconds"] += float(gpu_s or 0)
        entry["cost"] += float(cost or 0)
        entry["users"].append(
            {
                "user": owner,
                "core_seconds": round(float(core_s or 0), 3),
                "gpu_seconds": round(float(gpu_s or 0), 3),
                "cost": round(float(cost or 0), 6),
                "attempts": int(attempts or 0),
            }
        )
    if project is not None and project not in projects:
        projects[project] = {
            "project": project,
            "core_seconds": 0.0,
            "gpu_seconds": 0.0,
            "cost": 0.0,
            "users": [],
        }
    rows = []
    for entry in projects.values():
        for key in ("core_seconds", "gpu_seconds"):
            entry[key] = round(entry[key], 3)
        entry["cost"] = round(entry["cost"], 6)
        rows.append(entry)
    from computenet.accounting.pools import pool_usage

    pools = pool_usage(session, first, last, time.time() if now is None else now)
    return {
        "month": month,
        "projects": rows,
        "by_cluster": _by_cluster(session, first, last, project),
        "pools": pools,
        "total": {
            "pool_node_hours": round(sum(p["node_hours"] for p in pools), 6),
            "pool_cost": round(sum(p["cost"] for p in pools), 6),
            "core_seconds": round(sum(p["core_seconds"] for p in rows), 3),
            "gpu_seconds": round(sum(p["gpu_seconds"] for p in rows), 3),
            "cost": round(sum(p["cost"] for p in rows), 6),
        },
    }


def _by_cluster(session: Session, first: str, last: str, project: str | None) -> list[Any]:
    """The month's lines per project, cluster and user."""
    t = UsageDailyRow
    query = (
        select(
            t.project,
            t.cluster,
            t.owner,
            func.sum(t.core_seconds),
            func.sum(t.gpu_seconds),
            func.sum(t.cost),
            func.sum(t.attempts),
        )
        .where(t.day >= first, t.day <= last)
        .group_by(t.project, t.cluster, t.owner)
        .order_by(t.project, t.cluster, t.owner)
    )
    if project is not None:
        query = query.where(t.project == project)
    return [
        {
            "project": proj,
            "cluster": cluster,
            "user": owner,
            "core_seconds": round(float(core_s or 0), 3),
            "gpu_seconds": round(float(gpu_s or 0), 3),
            "cost": round(float(cost or 0), 6),
            "attempts": int(attempts or 0),
        }
        for proj, cluster, owner, core_s, gpu_s, cost, attempts in session.execute(query)
    ]


def statement_csv(data: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["month", "project", "user", "core_seconds", "gpu_seconds", "cost"])
    for p in data["projects"]:
        for u in p["users"]:
            writer.writerow(
                [
                    data["month"],
                    p["project"],
                    u["user"],
                    u["core_seconds"],
                    u["gpu_seconds"],
                    u["cost"],
                ]
            )
    return out.getvalue()
