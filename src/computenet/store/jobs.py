"""Job repository: create, read, list and move jobs through their states.

Every state change goes through ``transition``: a compare-and-set on
``jobs.version`` plus an appended ``job_events`` row, in the caller's
transaction. A lost race raises ``ConflictError`` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from computenet.errors import ConflictError, NotFoundError
from computenet.model import JobSpec, JobState
from computenet.model.spec import derived_sizes
from computenet.store.tables import AttemptRow, JobEventRow, JobRow

#: Reason of a job submitted with --hold; such jobs are not considered for placement.
HELD = "JobHeldUser"


@dataclass(frozen=True)
class NewJob:
    spec: JobSpec
    owner: str
    project: str
    state: JobState = JobState.PENDING
    reason: str | None = None


def create_jobs(session: Session, new: Sequence[NewJob], now: float) -> list[JobRow]:
    """Insert jobs; an array spec becomes one row per element (ids consecutive,
    ``array_job_id`` = the first element's id, as Slurm numbers arrays)."""
    rows: list[JobRow] = []
    groups: list[list[JobRow]] = []
    for item in new:
        spec_dict = item.spec.to_dict()
        indices: Sequence[int | None] = item.spec.array.indices if item.spec.array else [None]
        group = [
            JobRow(
                owner=item.owner,
                project=item.project,
                name=item.spec.name,
                state=item.state.value,
                reason=item.reason or (HELD if item.spec.hold else None),
                version=1,
                spec=spec_dict,
                summary=summarize(spec_dict),
                submit_time=now,
                array_task_id=idx,
                attempt_count=0,
                cancel_requested=False,
                updated_at=now,
            )
            for idx in indices
        ]
        rows.extend(group)
        if item.spec.array:
            groups.append(group)
    session.add_all(rows)
    session.flush()
    for group in groups:
        for row in group:
            row.array_job_id = group[0].id
    session.add_all(
        [
            JobEventRow(
                job_id=row.id,
                time=now,
                from_state=None,
                to_state=row.state,
                reason=row.reason or "submitted",
            )
            for row in rows
        ]
    )
    session.flush()
    return rows


def get_job(session: Session, job_id: int) -> JobRow:
    row = session.get(JobRow, job_id)
    if row is None:
        raise NotFoundError(f"no job {job_id}", job_id=job_id)
    return row


def _job_query(
    base: Any,
    *,
    not_reason: str | None = None,
    owner: str | None = None,
    states: Sequence[str] | None = None,
    cluster: str | None = None,
    name: str | None = None,
    array_job_id: int | None = None,
    after_id: int = 0,
    limit: int = 1000,
) -> Any:
    query = base.where(JobRow.id > after_id)
    if owner is not None:
        query = query.where(JobRow.owner == owner)
    if states:
        query = query.where(JobRow.state.in_(list(states)))
    if cluster is not None:
        query = query.where(JobRow.cluster == cluster)
    if name is not None:
        query = query.where(JobRow.name == name)
    if not_reason is not None:
        query = query.where((JobRow.reason.is_(None)) | (JobRow.reason != not_reason))
    if array_job_id is not None:
        query = query.where(JobRow.array_job_id == array_job_id)
    return query.order_by(JobRow.id).limit(limit)


def list_jobs(session: Session, **filters: Any) -> list[JobRow]:
    """Jobs in id order (filters: owner, states, cluster, name, array_job_id,
    not_reason, after_id for the cursor, limit)."""
    return list(session.scalars(_job_query(select(JobRow), **filters)))


def list_job_rows(session: Session, **filters: Any) -> list[Any]:
    """As ``list_jobs``, as plain read-only rows without the full spec: several
    times cheaper for listing thousands of jobs; ``job_to_dict`` reads both."""
    columns = [c for c in JobRow.__table__.columns if c.name != "spec"]
    return list(session.execute(_job_query(select(*columns), **filters)))


def count_jobs(session: Session, states: Sequence[str]) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(JobRow).where(JobRow.state.in_(list(states)))
        )
        or 0
    )


