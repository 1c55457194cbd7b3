"""Collection: isolation of bad clusters, clock skew, jobs between samples."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from computenet.clock import FakeClock
from computenet.clusters.fake import FakeCluster
from computenet.model import JobSpec
from computenet.store.tables_telemetry import (
    AlertRow,
    CollectorStatusRow,
    JobSampleRow,
    JobStatRow,
    NodeSampleRow,
    PartitionSampleRow,
)
from computenet.telemetry.samples import GarbageError, check_snapshot, clamp_time

from .conftest import (
    BrokenCluster,
    GarbageCluster,
    HangingCluster,
    LiveStatsCluster,
    SkewedCluster,
    passes,
    submit,
    telemetry,
)


async def test_hanging_broken_and_garbage_clusters_do_not_stop_the_others(make_runtime) -> None:
    rt = make_runtime(
        {
            "good": FakeCluster,
            "hangs": HangingCluster,
            "garbage": GarbageCluster,
            "broken": BrokenCluster,
        }
    )
    svc = telemetry(rt)
    started = time.monotonic()
    results = {r.cluster: r for r in await svc.step()}
    assert time.monotonic() - started < 5  # the hanging one was cut at its timeout
    assert results["good"].ok
    assert not results["hangs"].ok and "no answer within" in (results["hangs"].error or "")
    assert not results["garbage"].ok and "allocated" in (results["garbage"].error or "")
    assert not results["broken"].ok and "boom" in (results["broken"].error or "")
    with rt.store.session() as s:
        clusters = set(s.scalars(select(NodeSampleRow.cluster)))
        status = {r.cluster: r for r in s.scalars(select(CollectorStatusRow))}
    assert clusters == {"good"}
    assert status["good"].last_ok is not None and status["good"].cpus == 8
    assert status["hangs"].errors == 1 and status["hangs"].last_error
    for _ in range(2):
        await svc.step()
    with rt.store.session() as s:
        kinds = {(a.kind, a.cluster) for a in s.scalars(select(AlertRow))}
    assert ("collector_failing", "hangs") in kinds and ("collector_failing", "good") not in kinds


def test_garbage_checks() -> None:
    with pytest.raises(GarbageError):
        check_snapshot({"nodes": []})


def test_clamp_time() -> None:
    assert clamp_time(100.0, 100.0, 5).clamped is False
    ahead = clamp_time(1000.0, 100.0, 5)
    assert (ahead.time, ahead.skew_s, ahead.clamped) == (100.0, 900.0, True)
    behind = clamp_time(90.0, 100.0, 5)
    assert (behind.time, behind.clamped) == (90.0, False)
    assert clamp_time(float("nan"), 100.0, 5).time == 100.0


async def test_cluster_ahead_of_our_clock_is_clamped_and_flagged(
    make_runtime, clock: FakeClock
) -> None:
    rt = make_runtime({"alpha": FakeCluster, "ahead": SkewedCluster})
    svc = telemetry(rt)
    await svc.step()
    with rt.store.session() as s:
        times = set(s.scalars(select(NodeSampleRow.time)))
        status = s.get(CollectorStatusRow, "ahead")
        alerts = [a.kind for a in s.scalars(select(AlertRow).where(AlertRow.cluster == "ahead"))]
    assert times == {clock.now()}  # nothing stored in our future
    assert status is not None and status.skew_s == pytest.approx(120.0)
    assert alerts == ["cluster_clock_skew"]


async def test_job_that_ends_between_samples(make_runtime, clock: FakeClock) -> None:
    rt = make_runtime()
    svc = telemetry(rt)
    job = submit(rt, JobSpec(name="short", command="sleep 10", ntasks=2, time_limit_s=60))
    await passes(rt)
    await svc.step()
    with rt.store.session() as s:
        stat = s.get(JobStatRow, job)
        assert stat is not None and not stat.ended and stat.cpus == 2
    clock.advance(30)  # the job ended 20 s before this sample
    await passes(rt, 1)
    await svc.step()
    with rt.store.session() as s:
        stat = s.get(JobStatRow, job)
        assert stat is not None and stat.ended
        assert s.scalar(select(func.count()).select_from(JobSampleRow)) == 1
    from computenet.accounting.service import AccountingService

    acct = next(x for x in rt.services if isinstance(x, AccountingService))
    acct.step()
    from computenet.store.tables_accounting import UsageRecordRow

    with rt.store.session() as s:
        rec = s.scalars(select(UsageRecordRow)).one()
    assert rec.elapsed_s == 10 and rec.core_seconds == 20  # not 0, not 30


async def test_live_stats_give_cpu_rate_and_hung_alert(make_runtime, clock: FakeClock) -> None:
    rt = make_runtime({"alpha": LiveStatsCluster})
    svc = telemetry(rt, hung_after_s=600)
    adapter = rt.adapters["alpha"]
    assert isinstance(adapter, LiveStatsCluster)
    job = submit(rt, JobSpec(name="busy", command="sleep 100000", ntasks=4, time_limit_s=90000))
    await passes(rt)
    with rt.store.session() as s:
        from computenet.store import jobs as repo

        native = repo.latest_attempt(s, repo.get_job(s, job)).native_id  # type: ignore[union-attr]
    cpu = 0.0
    for _ in range(4):  # busy: 4 CPUs for 2 minutes
        adapter.live[native] = {"cpu_time_s": cpu, "rss_bytes": 2**30, "threads": 4}
        await svc.step()
        clock.advance(30)
        cpu += 4 * 30
    with rt.store.session() as s:
        stat = s.get(JobStatRow, job)
        assert stat is not None and stat.last_cpu_rate == pytest.approx(4.0)
        assert stat.low_cpu_since is None
    for _ in range(25):  # then nothing at all for 12 minutes
        adapter.live[native] = {"cpu_time_s": cpu, "rss_bytes": 2**30, "threads": 4}
        await svc.step()
        clock.advance(30)
    with rt.store.session() as s:
        hung = s.scalars(select(AlertRow).where(AlertRow.kind == "job_hung")).all()
    assert len(hung) == 1 and hung[0].job_id == job and hung[0].resolved_at is None
    adapter.live[native] = {"cpu_time_s": cpu + 4 * 30, "rss_bytes": 2**30}
    await svc.step()
    with rt.store.session() as s:
        (alert,) = s.scalars(select(AlertRow).where(AlertRow.kind == "job_hung")).all()
    assert alert.resolved_at is not None  # busy again


async def test_garbage_live_stats_are_ignored(make_runtime) -> None:
    rt = make_runtime({"alpha": LiveStatsCluster})
    adapter = rt.adapters["alpha"]
    assert isinstance(adapter, LiveStatsCluster)
    submit(rt, JobSpec(name="x", command="sleep 1000", time_limit_s=2000))
    await passes(rt)
    for nid in adapter.job_ids():
        adapter.live[nid] = {"cpu_time_s": -5, "rss_bytes": "lots"}
    await telemetry(rt).step()
    with rt.store.session() as s:
        (sample,) = s.scalars(select(JobSampleRow)).all()
    assert sample.cpu_time_s is None and sample.rss_bytes is None


async def test_roll_ups_and_retention(make_runtime, clock: FakeClock) -> None:
    rt = make_runtime({"alpha": FakeCluster})
    svc = telemetry(rt, raw_retention_s=1800)
    clock.set(1_800_000_000.0 - 1_800_000_000.0 % 3600)
    submit(rt, JobSpec(name="x", command="sleep 100000", ntasks=4, time_limit_s=90000))
    await passes(rt)
    for _ in range(2 * 65):  # 65 minutes at 30 s
        await svc.step()
        clock.advance(30)
    with rt.store.session() as s:
        t = PartitionSampleRow
        minutes = s.scalars(select(t).where(t.resolution_s == 60)).all()
        hours = s.scalars(select(t).where(t.resolution_s == 3600)).all()
        raw_oldest = s.scalar(select(func.min(NodeSampleRow.time)))
    assert len(minutes) >= 64 and all(m.samples == 2 for m in minutes)
    assert all(m.cpus_alloc / m.samples == 4 and m.cpus / m.samples == 8 for m in minutes)
    (hour,) = hours
    assert hour.samples == 120 and hour.cpus_alloc == 4 * 120
    assert raw_oldest is not None and raw_oldest >= clock.now() - 1800 - 20 * 30
