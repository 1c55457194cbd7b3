"""Utilisation and idle capacity: allocated core-hours over capacity.

Utilisation by day reads the daily roll-up (so a year over a million jobs is
a few thousand rows), whole UTC days from the day that holds ``since``;
attempts still running are added from their start up to now. An empty range
gives zeros and empty lists.
"""

from __future__ import annotations

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
            (cluster, partition or "", project, owner, parsed.cpus, parsed.total_gpus, start or 0.0)
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
    core: dict[tuple[str, ...], float] = defaultdict(float)
    gpu: dict[tuple[str, ...], float] = defaultdict(float)
    users: dict[str, float] = defaultdict(float)
    projects: dict[str, float] = defaultdict(float)
    in_range = (t.day >= first, t.day <= last)
    # One scan gives every grouping but the day (a few thousand combinations
    # at most); the day needs a second one.
    for cluster, partition, project, owner, cs, gs in session.execute(
        select(
            t.cluster,
            t.partition,
            t.project,
            t.owner,
            func.sum(t.core_seconds),
            func.sum(t.gpu_seconds),
        )
        .where(*in_range)
        .group_by(t.cluster, t.partition, t.project, t.owner)
    ):
        cs, gs = float(cs or 0), float(gs or 0)
        users[owner] += cs
        projects[project] += cs
        if by != "day":
            k = _key(by, cluster, partition, project, owner, "")
            core[k] += cs
            gpu[k] += gs
    if by == "day":
        for day, cs, gs in session.execute(
            select(t.day, func.sum(t.core_seconds), func.sum(t.gpu_seconds))
            .where(*in_range)
            .group_by(t.day)
        ):
            core[(day,)] += float(cs or 0)
            gpu[(day,)] += float(gs or 0)
    window_start, window_end = days[0][1], until
    for cluster, partition, project, owner, cpus, gpus, start in _running(session):
        for day, seconds in split_by_day(max(start, window_start), window_end):
            k = _key(by, cluster, partition, project, owner, day)
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


def _key(
    by: str, cluster: str, partition: str, project: str, owner: str, day: str
) -> tuple[str, ...]:
    if by == "partition":
        return (cluster, partition)
    return ({"cluster": cluster, "project": project, "user": owner, "day": day}[by],)


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
        if start is not None:
            out[cluster] += cpus * max(0.0, min(end, until) - max(start, since))
    for cluster, _p, _proj, _own, cpus, _g, start in _running(session):
        out[cluster] += cpus * max(0.0, min(now, until) - max(start, since))
    return dict(out)
