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


def transfer_dict(
    row: TransferRow, events: list[TransferEventRow] | None = None, *, manifest: bool = False
) -> dict[str, Any]:
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
        "runner": row.runner,
        "bytes_done": row.bytes_done,
        "cancel_requested": bool(row.cancel_requested),
        "chunks_verified": sum(
            len(c) for c in (row.manifest or {}).values() if isinstance(c, dict)
        ),
    }
    if manifest:
        out["manifest"] = row.manifest or {}
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
    runner: str | None = None,
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
        runner=runner,
        bytes_done=0,
        cancel_requested=False,
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


ID_PREFIX_MIN = 8


def get_transfer(session: Session, transfer_id: str, *, user: str | None = None) -> TransferRow:
    """By id, or by a prefix of at least ``ID_PREFIX_MIN`` characters naming one transfer
    (``cnet transfers`` shows 12)."""
    row = session.get(TransferRow, transfer_id)
    if row is None and ID_PREFIX_MIN <= len(transfer_id) < 32 and transfer_id.isalnum():
        found = list(
            session.scalars(
                select(TransferRow).where(TransferRow.id.startswith(transfer_id)).limit(2)
            )
        )
        row = found[0] if len(found) == 1 else None
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


def progress(
    session: Session,
    row: TransferRow,
    *,
    bytes_done: int,
    bytes_total: int,
    files: int,
    manifest: dict[str, Any],
    now: float | None = None,
) -> None:
    """A running copy's progress (no event: ``updated_at`` is its heartbeat)."""
    if row.state != "running":
        return
    row.bytes_done, row.bytes_total, row.files = bytes_done, bytes_total, files
    row.manifest = manifest
    row.updated_at = time.time() if now is None else now


def request_cancel(session: Session, row: TransferRow, *, now: float | None = None) -> None:
    """Ask the server running ``row`` to stop it (``ConflictError`` once it ended)."""
    if row.state != "running":
        raise ConflictError(f"transfer {row.id} already {row.state}")
    if not is_server_run(row):
        raise ConflictError(
            f"transfer {row.id} is run by the command that started it; stop that command"
        )
    row.cancel_requested = True
    session.add(
        TransferEventRow(
            transfer_id=row.id,
            time=time.time() if now is None else now,
            state="running",
            message="cancel requested",
            bytes_sent=row.bytes_sent,
        )
    )


def reopen(
    session: Session,
    row: TransferRow,
    *,
    runner: str,
    options: dict[str, Any] | None = None,
    now: float | None = None,
) -> TransferRow:
    """Run an ended server copy again with ``resume`` (verified chunks are kept);
    ``options`` replace some of the copy's options (say, lift a bandwidth cap)."""
    if not is_server_run(row):
        raise ConflictError(
            f"transfer {row.id} was run by a command, not the server; run `cnet cp --resume` again"
        )
    if row.state == "running":
        raise ConflictError(f"transfer {row.id} is running")
    if row.state == "completed":
        raise ConflictError(f"transfer {row.id} completed; nothing to resume")
    now = time.time() if now is None else now
    row.state, row.error, row.result = "running", None, None
    row.cancel_requested = False
    row.options = {**dict(row.options), **(options or {}), "resume": True}
    row.runner = runner
    row.updated_at = now
    session.add(
        TransferEventRow(
            transfer_id=row.id, time=now, state="running", message="resumed", bytes_sent=0
        )
    )
    return row


SERVER_RUNNER = "server:"


def is_server_run(row: TransferRow) -> bool:
    return bool(row.runner and row.runner.startswith(SERVER_RUNNER))


def running_server_transfers(session: Session) -> list[TransferRow]:
    """Server copies marked running (some may have lost their server)."""
    stmt = select(TransferRow).where(
        TransferRow.state == "running", TransferRow.runner.startswith(SERVER_RUNNER)
    )
    return list(session.scalars(stmt))
