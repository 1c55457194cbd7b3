"""An ``sacct -P``-style export of usage records, for tools (XDMoD and the
like) that ingest Slurm accounting.

Fields: JobID|JobName|User|Account|Partition|Cluster|AllocCPUS|AllocTRES|
Elapsed|ElapsedRaw|State|ExitCode|Submit|Start|End|TotalCPU|MaxRSS, with a
header line as ``sacct -P`` prints it. One line per attempt (a failed-over
job appears once per cluster it ran on, as a requeued Slurm job does with
``--duplicates``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from computenet.store.tables_accounting import UsageRecordRow

FIELDS = (
    "JobID",
    "JobName",
    "User",
    "Account",
    "Partition",
    "Cluster",
    "AllocCPUS",
    "AllocTRES",
    "Elapsed",
    "ElapsedRaw",
    "State",
    "ExitCode",
    "Submit",
    "Start",
    "End",
    "TotalCPU",
    "MaxRSS",
)
#: Our states in Slurm's words (the rest are the same).
STATE_NAMES = {"OUT_OF_MEMORY": "OUT_OF_MEMORY", "NODE_FAIL": "NODE_FAIL"}


def elapsed(seconds: float) -> str:
    """Slurm's [D-]HH:MM:SS."""
    s = max(0, round(seconds))
    days, s = divmod(s, 86400)
    hours, s = divmod(s, 3600)
    minutes, s = divmod(s, 60)
    text = f"{hours:02d}:{minutes:02d}:{s:02d}"
    return f"{days}-{text}" if days else text


def total_cpu(seconds: float | None) -> str:
    """Slurm's TotalCPU: [D-][HH:]MM:SS.mmm."""
    if seconds is None:
        return ""
    ms = round(seconds * 1000)
    s, ms = divmod(ms, 1000)
    days, s = divmod(s, 86400)
    hours, s = divmod(s, 3600)
    minutes, s = divmod(s, 60)
    if days:
        return f"{days}-{hours:02d}:{minutes:02d}:{s:02d}"
    if hours:
        return f"{hours:02d}:{minutes:02d}:{s:02d}"
    return f"{minutes:02d}:{s:02d}.{ms:03d}"


def timestamp(epoch: float | None) -> str:
    if epoch is None:
        return "Unknown"
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))


def alloc_tres(r: UsageRecordRow) -> str:
    parts = [f"billing={r.cpus}", f"cpu={r.cpus}"]
    if r.gpus:
        parts.append(f"gres/gpu={r.gpus}")
    if r.mem_bytes:
        parts.append(f"mem={max(1, r.mem_bytes // 2**20)}M")
    parts.append(f"node={r.nodes}")
    return ",".join(parts)


def max_rss(value: int | None) -> str:
    return "" if value is None else f"{value // 1024}K"


def _clean(text: str) -> str:
    return text.replace("|", " ").replace("\n", " ")


def line(r: UsageRecordRow) -> str:
    values: list[Any] = [
        r.display_id,
        _clean(r.name),
        r.owner,
        r.project,
        r.partition,
        r.cluster,
        r.cpus,
        alloc_tres(r),
        elapsed(r.elapsed_s),
        round(r.elapsed_s),
        STATE_NAMES.get(r.state, r.state),
        r.exit_code or "0:0",
        timestamp(r.submit_time),
        timestamp(r.start_time),
        timestamp(r.end_time),
        total_cpu(r.cpu_time_s),
        max_rss(r.max_rss_bytes),
    ]
    return "|".join(str(v) for v in values)


def export(
    session: Session,
    *,
    since: float | None = None,
    until: float | None = None,
    project: str | None = None,
    owner: str | None = None,
    header: bool = True,
    batch: int = 5000,
) -> Iterator[str]:
    """Lines (without newlines) for attempts that ended in [since, until)."""
    if header:
        yield "|".join(FIELDS)
    after = -1
    while True:
        query = (
            select(UsageRecordRow)
            .where(UsageRecordRow.attempt_id > after)
            .order_by(UsageRecordRow.attempt_id)
            .limit(batch)
        )
        if since is not None:
            query = query.where(UsageRecordRow.end_time >= since)
        if until is not None:
            query = query.where(UsageRecordRow.end_time < until)
        if project is not None:
            query = query.where(UsageRecordRow.project == project)
        if owner is not None:
            query = query.where(UsageRecordRow.owner == owner)
        rows = list(session.scalars(query))
        for r in rows:
            yield line(r)
        if len(rows) < batch:
            return
        after = rows[-1].attempt_id
