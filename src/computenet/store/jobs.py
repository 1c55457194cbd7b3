"""Job repository: create, read, list and move jobs through their states.

The job object these return as dicts is shaped in ``store/job_dicts.py``.

Every state change goes through ``transition``: a compare-and-set on
``jobs.version`` plus an appended ``job_events`` row, in the caller's
transaction. A lost race raises ``ConflictError`` and changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from computenet.errors import ConflictError, NotFoundError
from computenet.model import JobSpec, JobState
from computenet.store.job_dicts import (
    ATTEMPT_FIELDS,
    COLUMNS_OF,
    JOB_FIELDS,
    display_id,
    job_to_dict,
    summarize,
)
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


#: ``session.info`` key: callables run as ``fn(session, jobs)`` right after
#: ``insert_jobs`` wrote ``jobs`` (their dicts, with ids), in the same
#: transaction. Accounting writes its budget reservations here.
AFTER_INSERT = "cn_after_insert_jobs"


_JOBS = cast(Table, JobRow.__table__)
# Built once: building a statement costs a sizeable share of executing it.
_INSERT_JOB = insert(_JOBS)
_INSERT_JOBS_RETURNING = insert(_JOBS).returning(_JOBS.c.id, sort_by_parameter_order=True)
_INSERT_EVENT = insert(cast(Table, JobEventRow.__table__))


def insert_jobs(session: Session, new: Sequence[NewJob], now: float) -> list[dict[str, Any]]:
    """Insert jobs and their first events; return the jobs as ``job_to_dict``
    shows them. An array spec becomes one row per element (ids consecutive,
    ``array_job_id`` = the first element's id, as Slurm numbers arrays).

    Core statements on the session's connection, not ORM objects: a
    submission is mostly this insert, and the unit of work costs more than
    the database does here."""
    values: list[dict[str, Any]] = []
    arrays: list[tuple[int, int]] = []  # (first, count) positions of each array's rows
    for item in new:
        spec_dict = item.spec.to_dict()
        summary = summarize(spec_dict)
        indices: Sequence[int | None] = item.spec.array.indices if item.spec.array else [None]
        if item.spec.array:
            arrays.append((len(values), len(indices)))
        values.extend(
            {
                "owner": item.owner,
                "project": item.project,
                "name": item.spec.name,
                "state": item.state.value,
                "reason": item.reason or (HELD if item.spec.hold else None),
                "version": 1,
                "spec": spec_dict,
                "summary": summary,
                "submit_time": now,
                "array_job_id": None,
                "array_task_id": idx,
                "attempt_count": 0,
                "cancel_requested": False,
                "updated_at": now,
            }
            for idx in indices
        )
    if not values:
        return []
    conn = session.connection()
    if len(values) == 1:  # the common case, without RETURNING's result machinery
        ids = [conn.execute(_INSERT_JOB, values[0]).inserted_primary_key[0]]  # type: ignore[index]
    else:
        ids = list(conn.execute(_INSERT_JOBS_RETURNING, values).scalars())
    for first, count in arrays:
        array_id = ids[first]
        conn.execute(
            update(_JOBS)
            .where(_JOBS.c.id.in_(ids[first : first + count]))
            .values(array_job_id=array_id)
        )
        for row in values[first : first + count]:
            row["array_job_id"] = array_id
    conn.execute(
        _INSERT_EVENT,
        [
            {
                "job_id": job_id,
                "time": now,
                "from_state": None,
                "to_state": row["state"],
                "reason": row["reason"] or "submitted",
                "attempt": None,
            }
            for job_id, row in zip(ids, values, strict=True)
        ],
    )
    jobs = [_new_job_dict(job_id, row) for job_id, row in zip(ids, values, strict=True)]
    for hook in session.info.get(AFTER_INSERT, ()):
        hook(session, jobs)
    return jobs


def _new_job_dict(job_id: int, row: dict[str, Any]) -> dict[str, Any]:
    unset = {"cluster": None, "partition": None, "exit_code": None}
    return job_to_dict(SimpleNamespace(id=job_id, start_time=None, end_time=None, **unset, **row))


def create_jobs(session: Session, new: Sequence[NewJob], now: float) -> list[JobRow]:
    """As ``insert_jobs``, returning the rows as ORM objects (in id order)."""
    ids = [job["id"] for job in insert_jobs(session, new, now)]
    if not ids:
        return []
    return list(session.scalars(select(JobRow).where(JobRow.id.in_(ids)).order_by(JobRow.id)))


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
    project: str | None = None,
    visible_to: tuple[str, Sequence[str]] | None = None,
    states: Sequence[str] | None = None,
    cluster: str | None = None,
    name: str | None = None,
    array_job_id: int | None = None,
    after_id: int = 0,
    before_id: int | None = None,
    newest_first: bool = False,
    limit: int = 1000,
) -> Any:
    query = base.where(JobRow.id > after_id)
    if before_id is not None:
        query = query.where(JobRow.id < before_id)
    if owner is not None:
        query = query.where(JobRow.owner == owner)
    if project is not None:
        query = query.where(JobRow.project == project)
    if visible_to is not None:  # (user, projects whose every job they see)
        mine = JobRow.owner == visible_to[0]
        query = query.where(
            mine | JobRow.project.in_(list(visible_to[1])) if visible_to[1] else mine
        )
    if states:
        # As literals, not parameters: only then can the database see that
        # the active states are ix_jobs_active_owner's (the values are
        # JobState's, never the caller's text).
        known = [JobState(s).value for s in states]
        query = query.where(
            JobRow.state.in_(bindparam("states", known, expanding=True, literal_execute=True))
        )
    if cluster is not None:
        query = query.where(JobRow.cluster == cluster)
    if name is not None:
        query = query.where(JobRow.name == name)
    if not_reason is not None:
        query = query.where((JobRow.reason.is_(None)) | (JobRow.reason != not_reason))
    if array_job_id is not None:
        query = query.where(JobRow.array_job_id == array_job_id)
    order = JobRow.id.desc() if newest_first else JobRow.id
    return query.order_by(order).limit(limit)


def list_jobs(session: Session, **filters: Any) -> list[JobRow]:
    """Jobs in id order (filters: owner, project, visible_to, states, cluster,
    name, array_job_id, not_reason, after_id or before_id for the cursor,
    newest_first, limit)."""
    return list(session.scalars(_job_query(select(JobRow), **filters)))


def list_job_dicts(
    session: Session, fields: Sequence[str] | None = None, **filters: Any
) -> tuple[list[int], list[dict[str, Any]]]:
    """The ids and, as ``job_to_dict`` shows them, the jobs ``list_jobs``
    would return, with only ``fields``
    (of ``JOB_FIELDS``) when given: several times cheaper for listing
    thousands of jobs. Reads only the columns the fields need, through a
    Core query (a ``Row``'s attributes cost ten times a dict's keys)."""
    wanted = tuple(fields) if fields is not None else JOB_FIELDS
    names = {"id"}  # the caller's cursor
    for field in wanted:
        names.update(COLUMNS_OF.get(field, (field,)))
    columns = [c for c in _JOBS.columns if c.name in names]
    result = session.connection().execute(_job_query(select(*columns), **filters))
    keys = tuple(result.keys())
    records = [dict(zip(keys, row, strict=True)) for row in result]
    atts: dict[int, list[dict[str, Any]]] = {}
    if "attempts" in wanted:
        atts = attempt_dicts(session, [r["id"] for r in records if r["attempt_count"]])
    ids = [r["id"] for r in records]
    if fields is None:
        return ids, [
            {**job_to_dict(SimpleNamespace(**r)), "attempts": atts.get(r["id"], [])}
            for r in records
        ]
    out = []
    for r in records:
        job = {**r["summary"], **r} if "summary" in r else r
        if "display_id" in wanted:
            job["display_id"] = display_id(SimpleNamespace(**r))
        if "attempts" in wanted:
            job["attempts"] = atts.get(r["id"], [])
        out.append({field: job[field] for field in wanted})
    return ids, out


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
        # Nothing was written; the caller decides what else of its session
        # stands (a rollback here would undo its earlier jobs too).
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


_ATTEMPTS = cast(Table, AttemptRow.__table__)
_SELECT_ATTEMPTS = select(_ATTEMPTS.c.job_id, *(_ATTEMPTS.c[f] for f in ATTEMPT_FIELDS))


def attempt_dicts(session: Session, job_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """As ``attempts``, each as ``attempt_to_dict`` shows it, through a Core
    query: a page of a listing builds no ORM objects (a tenth of its time)."""
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in job_ids}
    if not job_ids:
        return out
    query = _SELECT_ATTEMPTS.where(_ATTEMPTS.c.job_id.in_(list(job_ids))).order_by(
        _ATTEMPTS.c.job_id, _ATTEMPTS.c.number
    )
    for row in session.connection().execute(query):
        out[row[0]].append(dict(zip(ATTEMPT_FIELDS, row[1:], strict=True)))
    return out


def latest_attempt(session: Session, job: JobRow) -> AttemptRow | None:
    if job.attempt_count == 0:
        return None
    return session.scalar(
        select(AttemptRow).where(
            AttemptRow.job_id == job.id, AttemptRow.number == job.attempt_count
        )
    )
