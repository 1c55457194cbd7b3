"""Budgets and quotas at submission and placement (called by core/).

- ``check_submission`` runs in the submission's transaction: with a hard
  budget it reserves the jobs' estimated cost by one conditional UPDATE, or
  refuses with ``QuotaError``; with a soft budget it reserves, and raises an
  alert once per period when the budget is passed. The reservation rows are
  written when the job rows are inserted, in the same transaction, so a
  refused or failed submission reserves nothing.
- ``hold_reason`` keeps a pending job pending while its project or user holds
  its quota of CPUs or GPUs at clusters; the totals are read once per
  placement pass (per session) and updated as jobs are let through.
- ``budget_left`` is what a project with a hard budget may still spend,
  besides the reservations of jobs already admitted.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, bindparam, insert, select
from sqlalchemy.orm import Session

from computenet.accounting import budgets
from computenet.accounting.prices import PriceTable
from computenet.errors import QuotaError
from computenet.model import JobSpec
from computenet.store.jobs import AFTER_INSERT
from computenet.store.tables import JobRow
from computenet.store.tables_accounting import BudgetRow, QuotaRow, ReservationRow

_PRICES: weakref.WeakKeyDictionary[Engine, PriceTable] = weakref.WeakKeyDictionary()
ACTIVE_STATES = ("STAGING_IN", "QUEUED", "RUNNING", "STAGING_OUT")
_RESERVE_KEY = "cn_reservations"
_QUOTA_KEY = "cn_quota_usage"


def register_prices(engine: Engine, prices: PriceTable) -> None:
    """Tell the guard the prices of the store behind ``engine`` (one per runtime)."""
    _PRICES[engine] = prices


def prices_for(session: Session) -> PriceTable | None:
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else getattr(bind, "engine", None)
    return _PRICES.get(engine) if isinstance(engine, Engine) else None


def estimate(session: Session, spec: JobSpec) -> float:
    prices = prices_for(session)
    return prices.estimate(spec) if prices is not None else 0.0


_HAS_BUDGET = select(BudgetRow.__table__.c.project).where(
    BudgetRow.__table__.c.project == bindparam("project")
)


def check_submission(session: Session, who: Any, specs: list[JobSpec], now: float) -> None:
    """Refuse (``QuotaError``) jobs a hard budget cannot pay for; reserve the rest."""
    # Most projects have no budget: a plain indexed probe answers that at a
    # third of the cost of loading through the ORM, on every submission.
    if session.connection().execute(_HAS_BUDGET, {"project": who.project}).first() is None:
        return
    row = session.get(BudgetRow, who.project)
    if row is None:
        return
    budgets.roll_period(session, row, now)
    per_job: list[float] = []
    for spec in specs:
        one = estimate(session, spec)
        per_job.extend([one] * (len(spec.array.indices) if spec.array else 1))
    total = sum(per_job)
    if not budgets.try_reserve(session, row.project, total, hard=row.hard):
        session.refresh(row)
        left = row.amount - row.spent - row.reserved
        raise QuotaError(
            f"project {row.project} is out of budget: spent {row.spent:.2f} and "
            f"{row.reserved:.2f} held by queued jobs of {row.amount:.2f} this "
            f"{row.period}; these jobs may cost up to {total:.2f}, {max(left, 0.0):.2f} is left",
            project=row.project,
        )
    _reserve_on_insert(session, row.project, per_job, now)
    if not row.hard:
        session.refresh(row)
        if row.spent + row.reserved > row.amount and budgets.mark_warned(session, row.project, now):
            _soft_alert(session, row, now)


def _reserve_on_insert(session: Session, project: str, amounts: list[float], now: float) -> None:
    """Write one reservation per job once the job rows (and their ids) exist."""
    pending: list[tuple[str, list[float]]] = session.info.setdefault(_RESERVE_KEY, [])
    pending.append((project, amounts))
    if len(pending) > 1:
        return  # the hook is already registered for this session

    def after_insert(sess: Session, jobs: list[dict[str, Any]]) -> None:
        todo: list[tuple[str, list[float]]] = sess.info.get(_RESERVE_KEY) or []
        new = sorted(jobs, key=lambda j: int(j["id"]))
        rows: list[dict[str, Any]] = []
        for proj, costs in todo:
            mine = [j for j in new if j["project"] == proj][: len(costs)]
            taken = {j["id"] for j in mine}
            new = [j for j in new if j["id"] not in taken]
            rows.extend(
                {"job_id": j["id"], "project": proj, "amount": c, "created_at": now}
                for j, c in zip(mine, costs, strict=False)
            )
        sess.info[_RESERVE_KEY] = []
        if rows:
            sess.connection().execute(insert(ReservationRow), rows)

    session.info.setdefault(AFTER_INSERT, []).append(after_insert)


def _soft_alert(session: Session, row: BudgetRow, now: float) -> None:
    from computenet.store.tables_telemetry import AlertRow

    session.add(
        AlertRow(
            kind="budget_soft",
            key=f"budget_soft:{row.project}",
            severity="warning",
            project=row.project,
            message=(
                f"project {row.project} passed its soft budget: {row.spent + row.reserved:.2f} "
                f"spent or held of {row.amount:.2f} this {row.period}"
            ),
            details={"amount": row.amount, "spent": row.spent, "reserved": row.reserved},
            first_seen=now,
            last_seen=now,
            notified=False,
        )
    )


@dataclass
class _Usage:
    quotas: dict[tuple[str, str], QuotaRow]
    cpus: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    gpus: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))


def _usage(session: Session) -> _Usage:
    cached = session.info.get(_QUOTA_KEY)
    if cached is not None:
        assert isinstance(cached, _Usage)
        return cached
    quotas = {(q.scope, q.name): q for q in session.scalars(select(QuotaRow))}
    usage = _Usage(quotas)
    if quotas:
        for owner, project, spec in session.execute(
            select(JobRow.owner, JobRow.project, JobRow.spec).where(JobRow.state.in_(ACTIVE_STATES))
        ):
            parsed = JobSpec.from_dict(spec)
            for key in (("user", owner), ("project", project)):
                usage.cpus[key] += parsed.cpus
                usage.gpus[key] += parsed.total_gpus
    session.info[_QUOTA_KEY] = usage
    return usage


#: Slurm's reason for each (scope, resource) limit.
REASONS = {
    ("project", "cpus"): "QOSGrpCpuLimit",
    ("project", "gpus"): "QOSGrpGRES",
    ("user", "cpus"): "QOSMaxCpuPerUserLimit",
    ("user", "gpus"): "QOSMaxGRESPerUser",
}


def hold_reason(session: Session, job: JobRow, spec: JobSpec) -> str | None:
    """A Slurm-like reason when a quota keeps the job pending now, else None."""
    usage = _usage(session)
    if not usage.quotas:
        return None
    keys: Sequence[tuple[str, str]] = (("user", job.owner), ("project", job.project))
    cpus, gpus = spec.cpus, spec.total_gpus
    for key in keys:
        quota = usage.quotas.get(key)
        if quota is None:
            continue
        if quota.max_running_cpus is not None and usage.cpus[key] + cpus > quota.max_running_cpus:
            return REASONS[(key[0], "cpus")]
        if (
            gpus
            and quota.max_running_gpus is not None
            and usage.gpus[key] + gpus > quota.max_running_gpus
        ):
            return REASONS[(key[0], "gpus")]
    for key in keys:  # let it through: count it for the rest of this pass
        usage.cpus[key] += cpus
        usage.gpus[key] += gpus
    return None


def budget_left(session: Session, project: str) -> float | None:
    """What a hard-budget project may still spend (None: no hard budget)."""
    row = session.get(BudgetRow, project)
    if row is None or not row.hard:
        return None
    return max(0.0, row.amount - row.spent)
