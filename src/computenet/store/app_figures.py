"""Performance figures of catalogue runs: write once, read for the broker,
for a job's page and for ``cnet report apps``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from computenet.store.tables_apps import AppFigureRow


@dataclass(frozen=True)
class NewFigure:
    attempt_id: int
    job_id: int
    app: str
    app_version: str
    cluster: str
    partition: str
    nodes: int
    cpus: int
    gpus: int
    value: float | None
    unit: str
    higher_is_better: bool
    per: str
    line: str | None
    note: str | None
    elapsed_s: float | None
    requested_s: float | None
    recorded_at: float


def record(session: Session, figure: NewFigure) -> bool:
    """Insert the figure of an attempt; False (nothing changed) when that
    attempt already has one, e.g. another server recorded it first."""
    try:
        with session.begin_nested():
            session.execute(insert(AppFigureRow).values(**asdict(figure)))
    except IntegrityError:
        return False
    return True


def recorded_attempts(session: Session, attempt_ids: Sequence[int]) -> set[int]:
    if not attempt_ids:
        return set()
    return set(
        session.scalars(
            select(AppFigureRow.attempt_id).where(AppFigureRow.attempt_id.in_(list(attempt_ids)))
        )
    )


def recent(session: Session, limit: int) -> list[AppFigureRow]:
    """The last ``limit`` figures with a value, oldest first (warming the model)."""
    rows = list(
        session.scalars(
            select(AppFigureRow)
            .where(AppFigureRow.value.is_not(None))
            .order_by(AppFigureRow.recorded_at.desc(), AppFigureRow.id.desc())
            .limit(limit)
        )
    )
    return rows[::-1]


def for_job(session: Session, job_id: int) -> list[AppFigureRow]:
    return list(
        session.scalars(
            select(AppFigureRow).where(AppFigureRow.job_id == job_id).order_by(AppFigureRow.id)
        )
    )


def in_range(
    session: Session, since: float, until: float, app: str | None = None
) -> list[AppFigureRow]:
    query = select(AppFigureRow).where(
        AppFigureRow.recorded_at >= since, AppFigureRow.recorded_at < until
    )
    if app is not None:
        query = query.where(AppFigureRow.app == app)
    return list(session.scalars(query.order_by(AppFigureRow.id)))


def to_dict(row: AppFigureRow) -> dict[str, Any]:
    """The stable figure object of the API (docs/apps.md)."""
    return {
        "job_id": row.job_id,
        "app": row.app,
        "app_version": row.app_version,
        "cluster": row.cluster,
        "partition": row.partition,
        "nodes": row.nodes,
        "cpus": row.cpus,
        "gpus": row.gpus,
        "value": row.value,
        "unit": row.unit,
        "higher_is_better": row.higher_is_better,
        "per": row.per,
        "line": row.line,
        "note": row.note,
        "elapsed_s": row.elapsed_s,
        "requested_s": row.requested_s,
        "recorded_at": row.recorded_at,
    }
