"""Project budgets: set, list, roll over at each period, and move the
counters with single conditional UPDATEs (safe across servers).

``spent`` is the cost of usage in the current period; ``reserved`` the
estimated cost of admitted jobs that have not been accounted yet. A hard
budget refuses a submission whose estimate does not fit in
``amount - spent - reserved``; a soft one only warns.
"""

from __future__ import annotations

import calendar
import time
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from computenet.errors import SpecError
from computenet.store.tables_accounting import BudgetRow

PERIODS = ("month", "total")


def period_start(period: str, now: float) -> float:
    """Start of the period containing ``now`` (UTC); 0 for a budget that never resets."""
    if period == "total":
        return 0.0
    t = time.gmtime(now)
    return float(calendar.timegm((t.tm_year, t.tm_mon, 1, 0, 0, 0)))


def set_budget(
    session: Session,
    project: str,
    amount: float,
    *,
    hard: bool,
    period: str,
    now: float,
    by: str,
) -> BudgetRow:
    if period not in PERIODS:
        raise SpecError(f"unknown budget period {period!r}; use one of {', '.join(PERIODS)}")
    if not amount >= 0:
        raise SpecError(f"a budget must be a number >= 0, not {amount}")
    row = session.get(BudgetRow, project, with_for_update=True)
    start = period_start(period, now)
    if row is None:
        from computenet.accounting.ledger import spent_since

        row = BudgetRow(
            project=project,
            amount=amount,
            hard=hard,
            period=period,
            period_start=start,
            spent=spent_since(session, project, start),
            reserved=reserved_total(session, project),
            warned_at=None,
            updated_at=now,
            updated_by=by,
        )
        session.add(row)
    else:
        row.amount, row.hard, row.updated_at, row.updated_by = amount, hard, now, by
        if row.period != period:
            from computenet.accounting.ledger import spent_since

            row.period, row.period_start = period, start
            row.spent = spent_since(session, project, start)
        row.warned_at = None
    session.flush()
    return row


def reserved_total(session: Session, project: str) -> float:
    from sqlalchemy import func

    from computenet.store.tables_accounting import ReservationRow

    return float(
        session.scalar(
            select(func.coalesce(func.sum(ReservationRow.amount), 0.0)).where(
                ReservationRow.project == project
            )
        )
        or 0.0
    )


def delete_budget(session: Session, project: str) -> bool:
    row = session.get(BudgetRow, project)
    if row is None:
        return False
    session.delete(row)
    return True


def roll_period(session: Session, row: BudgetRow, now: float) -> None:
    """Start a new period if the current one has passed (compare-and-set on
    ``period_start``, so two servers reset it once)."""
    start = period_start(row.period, now)
    if row.period_start >= start:
        return
    session.execute(
        update(BudgetRow)
        .where(BudgetRow.project == row.project, BudgetRow.period_start == row.period_start)
        .values(period_start=start, spent=0.0, warned_at=None)
        .execution_options(synchronize_session=False)
    )
    session.refresh(row)


def try_reserve(session: Session, project: str, amount: float, *, hard: bool) -> bool:
    """Add ``amount`` to the reserved counter; for a hard budget only if it fits.

    One UPDATE whose WHERE re-checks the counters: PostgreSQL re-evaluates it
    on the locked row, SQLite runs writers one at a time, so two servers can
    never both take the last of a budget.
    """
    query = update(BudgetRow).where(BudgetRow.project == project)
    if hard:
        query = query.where(
            BudgetRow.spent + BudgetRow.reserved + amount <= BudgetRow.amount,
            BudgetRow.spent + BudgetRow.reserved < BudgetRow.amount,
        )
    result = session.execute(
        query.values(reserved=BudgetRow.reserved + amount).execution_options(
            synchronize_session=False
        )
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def release(session: Session, project: str, amount: float) -> None:
    session.execute(
        update(BudgetRow)
        .where(BudgetRow.project == project)
        .values(
            reserved=case((BudgetRow.reserved > amount, BudgetRow.reserved - amount), else_=0.0)
        )
        .execution_options(synchronize_session=False)
    )


def add_spent(session: Session, project: str, amount: float) -> None:
    if amount:
        session.execute(
            update(BudgetRow)
            .where(BudgetRow.project == project)
            .values(spent=BudgetRow.spent + amount)
            .execution_options(synchronize_session=False)
        )


def mark_warned(session: Session, project: str, now: float) -> bool:
    """True once per period: the caller then raises the soft-budget alert."""
    result = session.execute(
        update(BudgetRow)
        .where(
            BudgetRow.project == project,
            (BudgetRow.warned_at.is_(None)) | (BudgetRow.warned_at < BudgetRow.period_start),
        )
        .values(warned_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def budget_to_dict(row: BudgetRow) -> dict[str, Any]:
    return {
        "project": row.project,
        "amount": row.amount,
        "hard": row.hard,
        "period": row.period,
        "period_start": row.period_start,
        "spent": round(row.spent, 6),
        "reserved": round(row.reserved, 6),
        "left": round(row.amount - row.spent - row.reserved, 6),
        "updated_at": row.updated_at,
        "updated_by": row.updated_by,
    }


def list_budgets(session: Session, now: float) -> list[BudgetRow]:
    rows = list(session.scalars(select(BudgetRow).order_by(BudgetRow.project)))
    for row in rows:
        roll_period(session, row, now)
    return rows
