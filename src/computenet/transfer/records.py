"""Transfer and site records in the store (used by the API and by staging)."""

from __future__ import annotations

import time
import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from computenet.errors import ConflictError, ForbiddenError, NotFoundError, SpecError
from computenet.store.tables_transfer import (
    TRANSFER_STATES,
    SiteRow,
    TransferEventRow,
    TransferRow,
)
from computenet.transfer.sites import SITE_KINDS, check_config, public_config


def site_dict(row: SiteRow, *, secrets: bool = False) -> dict[str, Any]:
    config = dict(row.config) if secrets else public_config(dict(row.config))
    return {
        "name": row.name,
        "kind": row.kind,
        "config": config,
        "created_by": row.created_by,
        "created_at": row.created_at,
    }


def get_site(session: Session, name: str) -> SiteRow:
    row = session.get(SiteRow, name)
    if row is None:
        raise NotFoundError(f"no site named {name!r} (see `cnet sites`)")
    return row


def list_sites(session: Session) -> list[SiteRow]:
    return list(session.scalars(select(SiteRow).order_by(SiteRow.name)))


def add_site(
    session: Session,
    name: str,
    kind: str,
    config: dict[str, Any],
    *,
    by: str,
    now: float | None = None,
) -> SiteRow:
    if kind not in SITE_KINDS:
        raise SpecError(f"unknown site kind {kind!r} (expected one of {', '.join(SITE_KINDS)})")
    check_config(kind, config)
    if session.get(SiteRow, name) is not None:
        raise ConflictError(f"site {name!r} exists (remove it first)")
    row = SiteRow(
        name=name,
        kind=kind,
        config=config,
        created_by=by,
        created_at=time.time() if now is None else now,
    )
    session.add(row)
    return row


def remove_site(session: Session, name: str) -> None:
    session.delete(get_site(session, name))


def transfer_dict(row: TransferRow, events: list[TransferEventRow] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id,
        "owner": row.owner,
        "project": row.project,
        "source": row.source,
        "dest": row.dest,
        "state": row.state,
        "job_id": row.job_id,
        "direction": row.direction,
        "options": row.options,
        "bytes_total": row.bytes_total,
        "bytes_sent": row.bytes_sent,
        "files": row.files,
        "result": row.result,
        "error": row.error,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }
    if events is not None:
        out["events"] = [
            {"time": e.time, "state": e.state, "message": e.message, "bytes_sent": e.bytes_sent}
            for e in events
        ]
    return out


def create_transfer(
    session: Session,
    *,
    owner: str,
    project: str,
    source: str,
    dest: str,
    options: dict[str, Any],
    job_id: str | None = None,
    direction: str | None = None,
    now: float | None = None,
) -> TransferRow:
    now = time.time() if now is None else now
    row = TransferRow(
        id=uuid.uuid4().hex,
        owner=owner,
        project=project,
        source=source,
        dest=dest,
        state="running",
        job_id=job_id,
        direction=direction,
        options=options,
        bytes_total=0,
        bytes_sent=0,
        files=0,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()  # the event's foreign key needs the row first (no ORM relationship)
    session.add(
        TransferEventRow(
            transfer_id=row.id,
            time=now,
            state="running",
            message=f"{source} -> {dest}",
            bytes_sent=0,
        )
    )
    return row


def get_transfer(session: Session, transfer_id: str, *, user: str | None = None) -> TransferRow:
    row = session.get(TransferRow, transfer_id)
    if row is None:
        raise NotFoundError(f"no transfer {transfer_id!r}")
    if user is not None and row.owner != user:
        raise ForbiddenError(f"transfer {transfer_id} belongs to another user")
    return row


def events_of(session: Session, transfer_id: str) -> list[TransferEventRow]:
    stmt = (
        select(TransferEventRow)
        .where(TransferEventRow.transfer_id == transfer_id)
        .order_by(TransferEventRow.id)
    )
    return list(session.scalars(stmt))


def report(
    session: Session,
    row: TransferRow,
    *,
    state: str,
    message: str | None = None,
    bytes_total: int | None = None,
    bytes_sent: int | None = None,
    files: int | None = None,
    result: dict[str, Any] | None = None,
    now: float | None = None,
) -> TransferRow:
    """Record progress or an end state; an ended transfer does not change again."""
    if state not in TRANSFER_STATES:
        raise SpecError(f"unknown transfer state {state!r}")
    if row.state != "running":
        raise ConflictError(f"transfer {row.id} already {row.state}")
    now = time.time() if now is None else now
    row.state = state
    row.updated_at = now
    if bytes_total is not None:
        row.bytes_total = bytes_total
    if bytes_sent is not None:
        row.bytes_sent = bytes_sent
    if files is not None:
        row.files = files
    if result is not None:
        row.result = result
    if state == "failed":
        row.error = message
    session.add(
        TransferEventRow(
            transfer_id=row.id, time=now, state=state, message=message, bytes_sent=row.bytes_sent
        )
    )
    return row


def list_transfers(
    session: Session, *, user: str | None, job_id: str | None = None, limit: int = 100
) -> list[TransferRow]:
    stmt = select(TransferRow).order_by(TransferRow.created_at.desc()).limit(limit)
    if user is not None:
        stmt = stmt.where(TransferRow.owner == user)
    if job_id is not None:
        stmt = stmt.where(TransferRow.job_id == job_id)
    return list(session.scalars(stmt))
