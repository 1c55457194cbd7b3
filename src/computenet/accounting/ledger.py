"""The ledger: turn ended attempts into usage records (once each), keep the
daily roll-up, the wait histogram and budget counters in step, and release
the reservations of jobs that have ended.

Everything here is idempotent: a usage record's key is its attempt's id, so a
second server (or a second pass after a crash) that tries the same attempt
fails its insert and rolls back without counting anything twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, delete, exists, func, insert, select, update
from sqlalchemy.orm import Session

from computenet.accounting import budgets
from computenet.accounting.prices import PriceTable
from computenet.accounting.records import (
    allocation,
    cost,
    day_of,
    fraction_after,
    split_by_day,
    wait_bucket,
)
from computenet.model.state import TERMINAL_STATES
from computenet.store.tables import AttemptRow, JobEventRow, JobRow
from computenet.store.tables_accounting import (
    BudgetRow,
    ReservationRow,
    UsageDailyRow,
    UsageRecordRow,
    WaitBucketRow,
)

TERMINAL = sorted(s.value for s in TERMINAL_STATES)


@dataclass
class _DailyKey:
    core_seconds: float = 0.0
    gpu_seconds: float = 0.0
    cost: float = 0.0
    attempts: int = 0


def unaccounted_attempts(
    session: Session, *, job_ids: Sequence[int] | None = None, limit: int = 1000
) -> list[tuple[AttemptRow, JobRow]]:
    """Ended attempts without a usage record (of these jobs, or of any)."""
    query = (
        select(AttemptRow, JobRow)
        .join(JobRow, JobRow.id == AttemptRow.job_id)
        .where(
            AttemptRow.state.in_(TERMINAL),
            ~exists().where(UsageRecordRow.attempt_id == AttemptRow.id),
        )
        .order_by(AttemptRow.id)
        .limit(limit)
    )
    if job_ids is not None:
        query = query.where(AttemptRow.job_id.in_(list(job_ids)))
    return [(a, j) for a, j in session.execute(query)]


def record_attempts(
    session: Session, pairs: Iterable[tuple[AttemptRow, JobRow]], prices: PriceTable, now: float
) -> int:
    """Write usage records and move every counter; returns how many were written."""
    records = []
    daily: dict[tuple[str, str, str, str, str], _DailyKey] = defaultdict(_DailyKey)
    waits: dict[tuple[str, int], tuple[int, float]] = {}
    spent: dict[str, float] = defaultdict(float)
    budget_starts = {row.project: row for row in session.scalars(select(BudgetRow))}
    for row in budget_starts.values():
        budgets.roll_period(session, row, now)
    for attempt, job in pairs:
        end = attempt.end_time or job.end_time or now
        start = attempt.start_time
        if start is not None and start > end:
            start = end  # a cluster clock ahead of ours: never a negative run
        alloc = allocation(attempt.usage, job.spec, start, end)
        partition = attempt.partition or job.partition or ""
        price = prices.price(attempt.cluster, partition)
        amount = cost(alloc, price)
        submitted = job.submit_time if attempt.number == 1 else attempt.submit_time
        wait_s = max(0.0, start - submitted) if start is not None else None
        records.append(
            {
                "attempt_id": attempt.id,
                "job_id": job.id,
                "attempt": attempt.number,
                "display_id": _display_id(job),
                "name": job.name[:256],
                "owner": job.owner,
                "project": job.project,
                "cluster": attempt.cluster,
                "partition": partition,
                "state": attempt.state,
                "exit_code": attempt.exit_code,
                "submit_time": submitted,
                "start_time": start,
                "end_time": end,
                "elapsed_s": alloc.elapsed_s,
                "wait_s": wait_s,
                "cpus": alloc.cpus,
                "gpus": alloc.gpus,
                "nodes": alloc.nodes,
                "mem_bytes": alloc.mem_bytes,
                "core_seconds": alloc.core_seconds,
                "gpu_seconds": alloc.gpu_seconds,
                "cpu_time_s": alloc.cpu_time_s,
                "max_rss_bytes": alloc.max_rss_bytes,
                "price_per_core_hour": price.core_hour,
                "price_per_gpu_hour": price.gpu_hour,
                "cost": amount,
            }
        )
        key_rest = (attempt.cluster, partition, job.project, job.owner)
        pieces = split_by_day(start, start + alloc.elapsed_s) if start is not None else []
        for day, seconds in pieces:
            share = seconds / alloc.elapsed_s if alloc.elapsed_s else 0.0
            d = daily[(day, *key_rest)]
            d.core_seconds += alloc.core_seconds * share
            d.gpu_seconds += alloc.gpu_seconds * share
            d.cost += amount * share
        daily[(day_of(end), *key_rest)].attempts += 1
        if wait_s is not None:
            bucket = wait_bucket(wait_s)
            n, total = waits.get((attempt.cluster, bucket), (0, 0.0))
            waits[(attempt.cluster, bucket)] = (n + 1, total + wait_s)
        budget = budget_starts.get(job.project)
        if budget is not None:
            spent[job.project] += amount * fraction_after(start, end, budget.period_start)
    if not records:
        return 0
    session.execute(insert(UsageRecordRow), records)
    for (day, cluster, partition, project, owner), d in daily.items():
        _upsert_daily(session, day, cluster, partition, project, owner, d)
    for (cluster, bucket), (n, total) in waits.items():
        _upsert_wait(session, cluster, bucket, n, total)
    for project, amount in spent.items():
        budgets.add_spent(session, project, amount)
    session.flush()
    return len(records)


def _upsert_daily(
    session: Session,
    day: str,
    cluster: str,
    partition: str,
    project: str,
    owner: str,
    d: _DailyKey,
) -> None:
    t = UsageDailyRow
    result = session.execute(
        update(t)
        .where(
            t.day == day,
            t.cluster == cluster,
            t.partition == partition,
            t.project == project,
            t.owner == owner,
        )
        .values(
            core_seconds=t.core_seconds + d.core_seconds,
            gpu_seconds=t.gpu_seconds + d.gpu_seconds,
            cost=t.cost + d.cost,
            attempts=t.attempts + d.attempts,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.execute(
            insert(t).values(
                day=day,
                cluster=cluster,
                partition=partition,
                project=project,
                owner=owner,
                core_seconds=d.core_seconds,
                gpu_seconds=d.gpu_seconds,
                cost=d.cost,
                attempts=d.attempts,
            )
        )


def _upsert_wait(session: Session, cluster: str, bucket: int, n: int, total: float) -> None:
    t = WaitBucketRow
    result = session.execute(
        update(t)
        .where(t.cluster == cluster, t.bucket == bucket)
        .values(count=t.count + n, sum_s=t.sum_s + total)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        session.execute(insert(t).values(cluster=cluster, bucket=bucket, count=n, sum_s=total))


def release_reservations(session: Session, limit: int = 1000) -> int:
    """Drop the reservations of ended jobs whose attempts are all accounted."""
    pending_attempt = exists().where(
        AttemptRow.job_id == ReservationRow.job_id,
        AttemptRow.state.in_(TERMINAL),
        ~exists().where(UsageRecordRow.attempt_id == AttemptRow.id),
    )
    rows = list(
        session.execute(
            select(ReservationRow.job_id, ReservationRow.project, ReservationRow.amount)
            .join(JobRow, JobRow.id == ReservationRow.job_id, isouter=True)
            .where((JobRow.id.is_(None)) | and_(JobRow.state.in_(TERMINAL), ~pending_attempt))
            .limit(limit)
        )
    )
    released = 0
    for job_id, project, amount in rows:
        result = session.execute(delete(ReservationRow).where(ReservationRow.job_id == job_id))
        if result.rowcount == 1:  # type: ignore[attr-defined]  # another server may have released it first
            budgets.release(session, project, amount)
            released += 1
    return released


def new_event_jobs(session: Session, after_id: int, limit: int) -> tuple[list[int], int, int]:
    """Jobs with a state change after event ``after_id`` that may have ended an
    attempt: (job ids, last event id seen, events read)."""
    rows = list(
        session.execute(
            select(JobEventRow.id, JobEventRow.job_id)
            .where(
                JobEventRow.id > after_id,
                JobEventRow.to_state.in_([*TERMINAL, "PENDING"]),
            )
            .order_by(JobEventRow.id)
            .limit(limit)
        )
    )
    last = rows[-1][0] if rows else after_id
    return sorted({job_id for _, job_id in rows}), last, len(rows)


def last_event_id(session: Session) -> int:
    return int(session.scalar(select(func.max(JobEventRow.id))) or 0)


def spent_since(session: Session, project: str, start: float) -> float:
    """Cost of the project's usage on days from ``start`` on (the daily roll-up)."""
    return float(
        session.scalar(
            select(func.coalesce(func.sum(UsageDailyRow.cost), 0.0)).where(
                UsageDailyRow.project == project, UsageDailyRow.day >= day_of(start)
            )
        )
        or 0.0
    )


def _display_id(job: JobRow) -> str:
    if job.array_job_id is not None and job.array_task_id is not None:
        return f"{job.array_job_id}_{job.array_task_id}"
    return str(job.id)


def settled_event_id(session: Session, after_id: int, last_id: int, before: float) -> int:
    """The highest event id up to ``last_id`` such that every event after
    ``after_id`` up to it is older than ``before``."""
    young = session.scalar(
        select(func.min(JobEventRow.id)).where(
            JobEventRow.id > after_id, JobEventRow.id <= last_id, JobEventRow.time >= before
        )
    )
    return last_id if young is None else max(after_id, int(young) - 1)
