"""Roll-ups (raw partition samples -> minute -> hour) and retention.

A bucket is rolled once it is complete (its end is at or before now); the
next roll starts where the newest rolled bucket ends, so a pass reads only
what arrived since. Sums are kept (``samples`` counts what was summed), so a
roll-up of roll-ups stays exact.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from computenet.store.tables_telemetry import (
    AlertRow,
    JobSampleRow,
    JobStatRow,
    NodeSampleRow,
    PartitionSampleRow,
)
from computenet.telemetry.settings import TelemetrySettings

SUMMED = (
    "samples",
    "nodes",
    "nodes_down",
    "cpus",
    "cpus_alloc",
    "gpus",
    "gpus_alloc",
    "jobs_running",
    "jobs_pending",
)
LEVELS = ((0, 60), (60, 3600))  # (from resolution, to resolution)


def roll(session: Session, source_s: int, target_s: int, now: float) -> int:
    """Roll complete ``target_s`` buckets from ``source_s`` rows; returns rows written."""
    t = PartitionSampleRow
    newest = session.scalar(select(func.max(t.time)).where(t.resolution_s == target_s))
    start = float(newest) + target_s if newest is not None else None
    end = (now // target_s) * target_s
    query = select(t).where(t.resolution_s == source_s, t.time < end)
    if start is not None:
        query = query.where(t.time >= start)
    sums: dict[tuple[float, str, str], dict[str, Any]] = defaultdict(
        lambda: dict.fromkeys(SUMMED, 0)
    )
    for row in session.scalars(query):
        # a raw sample counts once; a rolled row brings the samples it summed
        bucket = (row.time // target_s) * target_s
        acc = sums[(bucket, row.cluster, row.partition)]
        for key in SUMMED:
            acc[key] += getattr(row, key)
    rows = [
        {"resolution_s": target_s, "time": b, "cluster": c, "partition": p, **acc}
        for (b, c, p), acc in sums.items()
    ]
    if rows:
        session.execute(insert(t), rows)
    return len(rows)


def roll_all(session: Session, now: float) -> int:
    return sum(roll(session, src, dst, now) for src, dst in LEVELS)


def expire(session: Session, settings: TelemetrySettings, now: float) -> int:
    """Delete what is older than its retention; returns rows deleted."""
    raw_before = now - settings.raw_retention_s
    t = PartitionSampleRow
    results = [
        session.execute(delete(NodeSampleRow).where(NodeSampleRow.time < raw_before)),
        session.execute(delete(JobSampleRow).where(JobSampleRow.time < raw_before)),
        session.execute(delete(t).where(t.resolution_s == 0, t.time < raw_before)),
        session.execute(
            delete(t).where(t.resolution_s == 60, t.time < now - settings.minute_retention_s)
        ),
        session.execute(
            delete(t).where(t.resolution_s == 3600, t.time < now - settings.hour_retention_s)
        ),
        session.execute(
            delete(JobStatRow).where(
                JobStatRow.ended.is_(True),
                JobStatRow.last_time < now - settings.stats_retention_s,
            )
        ),
        session.execute(
            delete(AlertRow).where(
                AlertRow.resolved_at.is_not(None),
                AlertRow.resolved_at < now - settings.stats_retention_s,
            )
        ),
    ]
    return sum(int(getattr(r, "rowcount", 0) or 0) for r in results)
