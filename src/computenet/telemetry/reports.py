"""Reports over accounting and telemetry data: utilisation, waits,
efficiency, idle capacity and prediction error.

Every report takes a range ``[since, until)`` (epoch seconds) and returns
plain JSON-able dicts; an empty range gives zeros and empty lists.
Utilisation by day reads the daily roll-up (so a year over a million jobs
is a few thousand rows), whole UTC days from the day that holds ``since``;
attempts still running are added from their start up to now.
"""

from __future__ import annotations

import calendar
import statistics
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computenet.accounting.records import DAY_S, day_of, split_by_day
from computenet.errors import SpecError
from computenet.store.tables import AttemptRow, JobRow
from computenet.store.tables_accounting import UsageDailyRow, UsageRecordRow
from computenet.store.tables_telemetry import CollectorStatusRow, PartitionSampleRow

BY = ("cluster", "partition", "project", "user", "day")
SIZES = ((1, "1"), (4, "2-4"), (16, "5-16"), (64, "17-64"), (256, "65-256"))

Capacity = Mapping[tuple[str, str], int]  # (cluster, partition) -> CPUs


def check_by(by: str) -> str:
    if by not in BY:
        raise SpecError(f"unknown grouping {by!r}; use one of {', '.join(BY)}")
    return by


def _days(since: float, until: float) -> list[tuple[str, float, float]]:
    """(day, window start, window end) for each UTC day from since's day to until."""
    out = []
    t = (since // DAY_S) * DAY_S
    while t < until:
        out.append((day_of(t), t, min(t + DAY_S, until)))
        t += DAY_S
    return out


def _running(session: Session) -> list[tuple[str, str, str, str, int, int, float]]:
    """(cluster, partition, project, owner, cpus, gpus, start) of running attempts."""
    from computenet.model import JobSpec

    out = []
    for cluster, partition, start, project, owner, spec in session.execute(
        select(
            AttemptRow.cluster,
            AttemptRow.partition,
            AttemptRow.start_time,
            JobRow.project,
            JobRow.owner,
            JobRow.spec,
        )
        .join(JobRow, JobRow.id == AttemptRow.job_id)
        .where(AttemptRow.state == "RUNNING", AttemptRow.start_time.is_not(None))
    ):
        parsed = JobSpec.from_dict(spec)
        out.append(
            (cluster, partition or "", project, owner, parsed.cpus, parsed.total_gpus, start)
        )
    return out


def utilization(
    session: Session,
    capacity: Capacity,
    *,
    since: float,
    until: float,
    now: float,
    by: str = "cluster",
    top: int = 10,
    with_users: bool = True,
) -> dict[str, Any]:
    """Allocated core-hours over capacity, grouped ``by``, with top users and projects."""
    check_by(by)
    until = min(until, now)
    days = _days(since, until) if until > since else []
    if not days:
        return {
            "by": by,
            "since": since,
            "until": until,
            "rows": [],
            "total": _total(0, 0, 0),
            "top_users": [],
            "top_projects": [],
        }
    first, last = days[0][0], days[-1][0]
    t = UsageDailyRow
    key_col = {
        "cluster": t.cluster,
        "partition": t.partition,
        "project": t.project,
        "user": t.owner,
        "day": t.day,
    }[by]
    core: dict[tuple[str, ...], float] = defaultdict(float)
    gpu: dict[tuple[str, ...], float] = defaultdict(float)
    cols = [t.cluster, key_col] if by == "partition" else [key_col]
    for *key, cs, gs in session.execute(
        select(*cols, func.sum(t.core_seconds), func.sum(t.gpu_seconds))
        .where(t.day >= first, t.day <= last)
        .group_by(*cols)
    ):
        core[tuple(key)] += float(cs or 0)
        gpu[tuple(key)] += float(gs or 0)
    users: dict[str, float] = defaultdict(float)
    projects: dict[str, float] = defaultdict(float)
    for name, cs in session.execute(
        select(t.owner, func.sum(t.core_seconds))
        .where(t.day >= first, t.day <= last)
        .group_by(t.owner)
    ):
        users[name] += float(cs or 0)
    for name, cs in session.execute(
        select(t.project, func.sum(t.core_seconds))
        .where(t.day >= first, t.day <= last)
        .group_by(t.project)
    ):
        projects[name] += float(cs or 0)
    window_start, window_end = days[0][1], until
    for cluster, partition, project, owner, cpus, gpus, start in _running(session):
        for day, seconds in split_by_day(max(start, window_start), window_end):
            k = {
                "cluster": (cluster,),
                "partition": (cluster, partition),
                "project": (project,),
                "user": (owner,),
                "day": (day,),
            }[by]
            core[k] += cpus * seconds
            gpu[k] += gpus * seconds
            users[owner] += cpus * seconds
            projects[project] += cpus * seconds
    total_cpus = sum(capacity.values())
    span_s = sum(end - start for _, start, end in days)
    rows = []
    for key in sorted(set(core) | set(_capacity_keys(capacity, by, days))):
        cap_s = _capacity_s(capacity, by, key, days, span_s)
        row: dict[str, Any] = dict(zip(_key_names(by), key, strict=True))
        row.update(
            core_hours=round(core.get(key, 0.0) / 3600, 4),
            gpu_hours=round(gpu.get(key, 0.0) / 3600, 4),
        )
        if cap_s is not None:
            row["capacity_core_hours"] = round(cap_s / 3600, 4)
            row["utilization"] = round(core.get(key, 0.0) / cap_s, 6) if cap_s else 0.0
        rows.append(row)
    all_core = sum(core.values())
    return {
        "by": by,
        "since": days[0][1],
        "until": until,
        "rows": rows,
        "total": _total(all_core, sum(gpu.values()), total_cpus * span_s),
        "top_users": _top(users, top) if with_users else [],
        "top_projects": _top(projects, top),
    }


def _key_names(by: str) -> tuple[str, ...]:
    return ("cluster", "partition") if by == "partition" else (by,)


def _capacity_keys(
    capacity: Capacity, by: str, days: Sequence[tuple[str, float, float]]
) -> list[tuple[str, ...]]:
    if by == "cluster":
        return [(c,) for c, _ in capacity]
    if by == "partition":
        return [(c, p) for c, p in capacity]
    if by == "day":
        return [(d,) for d, _, _ in days]
    return []


def _capacity_s(
    capacity: Capacity,
    by: str,
    key: tuple[str, ...],
    days: Sequence[tuple[str, float, float]],
    span_s: float,
) -> float | None:
    if by == "cluster":
        return sum(n for (c, _), n in capacity.items() if c == key[0]) * span_s
    if by == "partition":
        return capacity.get((key[0], key[1]), 0) * span_s
    if by == "day":
        window = next((end - start for d, start, end in days if d == key[0]), 0.0)
        return sum(capacity.values()) * window
    return None


def _total(core_s: float, gpu_s: float, cap_s: float) -> dict[str, float]:
    return {
        "core_hours": round(core_s / 3600, 4),
        "gpu_hours": round(gpu_s / 3600, 4),
        "capacity_core_hours": round(cap_s / 3600, 4),
        "utilization": round(core_s / cap_s, 6) if cap_s else 0.0,
    }


def _top(values: Mapping[str, float], n: int) -> list[dict[str, Any]]:
    best = sorted(values.items(), key=lambda kv: -kv[1])[:n]
    return [{"name": k, "core_hours": round(v / 3600, 4)} for k, v in best if v > 0]


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


def waits(
    session: Session, *, since: float, until: float, owner: str | None = None
) -> dict[str, Any]:
    """Queue waits of attempts that started in the range, by cluster and job size."""
    t = UsageRecordRow
    query = select(t.cluster, t.cpus, t.wait_s).where(
        t.end_time >= since, t.start_time >= since, t.start_time < until, t.wait_s.is_not(None)
    )
    if owner is not None:
        query = query.where(t.owner == owner)
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for cluster, cpus, wait in session.execute(query):
        groups[(cluster, size_class(cpus))].append(float(wait))
        groups[(cluster, "all")].append(float(wait))
    rows = []
    for (cluster, size), values in sorted(groups.items()):
        values.sort()
        rows.append(
            {
                "cluster": cluster,
                "size": size,
                "jobs": len(values),
                "mean_s": round(sum(values) / len(values), 3),
                "p50_s": round(_pct(values, 50), 3),
                "p95_s": round(_pct(values, 95), 3),
            }
        )
    return {"since": since, "until": until, "rows": rows}


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


def idle(session: Session, capacity: Capacity, *, now: float) -> dict[str, Any]:
    """Idle CPUs now (latest samples) and idle core-hours over the last day."""
    latest = dict(
        session.execute(
            select(PartitionSampleRow.cluster, func.max(PartitionSampleRow.time))
            .where(PartitionSampleRow.resolution_s == 0)
            .group_by(PartitionSampleRow.cluster)
        ).all()
    )
    now_rows = []
    for cluster, when in sorted(latest.items()):
        for p in session.scalars(
            select(PartitionSampleRow).where(
                PartitionSampleRow.resolution_s == 0,
                PartitionSampleRow.cluster == cluster,
                PartitionSampleRow.time == when,
            )
        ):
            now_rows.append(
                {
                    "cluster": cluster,
                    "partition": p.partition,
                    "cpus": p.cpus,
                    "idle_cpus": max(0, p.cpus - p.cpus_alloc),
                    "gpus": p.gpus,
                    "idle_gpus": max(0, p.gpus - p.gpus_alloc),
                    "nodes_down": p.nodes_down,
                    "sampled_at": when,
                }
            )
    status = {r.cluster: r for r in session.scalars(select(CollectorStatusRow))}
    since = now - DAY_S
    used = allocated_core_seconds(session, since=since, until=now, now=now)
    day_rows = []
    for cluster in sorted({c for c, _ in capacity}):
        cap = sum(n for (c, _), n in capacity.items() if c == cluster) * DAY_S
        busy = used.get(cluster, 0.0)
        day_rows.append(
            {
                "cluster": cluster,
                "capacity_core_hours": round(cap / 3600, 4),
                "idle_core_hours": round(max(0.0, cap - busy) / 3600, 4),
                "idle_fraction": round(max(0.0, cap - busy) / cap, 6) if cap else 0.0,
                "collector_ok": bool(status[cluster].last_ok) if cluster in status else None,
            }
        )
    return {"now": now_rows, "last_day": day_rows, "time": now}


def allocated_core_seconds(
    session: Session, *, since: float, until: float, now: float
) -> dict[str, float]:
    """Exact allocated core-seconds per cluster in [since, until), running included."""
    t = UsageRecordRow
    out: dict[str, float] = defaultdict(float)
    for cluster, cpus, start, end in session.execute(
        select(t.cluster, t.cpus, t.start_time, t.end_time).where(
            t.end_time > since, t.start_time < until, t.start_time.is_not(None)
        )
    ):
        out[cluster] += cpus * max(0.0, min(end, until) - max(start, since))
    for cluster, _p, _proj, _own, cpus, _g, start in _running(session):
        out[cluster] += cpus * max(0.0, min(now, until) - max(start, since))
    return dict(out)


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
                predicted_runtime_s=(p_end - p_start) if p_end is not None else None,
                actual_runtime_s=(end - start) if start is not None else None,
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
