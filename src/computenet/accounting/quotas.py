"""Quotas: the most CPUs and GPUs a project or user may hold at clusters."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from computenet.errors import SpecError
from computenet.store.tables_accounting import QuotaRow

SCOPES = ("project", "user")


def set_quota(
    session: Session,
    scope: str,
    name: str,
    *,
    max_running_cpus: int | None,
    max_running_gpus: int | None,
    now: float,
) -> QuotaRow:
    if scope not in SCOPES:
        raise SpecError(f"unknown quota scope {scope!r}; use project or user")
    for value in (max_running_cpus, max_running_gpus):
        if value is not None and value < 0:
            raise SpecError(f"a quota must be >= 0, not {value}")
    row = session.get(QuotaRow, (scope, name))
    if row is None:
        row = QuotaRow(scope=scope, name=name, updated_at=now)
        session.add(row)
    row.max_running_cpus, row.max_running_gpus, row.updated_at = (
        max_running_cpus,
        max_running_gpus,
        now,
    )
    session.flush()
    return row


def delete_quota(session: Session, scope: str, name: str) -> bool:
    row = session.get(QuotaRow, (scope, name))
    if row is None:
        return False
    session.delete(row)
    return True


def list_quotas(session: Session) -> list[dict[str, Any]]:
    return [
        {
            "scope": q.scope,
            "name": q.name,
            "max_running_cpus": q.max_running_cpus,
            "max_running_gpus": q.max_running_gpus,
            "updated_at": q.updated_at,
        }
        for q in session.scalars(select(QuotaRow).order_by(QuotaRow.scope, QuotaRow.name))
    ]