def transition(
    session: Session,
    job: JobRow,
    to_state: JobState | str,
    *,
    now: float,
    reason: str | None = None,
    attempt: int | None = None,
    **fields: Any,
) -> None:
    """Compare-and-set the job's state (and other columns) and log the event."""
    to = JobState(to_state).value
    values = {"state": to, "version": job.version + 1, "updated_at": now, **fields}
    if "spec" in fields:
        values["summary"] = summarize(fields["spec"])
    if reason is not None or to != job.state:
        values.setdefault("reason", reason)
    result = session.execute(
        update(JobRow)
        .where(JobRow.id == job.id, JobRow.version == job.version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise ConflictError(f"job {job.id} changed meanwhile; try again", job_id=job.id)
    if to != job.state:
        session.add(
            JobEventRow(
                job_id=job.id,
                time=now,
                from_state=job.state,
                to_state=to,
                reason=reason,
                attempt=attempt,
            )
        )
    for key, value in values.items():
        setattr(job, key, value)
    session.flush()


def update_fields(session: Session, job: JobRow, *, now: float, **fields: Any) -> None:
    """Compare-and-set non-state columns (no event)."""
    transition(session, job, job.state, now=now, **fields)


def events(session: Session, job_id: int) -> list[JobEventRow]:
    return list(
        session.scalars(
            select(JobEventRow).where(JobEventRow.job_id == job_id).order_by(JobEventRow.id)
        )
    )


def attempts(session: Session, job_ids: Sequence[int]) -> dict[int, list[AttemptRow]]:
    out: dict[int, list[AttemptRow]] = {i: [] for i in job_ids}
    if not job_ids:
        return out
    for row in session.scalars(
        select(AttemptRow)
        .where(AttemptRow.job_id.in_(list(job_ids)))
        .order_by(AttemptRow.job_id, AttemptRow.number)
    ):
        out[row.job_id].append(row)
    return out


def latest_attempt(session: Session, job: JobRow) -> AttemptRow | None:
    if job.attempt_count == 0:
        return None
    return session.scalar(
        select(AttemptRow).where(
            AttemptRow.job_id == job.id, AttemptRow.number == job.attempt_count
        )
    )


def display_id(job: Any) -> str:
    if job.array_job_id is not None and job.array_task_id is not None:
        return f"{job.array_job_id}_{job.array_task_id}"
    return str(job.id)


def summarize(spec: dict[str, Any]) -> dict[str, Any]:
    """The parts of a spec every job listing shows (the ``summary`` column)."""
    sizes = derived_sizes(
        *(
            spec.get(k)
            for k in (
                "nodes",
                "ntasks",
                "ntasks_per_node",
                "cpus_per_task",
                "gpus",
                "gpus_per_node",
                "gpus_per_task",
            )
        )
    )
    return {
        "notes": list(spec.get("ignored", ())),
        "nodes": sizes.nodes,
        "cpus": sizes.cpus,
        "gpus": sizes.gpus,
        "time_limit_s": spec.get("time_limit_s"),
        "mem_per_node_bytes": spec.get("mem_per_node_bytes"),
        "mem_per_cpu_bytes": spec.get("mem_per_cpu_bytes"),
        "workdir": spec.get("workdir"),
        "account": spec.get("account"),
        "command": spec.get("command"),
    }


def job_to_dict(job: Any, job_attempts: Sequence[AttemptRow] = ()) -> dict[str, Any]:
    """The stable job object of the API and ``--json`` output (docs/cli.md)."""
    return {
        "id": job.id,
        "display_id": display_id(job),
        "name": job.name,
        "owner": job.owner,
        "project": job.project,
        "state": job.state,
        "reason": job.reason,
        "cluster": job.cluster,
        "partition": job.partition,
        "exit_code": job.exit_code,
        "submit_time": job.submit_time,
        "start_time": job.start_time,
        "end_time": job.end_time,
        "array_job_id": job.array_job_id,
        "array_task_id": job.array_task_id,
        **job.summary,
        "attempts": [
            {
                "number": a.number,
                "cluster": a.cluster,
                "partition": a.partition,
                "native_id": a.native_id,
                "state": a.state,
                "reason": a.reason,
                "exit_code": a.exit_code,
                "submit_time": a.submit_time,
                "start_time": a.start_time,
                "end_time": a.end_time,
                "predicted_start": a.predicted_start,
                "predicted_end": a.predicted_end,
                "node_list": a.node_list,
                "usage": a.usage,
            }
            for a in job_attempts
        ],
    }
