"""Leases: which server runs the controller when several share one database."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from computenet.store.db import Store
from computenet.store.tables import LeaseRow


def acquire(store: Store, name: str, holder: str, *, now: float, ttl_s: float) -> bool:
    """Take or renew the lease; True if ``holder`` holds it until ``now + ttl_s``.

    Atomic on SQLite and PostgreSQL: a conditional UPDATE, or an INSERT that
    fails on the primary key if another server inserted first.
    """
    with store.session() as s:
        result = s.execute(
            update(LeaseRow)
            .where(LeaseRow.name == name, (LeaseRow.holder == holder) | (LeaseRow.expires_at < now))
            .values(holder=holder, expires_at=now + ttl_s)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            return True
        if s.get(LeaseRow, name) is not None:
            return False
    try:
        with store.session() as s:
            s.add(LeaseRow(name=name, holder=holder, expires_at=now + ttl_s))
        return True
    except IntegrityError:
        return False


def release(store: Store, name: str, holder: str) -> None:
    with store.session() as s:
        s.execute(
            update(LeaseRow)
            .where(LeaseRow.name == name, LeaseRow.holder == holder)
            .values(expires_at=0.0)
            .execution_options(synchronize_session=False)
        )
