"""Running jobs on a cluster that stops answering: left alone while their
state is unknown, true end state taken on return, requeued as NODE_FAIL once
the cluster is lost for longer than the grace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import ValidationError

from computenet.clock import FakeClock
from computenet.config import Settings
from computenet.core.runtime import Runtime
from computenet.model import ClusterHealth, JobSpec, JobState
from computenet.store import jobs as repo
from computenet.store.tables import AttemptRow
from tests.support.clusters import fake_configs
from tests.support.runtime import attempts, fake, fake_runtime, job, submit

GRACE_S = 600.0
SPEC = JobSpec(name="r", command="sleep 1000", time_limit_s=3600)


@pytest.fixture
async def rt(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Runtime]:
    async with fake_runtime(tmp_path, clock, fake_configs(), auto=False) as runtime:
        runtime.settings.lost_cluster_grace_s = GRACE_S
        yield runtime


def events(rt: Runtime, job_id: int) -> list[tuple[str | None, str, str | None]]:
    with rt.store.session() as s:
        return [(e.from_state, e.to_state, e.reason) for e in repo.events(s, job_id)]


async def running_on_alpha(rt: Runtime, spec: JobSpec = SPEC) -> tuple[int, str]:
    (job_id,) = submit(rt, spec)
    await rt.controller.step()
    (first,) = attempts(rt, job_id)
    assert first.cluster == "alpha" and first.native_id is not None
    fake(rt, "alpha").start_job(first.native_id)
    await rt.controller.step()
    assert job(rt, job_id).state == "RUNNING"
    return job_id, first.native_id


async def down_for(rt: Runtime, clock: FakeClock, name: str, seconds: float) -> None:
    """Stop a cluster answering and step the controller for ``seconds`` of fake time."""
    fake(rt, name).set_down(True)
    start = clock.now()
    while clock.now() - start < seconds:
        await rt.controller.step()
        clock.advance(min(30.0, seconds - (clock.now() - start)) or 1.0)
    await rt.controller.step()


async def bring_back(rt: Runtime, clock: FakeClock, name: str) -> None:
    fake(rt, name).set_down(False)
    clock.advance(120)  # past any backoff
    for _ in range(3):
        await rt.controller.step()


async def test_running_job_is_left_alone_while_its_cluster_is_down_within_the_grace(
    rt: Runtime, clock: FakeClock
) -> None:
    job_id, _ = await running_on_alpha(rt)
    await down_for(rt, clock, "alpha", GRACE_S - 60)
    assert rt.controller.clusters.health("alpha") == ClusterHealth.DOWN
    assert job(rt, job_id).state == "RUNNING"
    assert [(a.cluster, a.state) for a in attempts(rt, job_id)] == [("alpha", "RUNNING")]
    assert fake(rt, "beta").submitted == []


async def test_true_end_state_is_taken_from_the_cluster_when_it_returns(
    rt: Runtime, clock: FakeClock
) -> None:
    job_id, native = await running_on_alpha(rt)
    await down_for(rt, clock, "alpha", 120)
    fake(rt, "alpha").finish(native, JobState.FAILED, "3:0")  # ended while we could not see
    await down_for(rt, clock, "alpha", 120)
    assert job(rt, job_id).state == "RUNNING"
    await bring_back(rt, clock, "alpha")
    row = job(rt, job_id)
    assert (row.state, row.exit_code) == ("FAILED", "3:0")
    assert [a.state for a in attempts(rt, job_id)] == ["FAILED"]
    assert fake(rt, "beta").submitted == []


async def test_job_on_a_lost_cluster_is_requeued_with_its_attempt_recorded_as_node_fail(
    rt: Runtime, clock: FakeClock
) -> None:
    job_id, _ = await running_on_alpha(rt)
    await down_for(rt, clock, "alpha", GRACE_S + 60)
    first, second = attempts(rt, job_id)
    assert first.state == "NODE_FAIL" and first.end_time is not None
    assert (first.reason or "").startswith("lost: cluster alpha not answering for ")
    assert (second.cluster, second.state) == ("beta", "QUEUED")
    assert (second.reason or "").startswith("REQUEUED_FAILOVER: lost: cluster alpha")
    requeue = [e for e in events(rt, job_id) if e[:2] == ("RUNNING", "PENDING")]
    assert len(requeue) == 1
    assert (requeue[0][2] or "").startswith("REQUEUED_FAILOVER: lost: cluster alpha not answering")
    assert job(rt, job_id).cluster == "beta"


async def test_lost_copy_still_running_on_return_is_cancelled_there(
    rt: Runtime, clock: FakeClock
) -> None:
    job_id, native = await running_on_alpha(rt)
    await down_for(rt, clock, "alpha", GRACE_S + 60)
    await bring_back(rt, clock, "alpha")
    alpha = fake(rt, "alpha")
    assert alpha.queue.jobs[native].state is JobState.CANCELLED
    first, second = attempts(rt, job_id)
    assert first.state == "NODE_FAIL"
    assert (first.reason or "").endswith(
        "alpha answered again: it was still RUNNING, cancelled there"
    )
    assert second.cluster == "beta" and second.state == "QUEUED"
    assert len(alpha.submitted) == 1, "never submitted to alpha again"
    assert job(rt, job_id).state == "QUEUED"


async def test_lost_copy_that_had_ended_is_recorded_and_the_new_attempt_goes_on(
    rt: Runtime, clock: FakeClock
) -> None:
    job_id, native = await running_on_alpha(rt)
    await down_for(rt, clock, "alpha", GRACE_S + 60)
    fake(rt, "alpha").finish(native)
    await bring_back(rt, clock, "alpha")
    first, second = attempts(rt, job_id)
    assert first.state == "NODE_FAIL"
    assert (first.reason or "").endswith("alpha answered again: it had ended COMPLETED")
    new_native = second.native_id
    assert new_native is not None
    fake(rt, "beta").start_job(new_native)
    fake(rt, "beta").finish(new_native)
    await rt.controller.step()
    assert job(rt, job_id).state == "COMPLETED"
    assert [a.state for a in attempts(rt, job_id)] == ["NODE_FAIL", "COMPLETED"]


async def test_job_only_the_lost_cluster_can_run_waits_and_says_why(
    rt: Runtime, clock: FakeClock
) -> None:
    job_id, _ = await running_on_alpha(rt, replace(SPEC, clusters=("alpha",)))
    await down_for(rt, clock, "alpha", GRACE_S + 60)
    row = job(rt, job_id)
    assert row.state == "RUNNING"
    assert row.reason is not None and "no other cluster can run it: waiting for alpha" in row.reason
    assert [a.state for a in attempts(rt, job_id)] == ["RUNNING"]


async def test_cancel_asked_on_a_lost_cluster_ends_the_job_cancelled(
    rt: Runtime, clock: FakeClock
) -> None:
    job_id, native = await running_on_alpha(rt)
    fake(rt, "alpha").set_down(True)
    with rt.store.session() as s:
        repo.update_fields(s, repo.get_job(s, job_id), now=clock.now(), cancel_requested=True)
    await down_for(rt, clock, "alpha", GRACE_S + 60)
    row = job(rt, job_id)
    assert row.state == "CANCELLED"
    assert [a.state for a in attempts(rt, job_id)] == ["NODE_FAIL"]
    await bring_back(rt, clock, "alpha")
    assert fake(rt, "alpha").queue.jobs[native].state is JobState.CANCELLED


async def test_a_restart_counts_the_grace_again_late_never_early(
    rt: Runtime, clock: FakeClock
) -> None:
    job_id, _ = await running_on_alpha(rt)
    await down_for(rt, clock, "alpha", GRACE_S - 60)
    fresh = Runtime(rt.settings, clock=clock, adapters=rt.adapters)
    try:
        await fresh.controller.clusters.refresh()
        start = clock.now()
        while clock.now() - start < GRACE_S - 60:
            await fresh.controller.step()
            clock.advance(30)
        assert [a.state for a in attempts(fresh, job_id)] == ["RUNNING"]
        clock.advance(120)
        await fresh.controller.step()
        assert attempts(fresh, job_id)[0].state == "NODE_FAIL"
    finally:
        fresh.store.close()


def test_grace_must_not_be_negative(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        Settings(
            data_dir=tmp_path, state_dir=tmp_path, clusters=fake_configs(), lost_cluster_grace_s=-1
        )


async def test_the_third_lost_attempt_ends_the_job_node_fail(rt: Runtime, clock: FakeClock) -> None:
    job_id, _ = await running_on_alpha(rt)
    with rt.store.session() as s:  # two earlier attempts already lost under it
        for number in (2, 3):
            s.add(
                AttemptRow(
                    job_id=job_id,
                    number=number,
                    cluster="beta",
                    partition="cheap",
                    tag=rt.controller.tag_for(job_id, number),
                    native_id=None,
                    state="NODE_FAIL",
                    submit_time=clock.now(),
                )
            )
    await down_for(rt, clock, "alpha", GRACE_S + 60)
    row = job(rt, job_id)
    assert row.state == "NODE_FAIL"
    assert (row.reason or "").endswith("3 attempts lost")
    assert fake(rt, "beta").submitted == []
