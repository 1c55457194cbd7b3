"""Usage records: one per ended attempt, exact allocation x time, split by day."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from computenet.accounting import ledger
from computenet.accounting.records import WAIT_BUCKETS_S, split_by_day, wait_bucket
from computenet.clock import FakeClock
from computenet.core.runtime import Runtime
from computenet.model import JobSpec
from computenet.store.tables_accounting import UsageDailyRow, UsageRecordRow, WaitBucketRow

from .conftest import accounting, run_passes, submit


async def test_ended_attempt_gets_one_record_with_exact_cost(
    runtime: Runtime, clock: FakeClock
) -> None:
    job = submit(runtime, JobSpec(name="j", command="sleep 1800", ntasks=4, time_limit_s=3600))
    await run_passes(runtime, 2)
    clock.advance(1800)
    await run_passes(runtime, 1)
    svc = accounting(runtime)
    assert svc.step() == 1
    assert svc.step() == 0  # idempotent: nothing is counted twice
    with runtime.store.session() as s:
        (rec,) = s.scalars(select(UsageRecordRow)).all()
        assert rec.job_id == job and rec.state == "COMPLETED"
        assert rec.elapsed_s == 1800 and rec.cpus == 4
        assert rec.core_seconds == 4 * 1800
        price = 0.04 if rec.cluster == "alpha" else 0.01
        assert rec.cost == pytest.approx(4 * 0.5 * price)
        total = s.scalar(select(func.sum(UsageDailyRow.core_seconds)))
        assert total == pytest.approx(7200)


async def test_second_writer_of_the_same_attempt_is_refused(
    runtime: Runtime, clock: FakeClock
) -> None:
    submit(runtime, JobSpec(name="j", command="sleep 10", time_limit_s=60))
    await run_passes(runtime, 2)
    clock.advance(20)
    await run_passes(runtime, 1)
    with runtime.store.session() as s:
        pairs = ledger.unaccounted_attempts(s)
    assert len(pairs) == 1
    with runtime.store.session() as s:
        assert ledger.record_attempts(s, pairs, accounting(runtime).prices, clock.now()) == 1
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), runtime.store.session() as s:
        ledger.record_attempts(s, pairs, accounting(runtime).prices, clock.now())
    with runtime.store.session() as s:
        assert s.scalar(select(func.count()).select_from(UsageRecordRow)) == 1
        assert s.scalar(select(func.sum(UsageDailyRow.attempts))) == 1


async def test_job_ending_between_samples_is_billed_to_its_end(
    runtime: Runtime, clock: FakeClock
) -> None:
    """The controller polls long after the job ended: the bill is start..end."""
    submit(runtime, JobSpec(name="j", command="sleep 7", ntasks=2, time_limit_s=60))
    await run_passes(runtime, 2)
    clock.advance(600)  # one poll, ten minutes later
    await run_passes(runtime, 1)
    accounting(runtime).step()
    with runtime.store.session() as s:
        (rec,) = s.scalars(select(UsageRecordRow)).all()
    assert rec.elapsed_s == 7 and rec.core_seconds == 14


def test_split_by_day_across_midnight() -> None:
    midnight = 1_800_057_600.0  # a UTC midnight
    assert midnight % 86400 == 0
    pieces = split_by_day(midnight - 3600, midnight + 7200)
    assert [p[1] for p in pieces] == [3600, 7200]
    assert pieces[0][0] != pieces[1][0]
    assert split_by_day(midnight, midnight) == []


async def test_usage_across_midnight_lands_on_both_days(runtime: Runtime, clock: FakeClock) -> None:
    clock.set(1_800_057_600.0 - 1000)
    submit(runtime, JobSpec(name="j", command="sleep 3000", time_limit_s=3600))
    await run_passes(runtime, 2)
    clock.advance(3001)
    await run_passes(runtime, 1)
    accounting(runtime).step()
    with runtime.store.session() as s:
        days = sorted(s.execute(select(UsageDailyRow.day, UsageDailyRow.core_seconds)).all())
    assert [round(c) for _, c in days] == [1000, 2000]


async def test_wait_histogram_counts_started_attempts(runtime: Runtime, clock: FakeClock) -> None:
    # 8 CPUs on alpha, 4 on beta: the third 4-CPU job waits for one of the first
    for _ in range(4):
        submit(runtime, JobSpec(name="w", command="sleep 100", ntasks=4, time_limit_s=200))
    await run_passes(runtime, 2)
    clock.advance(101)
    await run_passes(runtime, 2)
    clock.advance(101)
    await run_passes(runtime, 2)
    accounting(runtime).step()
    with runtime.store.session() as s:
        count = s.scalar(select(func.sum(WaitBucketRow.count)))
        waits = sorted(w for (w,) in s.execute(select(UsageRecordRow.wait_s)))
    assert count == 4
    assert waits[0] == 0 and waits[-1] >= 100
    assert wait_bucket(0) == 0 and wait_bucket(1e9) == len(WAIT_BUCKETS_S)
