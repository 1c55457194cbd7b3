"""Reports over accounting data: queue waits, job efficiency and the
broker's prediction error, plus the time syntax of ``--since``/``--until``.

Every report takes a range ``[since, until)`` (epoch seconds) and returns
plain JSON-able dicts; an empty range gives zeros and empty lists.
"""

from __future__ import annotations

import calendar
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computenet.errors import SpecError
from computenet.store.tables import AttemptRow
from computenet.store.tables_accounting import UsageRecordRow
from computenet.telemetry.utilization import check_by

SIZES = ((1, "1"), (4, "2-4"), (16, "5-16"), (64, "17-64"), (256, "65-256"))


def size_class(cpus: int) -> str:
    for bound, label in SIZES:
        if cpus <= bound:
            return label
    return ">256"


def _pct(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    if len(sorted_values) == 1:
        return sorted_values[0]
    return statistics.quantiles(sorted_values, n=100, method="inclusive")[int(q) - 1]


WAIT_GROUPS = ("cluster", "day")


def waits(
    session: Session,
    *,
    since: float,
    until: float,
    owner: str | None = None,
    by: str = "cluster",
) -> dict[str, Any]:
    """Queue waits of attempts that started in the range, by cluster and job
    size, or (``by="day"``) by the UTC day they started, every day of the
    range listed (zero jobs on a day with none)."""
    if by not in WAIT_GROUPS:
        raise SpecError(f"bad grouping {by!r}: waits group by {' or '.join(WAIT_GROUPS)}")
    t = UsageRecordRow
    query = select(t.cluster, t.cpus, t.wait_s, t.start_time).where(
        t.end_time >= since, t.start_time >= since, t.start_time < until, t.wait_s.is_not(None)
    )
    if owner is not None:
        query = query.where(t.owner == owner)
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    if by == "day":
        for day in _days(since, until):
            groups[(day, "all")] = []
    for cluster, cpus, wait, start in session.execute(query):
        if wait is None or start is None:
            continue
        if by == "day":
            groups[(_day(start), "all")].append(float(wait))
            continue
        groups[(cluster, size_class(cpus))].append(float(wait))
        groups[(cluster, "all")].append(float(wait))
    rows = []
    for (key, size), values in sorted(groups.items()):
        values.sort()
        if not values:
            rows.append({"day": key, "jobs": 0, "mean_s": 0.0, "p50_s": 0.0, "p95_s": 0.0})
            continue
        rows.append(
            {
                by: key,
                **({"size": size} if by == "cluster" else {}),
                "jobs": len(values),
                "mean_s": round(sum(values) / len(values), 3),
                "p50_s": round(_pct(values, 50), 3),
                "p95_s": round(_pct(values, 95), 3),
            }
        )
    return {"since": since, "until": until, "by": by, "rows": rows}


def _day(epoch: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(epoch))


def _days(since: float, until: float) -> list[str]:
    days, t = [], since
    while t < until:
        days.append(_day(t))
        t += 86400.0
    if until > since and _day(until - 1e-6) not in days:
        days.append(_day(until - 1e-6))
    return days


def efficiency(
    session: Session,
    *,
    since: float,
    until: float,
    by: str = "user",
    owner: str | None = None,
    worst: int = 10,
) -> dict[str, Any]:
    """CPU efficiency (CPU time / (CPUs x elapsed)) and memory efficiency
    (peak RSS / allocated memory) of attempts that ended in the range."""
    check_by(by)
    t = UsageRecordRow
    key = {
        "cluster": t.cluster,
        "partition": t.partition,
        "project": t.project,
        "user": t.owner,
        "day": t.cluster,
    }[by]
    where = [t.end_time >= since, t.end_time < until, t.elapsed_s > 0]
    if owner is not None:
        where.append(t.owner == owner)
    rows = []
    cpu_ok = t.cpu_time_s.is_not(None)
    for name, jobs, cpu_s, alloc_s, mem_eff, mem_jobs in session.execute(
        select(
            key,
            func.count(),
            func.sum(t.cpu_time_s),
            func.sum(t.cpus * t.elapsed_s),
            func.avg(t.max_rss_bytes * 1.0 / t.mem_bytes),
            func.count(t.max_rss_bytes),
        )
        .where(*where, cpu_ok)
        .group_by(key)
        .order_by(key)
    ):
        rows.append(
            {
                by if by != "day" else "cluster": name,
                "jobs": int(jobs),
                "cpu_efficiency": round(float(cpu_s or 0) / float(alloc_s), 4) if alloc_s else 0.0,
                "mem_efficiency": round(float(mem_eff), 4)
                if mem_eff is not None and mem_jobs
                else None,
            }
        )
    worst_rows = [
        {
            "job": r.display_id,
            "user": r.owner,
            "cluster": r.cluster,
            "cpus": r.cpus,
            "elapsed_s": r.elapsed_s,
            "cpu_efficiency": round((r.cpu_time_s or 0) / (r.cpus * r.elapsed_s), 4),
            "mem_efficiency": round(r.max_rss_bytes / r.mem_bytes, 4)
            if r.max_rss_bytes is not None and r.mem_bytes
            else None,
        }
        for r in session.scalars(
            select(t)
            .where(*where, cpu_ok, t.cpus > 0)
            .order_by((t.cpu_time_s / (t.cpus * t.elapsed_s)).asc(), t.attempt_id)
            .limit(worst)
        )
    ]
    return {"by": by, "since": since, "until": until, "rows": rows, "worst": worst_rows}


def predictions(session: Session, *, since: float, until: float) -> dict[str, Any]:
    """Predicted against actual start and run time of attempts that ended in range."""
    from computenet.network.predictions import PredictionRecord, prediction_report

    t = UsageRecordRow
    records = []
    for cluster, p_start, p_end, start, end in session.execute(
        select(
            t.cluster,
            AttemptRow.predicted_start,
            AttemptRow.predicted_end,
            t.start_time,
            t.end_time,
        )
        .join(AttemptRow, AttemptRow.id == t.attempt_id)
        .where(t.end_time >= since, t.end_time < until, AttemptRow.predicted_start.is_not(None))
    ):
        records.append(
            PredictionRecord(
                cluster=cluster,
                predicted_start=p_start,
                actual_start=start,
                predicted_runtime_s=(p_end - p_start)
                if p_end is not None and p_start is not None
                else None,
                actual_runtime_s=(end - start) if start is not None and end is not None else None,
            )
        )
    rows = []
    for c in prediction_report(records):
        rows.append(
            {
                "cluster": c.cluster,
                "start": _stats(c.start),
                "runtime": _stats(c.runtime),
            }
        )
    return {"since": since, "until": until, "rows": rows}


def _stats(s: Any) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "count": s.count,
        "mean_abs_error_s": round(s.mean_abs_error_s, 3),
        "median_abs_error_s": round(s.median_abs_error_s, 3),
        "mean_error_s": round(s.mean_error_s, 3),
    }


def parse_when(text: str | None, now: float, default: float) -> float:
    """'2025-03-01', '2025-03-01T12:00', epoch seconds, or '-7d'/'-12h'/'-30m'."""
    if text is None or text == "":
        return default
    text = text.strip()
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    if text.startswith("-") and text[-1] in units:
        try:
            return now - float(text[1:-1]) * units[text[-1]]
        except ValueError:
            pass
    if text == "now":
        return now
    try:
        return float(text)
    except ValueError:
        pass
    for fmt in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            return float(calendar.timegm(time.strptime(text, fmt)))
        except ValueError:
            continue
    raise SpecError(f"invalid time {text!r}: use YYYY-MM-DD[THH:MM[:SS]] (UTC), epoch or -7d")
