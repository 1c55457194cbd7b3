"""Failover: health from answers, queued jobs moved off DOWN clusters, old
copies cancelled when their cluster answers again, first start kept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from computenet.clock import FakeClock
from computenet.clusters.fake import FakeCluster
from computenet.config import Settings
from computenet.core.controller import tag_for
from computenet.core.runtime import Runtime
from computenet.errors import ClusterUnavailable
from computenet.model import ClusterHealth, JobSpec, JobState
from computenet.store import jobs as repo
from tests.support.clusters import fake_configs
from tests.support.runtime import (
    attempts,
    fake,
    fake_runtime,
    job,
    reach_cluster,
    write_unsent_attempt,
)


@pytest.fixture
async def manual(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Runtime]:
    """Fake clusters that start nothing unless a test says so."""
    async with fake_runtime(tmp_path, clock, fake_configs(), auto=False) as rt:
        yield rt


def submit(rt: Runtime, spec: JobSpec) -> int:
    with rt.store.session() as s:
        return repo.create_jobs(s, [repo.NewJob(spec, "alice", "proj")], rt.clock.now())[0].id


def native_state(cluster: FakeCluster, native: str) -> JobState:
    return cluster.queue.jobs[native].state


async def take_down(rt: Runtime, clock: FakeClock, name: str) -> None:
    """Stop a cluster answering and step until the controller calls it DOWN."""
    fake(rt, name).set_down(True)
    for _ in range(10):
        await rt.controller.step()
        if rt.controller.clusters.health(name) == ClusterHealth.DOWN:
            return
        clock.advance(30)
    raise AssertionError(f"{name} never went DOWN")


async def bring_back(rt: Runtime, clock: FakeClock, name: str) -> None:
    fake(rt, name).set_down(False)
    clock.advance(120)  # past any backoff
    await rt.controller.step()
    await rt.controller.step()


SPEC = JobSpec(name="q", command="sleep 100", time_limit_s=600)


async def queued_on_alpha(rt: Runtime) -> tuple[int, str]:
    job_id = submit(rt, SPEC)
    await rt.controller.step()
    (first,) = attempts(rt, job_id)
    assert (first.cluster, first.state) == ("alpha", "QUEUED")
    assert first.native_id is not None
    return job_id, first.native_id


# ----- health ---------------------------------------------------------------------
async def test_one_bad_second_degrades_but_only_failed_probes_take_a_cluster_down(
    manual: Runtime, clock: FakeClock
) -> None:
    from dataclasses import replace

    states = manual.controller.clusters
    submit(manual, replace(SPEC, clusters=("alpha",)))  # keeps calling alpha every pass
    fake(manual, "alpha").set_down(True)
    for _ in range(5):  # many calls in one probe slot count once
        await manual.controller.step()
    assert states.health("alpha") == ClusterHealth.DEGRADED
    assert states.status["alpha"].last_error is not None
    await take_down(manual, clock, "alpha")
    fake(manual, "alpha").set_down(False)
    clock.advance(120)
    await states.probe()
    assert states.health("alpha") == ClusterHealth.DEGRADED  # one answer is not enough
    await manual.controller.step()
    assert states.health("alpha") == ClusterHealth.UP
    assert states.status["alpha"].last_error is None


async def test_a_cluster_that_never_answered_is_down_with_its_reason(
    tmp_path: Path, clock: FakeClock
) -> None:
    settings = Settings(
        data_dir=tmp_path / "d", state_dir=tmp_path / "s", clusters=fake_configs(), token="t"
    )
    adapters = {c.name: FakeCluster(c.to_info(), clock) for c in settings.clusters}
    adapters["beta"].set_down(True)
    rt = Runtime(settings, clock=clock, adapters=adapters)  # type: ignore[arg-type]
    try:
        await rt.controller.clusters.refresh()
        st = rt.controller.clusters.status["beta"]
        assert st.health == ClusterHealth.DOWN
        assert st.last_error is not None and "not answering" in st.last_error
        assert [i.name for i in rt.controller.clusters.infos()] == ["alpha"]
    finally:
        rt.store.close()


# ----- queued jobs move ----------------------------------------------------------------
async def test_queued_job_moves_off_a_down_cluster_and_the_old_copy_is_cancelled_on_return(
    manual: Runtime, clock: FakeClock
) -> None:
    job_id, old_native = await queued_on_alpha(manual)
    await take_down(manual, clock, "alpha")
    await manual.controller.step()
    first, second = attempts(manual, job_id)
    assert second.cluster == "beta" and second.state == "QUEUED"
    assert second.reason == "REQUEUED_FAILOVER: cluster alpha down"
    assert second.tag == tag_for(manual.network_id, job_id, 2)
    assert first.state == "QUEUED" and (first.reason or "").startswith("moved: cluster alpha down")
    with manual.store.session() as s:
        path = [(e.from_state, e.to_state, e.reason) for e in repo.events(s, job_id)]
    assert ("QUEUED", "PENDING", "REQUEUED_FAILOVER: cluster alpha down") in path
    assert job(manual, job_id).cluster == "beta"
    assert native_state(fake(manual, "alpha"), old_native) is JobState.QUEUED

    await bring_back(manual, clock, "alpha")
    assert native_state(fake(manual, "alpha"), old_native) is JobState.CANCELLED
    first, second = attempts(manual, job_id)
    assert first.state == "CANCELLED" and "wasted" not in (first.reason or "")
    assert second.state == "QUEUED"
    assert job(manual, job_id).state == "QUEUED"
    assert len(fake(manual, "alpha").submitted) == 1


async def test_old_copy_is_cancelled_even_after_the_moved_job_finished(
    manual: Runtime, clock: FakeClock
) -> None:
    job_id, old_native = await queued_on_alpha(manual)
    await take_down(manual, clock, "alpha")
    await manual.controller.step()
    new_native = attempts(manual, job_id)[1].native_id
    assert new_native is not None
    fake(manual, "beta").start_job(new_native)
    fake(manual, "beta").finish(new_native)
    await manual.controller.step()
    assert job(manual, job_id).state == "COMPLETED"
    await bring_back(manual, clock, "alpha")
    assert native_state(fake(manual, "alpha"), old_native) is JobState.CANCELLED
    assert [a.state for a in attempts(manual, job_id)] == ["CANCELLED", "COMPLETED"]


async def test_job_that_only_the_down_cluster_can_run_stays_and_says_why(
    manual: Runtime, clock: FakeClock
) -> None:
    from dataclasses import replace

    job_id = submit(manual, replace(SPEC, clusters=("alpha",)))
    await manual.controller.step()
    await take_down(manual, clock, "alpha")
    await manual.controller.step()
    row = job(manual, job_id)
    assert row.state == "QUEUED" and row.cluster == "alpha"
    assert row.reason is not None and "no other cluster can run it" in row.reason
    assert len(attempts(manual, job_id)) == 1


async def test_old_copy_that_started_first_is_kept_and_the_new_one_cancelled(
    manual: Runtime, clock: FakeClock
) -> None:
    job_id, old_native = await queued_on_alpha(manual)
    await take_down(manual, clock, "alpha")
    await manual.controller.step()
    fake(manual, "alpha").start_job(old_native)  # it started while we could not see
    clock.advance(5)
    new_native = attempts(manual, job_id)[1].native_id
    assert new_native is not None
    fake(manual, "beta").start_job(new_native)
    await manual.controller.step()
    assert job(manual, job_id).state == "RUNNING" and job(manual, job_id).cluster == "beta"
    clock.advance(10)
    await bring_back(manual, clock, "alpha")
    first, second = attempts(manual, job_id)
    row = job(manual, job_id)
    assert (row.cluster, row.attempt_count, row.state) == ("alpha", 1, "RUNNING")
    assert first.state == "RUNNING"
    assert second.state == "CANCELLED"
    assert "attempt 1 on alpha started first" in (second.reason or "")
    assert native_state(fake(manual, "beta"), new_native) is JobState.CANCELLED
    assert row.placement is not None and row.placement["wasted_core_s"] >= 10
    assert "wasted" in row.placement["reason"]


async def test_new_copy_that_started_first_wins_over_a_late_old_one(
    manual: Runtime, clock: FakeClock
) -> None:
    job_id, old_native = await queued_on_alpha(manual)
    await take_down(manual, clock, "alpha")
    await manual.controller.step()
    new_native = attempts(manual, job_id)[1].native_id
    assert new_native is not None
    fake(manual, "beta").start_job(new_native)
    clock.advance(5)
    fake(manual, "alpha").start_job(old_native)
    clock.advance(7)
    await bring_back(manual, clock, "alpha")
    first, second = attempts(manual, job_id)
    row = job(manual, job_id)
    assert (row.cluster, row.attempt_count) == ("beta", 2)
    assert first.state == "CANCELLED" and second.state == "RUNNING"
    assert native_state(fake(manual, "alpha"), old_native) is JobState.CANCELLED
    assert row.placement is not None and row.placement["wasted_core_s"] > 0


# ----- crash cases ----------------------------------------------------------------------
async def _unconfirmed_on_alpha(rt: Runtime, *, reached: bool) -> int:
    job_id = submit(rt, SPEC)
    write_unsent_attempt(rt, job_id, 1, "alpha", "cpu")
    if reached:
        await reach_cluster(rt, job_id, 1, "alpha", "cpu", SPEC)
    return job_id


@pytest.mark.parametrize("reached", [True, False])
async def test_abandoned_submission_is_placed_elsewhere_and_found_on_recovery(
    manual: Runtime, clock: FakeClock, reached: bool
) -> None:
    job_id = await _unconfirmed_on_alpha(manual, reached=reached)
    await take_down(manual, clock, "alpha")
    await manual.controller.step()
    first, second = attempts(manual, job_id)
    assert second.cluster == "beta" and second.state == "QUEUED"
    assert (second.reason or "").startswith("REQUEUED_FAILOVER: cluster alpha")
    await bring_back(manual, clock, "alpha")
    first = attempts(manual, job_id)[0]
    assert first.state == "CANCELLED"
    alpha = fake(manual, "alpha")
    if reached:
        assert first.native_id is not None
        assert native_state(alpha, first.native_id) is JobState.CANCELLED
    else:
        assert "never reached alpha" in (first.reason or "")
    assert len(alpha.submitted) == (1 if reached else 0), "never submitted again"


async def test_restart_between_move_and_recovery_still_cancels_the_old_copy(
    manual: Runtime, clock: FakeClock, tmp_path: Path
) -> None:
    """The memory of the old copy lives in the database, not in the process."""
    job_id, old_native = await queued_on_alpha(manual)
    await take_down(manual, clock, "alpha")
    await manual.controller.step()
    fresh = Runtime(manual.settings, clock=clock, adapters=manual.adapters)
    try:
        fake(fresh, "alpha").set_down(False)
        await fresh.controller.clusters.refresh()
        await fresh.controller.step()
        await fresh.controller.step()
        assert native_state(fake(fresh, "alpha"), old_native) is JobState.CANCELLED
        assert [a.state for a in attempts(fresh, job_id)] == ["CANCELLED", "QUEUED"]
    finally:
        fresh.store.close()


# ----- node failure ---------------------------------------------------------------------
async def test_node_fail_requeues_on_another_cluster(manual: Runtime) -> None:
    job_id, native = await queued_on_alpha(manual)
    fake(manual, "alpha").start_job(native)
    await manual.controller.step()
    fake(manual, "alpha").finish(native, JobState.NODE_FAIL, "0:0")
    await manual.controller.step()
    await manual.controller.step()
    first, second = attempts(manual, job_id)
    assert first.state == "NODE_FAIL"
    assert second.cluster == "beta"
    assert second.reason == "REQUEUED_FAILOVER: NODE_FAIL on alpha"
    assert job(manual, job_id).state == "QUEUED"


async def test_node_fail_stays_home_when_no_other_cluster_fits(manual: Runtime) -> None:
    from dataclasses import replace

    job_id = submit(manual, replace(SPEC, nodes=2))  # beta has one node
    await manual.controller.step()
    native = attempts(manual, job_id)[0].native_id
    assert native is not None
    fake(manual, "alpha").start_job(native)
    await manual.controller.step()
    fake(manual, "alpha").finish(native, JobState.NODE_FAIL, "0:0")
    await manual.controller.step()
    await manual.controller.step()
    assert [a.cluster for a in attempts(manual, job_id)] == ["alpha", "alpha"]


async def test_transient_submit_errors_do_not_move_a_job_before_the_cluster_is_down(
    manual: Runtime, clock: FakeClock
) -> None:
    fake(manual, "alpha").fail_next_submit(ClusterUnavailable("blip"))
    job_id = submit(manual, SPEC)
    await manual.controller.step()
    assert job(manual, job_id).state == "PENDING"
    await manual.controller.step()
    (only,) = attempts(manual, job_id)
    assert (only.cluster, only.state) == ("alpha", "QUEUED")
