"""--hedge K: K copies on the K best clusters, the first to start is kept,
the others are cancelled, and the waste is reported."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from computenet.clock import FakeClock
from computenet.config import ClusterConfig, PartitionConfig
from computenet.core.controller import tag_for
from computenet.core.runtime import Runtime
from computenet.core.service import Principal, request_cancel
from computenet.model import JobSpec, JobState
from computenet.store import jobs as repo
from computenet.store.tables import AttemptRow
from tests.support.clusters import fake_configs
from tests.support.runtime import (
    attempts,
    fake,
    fake_runtime,
    job,
    reach_cluster,
    write_unsent_attempt,
)

SPEC = JobSpec(name="h", command="sleep 100", time_limit_s=600, cpus_per_task=2, hedge=2)


def three_clusters() -> list[ClusterConfig]:
    gamma = ClusterConfig(
        name="gamma",
        kind="fake",
        partitions=[PartitionConfig(name="p", nodes=1, cores=4, default=True, speed=0.25)],
    )
    return [*fake_configs(), gamma]


@pytest.fixture
async def rt(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Runtime]:
    async with fake_runtime(tmp_path, clock, three_clusters(), auto=False) as runtime:
        yield runtime


def submit(rt: Runtime, spec: JobSpec = SPEC) -> int:
    with rt.store.session() as s:
        return repo.create_jobs(s, [repo.NewJob(spec, "alice", "proj")], rt.clock.now())[0].id


def state_at(rt: Runtime, a: AttemptRow) -> JobState:
    assert a.native_id is not None
    return fake(rt, a.cluster).queue.jobs[a.native_id].state


async def test_hedge_submits_to_the_k_best_clusters_with_distinct_tags(rt: Runtime) -> None:
    job_id = submit(rt, replace(SPEC, hedge=3))
    await rt.controller.step()
    copies = attempts(rt, job_id)
    assert [a.number for a in copies] == [1, 2, 3]
    assert {a.cluster for a in copies} == {"alpha", "beta", "gamma"}
    assert len({a.tag for a in copies}) == 3
    assert all(a.state == "QUEUED" and a.native_id for a in copies)
    row = job(rt, job_id)
    assert row.state == "QUEUED"
    assert row.placement is not None
    assert row.cluster == row.placement["chosen"] == copies[0].cluster
    assert [c["cluster"] for c in row.placement["hedge"]["copies"]] == [a.cluster for a in copies]


async def test_hedge_never_asks_more_clusters_than_can_run_it(rt: Runtime) -> None:
    job_id = submit(rt, replace(SPEC, hedge=3, nodes=2))  # only alpha has two nodes
    await rt.controller.step()
    assert [a.cluster for a in attempts(rt, job_id)] == ["alpha"]


async def test_first_copy_to_start_is_kept_and_the_other_cancelled(
    rt: Runtime, clock: FakeClock
) -> None:
    job_id = submit(rt)
    await rt.controller.step()
    first, second = attempts(rt, job_id)
    assert first.cluster == "alpha"
    assert second.native_id is not None
    fake(rt, second.cluster).start_job(second.native_id)
    clock.advance(3)
    await rt.controller.step()
    first, second = attempts(rt, job_id)
    row = job(rt, job_id)
    assert (row.state, row.cluster, row.attempt_count) == ("RUNNING", second.cluster, 2)
    assert first.state == "CANCELLED" and state_at(rt, first) is JobState.CANCELLED
    assert "attempt 2 on" in (first.reason or "") and "wasted" not in (first.reason or "")
    assert second.state == "RUNNING"
    with rt.store.session() as s:
        path = [(e.from_state, e.to_state, e.attempt) for e in repo.events(s, job_id)]
    assert ("QUEUED", "RUNNING", 2) in path


async def test_copies_that_both_started_keep_the_earlier_and_count_the_waste(
    rt: Runtime, clock: FakeClock
) -> None:
    job_id = submit(rt)
    await rt.controller.step()
    first, second = attempts(rt, job_id)
    assert first.native_id and second.native_id
    fake(rt, second.cluster).start_job(second.native_id)
    clock.advance(4)
    fake(rt, first.cluster).start_job(first.native_id)
    clock.advance(6)
    await rt.controller.step()
    first, second = attempts(rt, job_id)
    assert (first.state, second.state) == ("CANCELLED", "RUNNING")
    assert "wasted 12 core-s" in (first.reason or "")  # 2 CPUs x 6 s
    row = job(rt, job_id)
    assert row.placement is not None and row.placement["wasted_core_s"] == pytest.approx(12)
    assert "wasted 12 core-s" in row.placement["reason"]


async def test_the_kept_copy_finishing_ends_the_job_and_no_copy_is_left(
    rt: Runtime, clock: FakeClock
) -> None:
    job_id = submit(rt, replace(SPEC, hedge=3))
    await rt.controller.step()
    copies = attempts(rt, job_id)
    winner = copies[2]
    assert winner.native_id is not None
    fake(rt, winner.cluster).start_job(winner.native_id)
    fake(rt, winner.cluster).finish(winner.native_id)
    await rt.controller.step()
    assert job(rt, job_id).state == "COMPLETED"
    assert [a.state for a in attempts(rt, job_id)] == ["CANCELLED", "CANCELLED", "COMPLETED"]
    assert all(state_at(rt, a) is not JobState.QUEUED for a in attempts(rt, job_id))


async def test_cancel_of_a_hedged_job_cancels_every_copy(rt: Runtime) -> None:
    job_id = submit(rt)
    await rt.controller.step()
    with rt.store.session() as s:
        request_cancel(s, Principal("alice"), str(job_id), rt.clock.now())
    await rt.controller.step()
    await rt.controller.step()
    assert job(rt, job_id).state == "CANCELLED"
    assert all(state_at(rt, a) is JobState.CANCELLED for a in attempts(rt, job_id))


async def test_crash_between_two_copies_submits_the_second_once(rt: Runtime) -> None:
    """Both attempt rows were written, the first copy was confirmed, the
    second reached its cluster but the server died before recording it."""
    job_id = submit(rt)
    write_unsent_attempt(rt, job_id, 1, "alpha", "cpu")
    write_unsent_attempt(rt, job_id, 2, "beta", "cheap", current=False)
    await reach_cluster(rt, job_id, 2, "beta", "cheap", SPEC)
    await rt.controller.step()
    await rt.controller.step()
    assert [r.tag for r in fake(rt, "alpha").submitted] == [tag_for(rt.network_id, job_id, 1)]
    assert [r.tag for r in fake(rt, "beta").submitted] == [tag_for(rt.network_id, job_id, 2)]
    assert [a.state for a in attempts(rt, job_id)] == ["QUEUED", "QUEUED"]
    assert job(rt, job_id).state == "QUEUED"


async def test_crash_before_the_second_copy_reached_its_cluster_submits_it(rt: Runtime) -> None:
    job_id = submit(rt)
    await rt.controller.step()
    second = attempts(rt, job_id)[1]
    with rt.store.session() as s:  # as if the server died right after writing the row
        row = s.get(AttemptRow, second.id)
        assert row is not None
        row.native_id, row.state = None, "PENDING"
    fake(rt, second.cluster).queue.jobs.clear()
    fake(rt, second.cluster).submitted.clear()
    await rt.controller.step()
    expected = tag_for(rt.network_id, job_id, 2)
    assert [r.tag for r in fake(rt, second.cluster).submitted] == [expected]
    assert attempts(rt, job_id)[1].state == "QUEUED"


async def test_a_refused_first_copy_hands_the_job_to_the_next(rt: Runtime) -> None:
    from computenet.errors import ClusterError

    fake(rt, "alpha").fail_next_submit(ClusterError("sbatch: error: account not allowed"))
    job_id = submit(rt)
    await rt.controller.step()
    first, second = attempts(rt, job_id)
    assert first.state == "FAILED" and second.state == "QUEUED"
    row = job(rt, job_id)
    assert (row.state, row.attempt_count, row.cluster) == ("QUEUED", 2, second.cluster)
