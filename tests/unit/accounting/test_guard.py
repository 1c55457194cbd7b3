"""Budgets at submission (hard refuses, soft warns), reservations released at
the end, and quotas that keep jobs pending with Slurm's reasons."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from computenet.accounting import budgets, guard, quotas
from computenet.clock import FakeClock
from computenet.core.runtime import Runtime
from computenet.core.service import Principal
from computenet.errors import QuotaError
from computenet.model import ArraySpec, JobSpec
from computenet.store import jobs as repo
from computenet.store.tables_accounting import BudgetRow, ReservationRow
from computenet.store.tables_telemetry import AlertRow

from .conftest import accounting, run_passes

ALICE = Principal("alice", project="chem")
# 4 CPUs x 1 h at the dearest partition (alpha, 0.04/core-hour) = 0.16
SPEC = JobSpec(name="j", command="sleep 600", ntasks=4, time_limit_s=3600)


def api_submit(rt: Runtime, spec: JobSpec, who: Principal = ALICE) -> list[int]:
    """What the submission route does: check, then create, in one transaction."""
    with rt.store.session() as s:
        guard.check_submission(s, who, [spec], rt.clock.now())
        rows = repo.create_jobs(s, [repo.NewJob(spec, who.name, who.project)], rt.clock.now())
        return [r.id for r in rows]


def set_budget(rt: Runtime, amount: float, *, hard: bool = True) -> None:
    with rt.store.session() as s:
        budgets.set_budget(
            s, "chem", amount, hard=hard, period="month", now=rt.clock.now(), by="admin"
        )


def budget(rt: Runtime) -> BudgetRow:
    with rt.store.session() as s:
        row = s.get(BudgetRow, "chem")
        assert row is not None
        return row


async def test_no_budget_reserves_nothing(runtime: Runtime) -> None:
    api_submit(runtime, SPEC)
    with runtime.store.session() as s:
        assert s.scalars(select(ReservationRow)).all() == []


async def test_hard_budget_reserves_then_refuses_with_a_clear_message(runtime: Runtime) -> None:
    set_budget(runtime, 0.4)
    api_submit(runtime, SPEC)
    api_submit(runtime, SPEC)
    assert budget(runtime).reserved == pytest.approx(0.32)
    with pytest.raises(QuotaError) as err:
        api_submit(runtime, SPEC)
    assert "project chem is out of budget" in err.value.message
    assert "0.16" in err.value.message
    with runtime.store.session() as s:
        assert len(s.scalars(select(ReservationRow)).all()) == 2
        assert len(repo.list_jobs(s)) == 2  # the refused job was not stored


async def test_array_reserves_per_element(runtime: Runtime) -> None:
    set_budget(runtime, 1.0)
    with pytest.raises(QuotaError):
        api_submit(runtime, JobSpec(**{**SPEC.__dict__, "array": ArraySpec(tuple(range(10)))}))
    ids = api_submit(runtime, JobSpec(**{**SPEC.__dict__, "array": ArraySpec(tuple(range(5)))}))
    with runtime.store.session() as s:
        held = {r.job_id: r.amount for r in s.scalars(select(ReservationRow))}
    assert sorted(held) == sorted(ids) and all(a == pytest.approx(0.16) for a in held.values())


async def test_reservation_becomes_real_cost_when_the_job_ends(
    runtime: Runtime, clock: FakeClock
) -> None:
    set_budget(runtime, 10.0)
    api_submit(runtime, SPEC)
    await run_passes(runtime, 2)
    clock.advance(601)
    await run_passes(runtime, 1)
    accounting(runtime).step()
    row = budget(runtime)
    assert row.reserved == 0
    # 4 CPUs x 600 s on alpha (0.04) or beta (0.01)
    assert row.spent in (pytest.approx(4 * 600 / 3600 * 0.04), pytest.approx(4 * 600 / 3600 * 0.01))


async def test_running_jobs_finish_after_the_budget_is_gone(
    runtime: Runtime, clock: FakeClock
) -> None:
    set_budget(runtime, 0.2)
    (job,) = api_submit(runtime, SPEC)
    await run_passes(runtime, 2)
    with runtime.store.session() as s:
        budgets.set_budget(s, "chem", 0.0, hard=True, period="month", now=clock.now(), by="a")
    with pytest.raises(QuotaError):
        api_submit(runtime, SPEC)
    clock.advance(601)
    await run_passes(runtime, 1)
    with runtime.store.session() as s:
        assert repo.get_job(s, job).state == "COMPLETED"


async def test_soft_budget_allows_and_alerts_once(runtime: Runtime) -> None:
    set_budget(runtime, 0.2, hard=False)
    for _ in range(3):
        api_submit(runtime, SPEC)
    with runtime.store.session() as s:
        alerts = s.scalars(select(AlertRow).where(AlertRow.kind == "budget_soft")).all()
        assert len(alerts) == 1 and "chem" in alerts[0].message
        assert len(repo.list_jobs(s)) == 3


async def test_budget_left_only_for_hard_budgets(runtime: Runtime) -> None:
    with runtime.store.session() as s:
        assert guard.budget_left(s, "chem") is None
    set_budget(runtime, 3.0, hard=False)
    with runtime.store.session() as s:
        assert guard.budget_left(s, "chem") is None
    set_budget(runtime, 3.0, hard=True)
    with runtime.store.session() as s:
        assert guard.budget_left(s, "chem") == 3.0


async def test_new_month_starts_with_nothing_spent(runtime: Runtime, clock: FakeClock) -> None:
    set_budget(runtime, 1.0)
    with runtime.store.session() as s:
        budgets.add_spent(s, "chem", 0.9)
    with pytest.raises(QuotaError):
        api_submit(runtime, SPEC)
    clock.advance(32 * 86400)
    api_submit(runtime, SPEC)
    row = budget(runtime)
    assert row.spent == 0 and row.period_start == budgets.period_start("month", clock.now())


async def test_user_cpu_quota_keeps_jobs_pending_with_slurms_reason(
    runtime: Runtime, clock: FakeClock
) -> None:
    with runtime.store.session() as s:
        quotas.set_quota(
            s, "user", "alice", max_running_cpus=4, max_running_gpus=None, now=clock.now()
        )
    first = api_submit(runtime, SPEC)[0]
    second = api_submit(runtime, SPEC)[0]
    other = api_submit(runtime, SPEC, Principal("bob", project="phys"))[0]
    await run_passes(runtime, 2)
    with runtime.store.session() as s:
        assert repo.get_job(s, first).state in ("QUEUED", "RUNNING")
        held = repo.get_job(s, second)
        assert (held.state, held.reason) == ("PENDING", "QOSMaxCpuPerUserLimit")
        assert repo.get_job(s, other).state in ("QUEUED", "RUNNING")
    clock.advance(601)
    await run_passes(runtime, 3)
    with runtime.store.session() as s:
        assert repo.get_job(s, second).state in ("QUEUED", "RUNNING", "COMPLETED")


async def test_project_gpu_quota_reason(runtime: Runtime, clock: FakeClock) -> None:
    with runtime.store.session() as s:
        quotas.set_quota(
            s, "project", "chem", max_running_cpus=None, max_running_gpus=1, now=clock.now()
        )
        job = repo.create_jobs(
            s, [repo.NewJob(JobSpec(name="g", gpus=2), "alice", "chem")], clock.now()
        )[0]
        assert guard.hold_reason(s, job, JobSpec(name="g", gpus=2)) == "QOSGrpGRES"
        assert guard.hold_reason(s, job, JobSpec(name="c", ntasks=64)) is None
