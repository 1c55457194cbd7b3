"""The controller moves jobs through their lifecycle over fake clusters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from computenet.clock import FakeClock
from computenet.core.controller import tag_for
from computenet.core.runtime import Runtime
from computenet.model import (
    ArraySpec,
    Dependency,
    DependencyType,
    JobSpec,
    JobState,
)
from computenet.store import jobs as repo
from tests.support.runtime import fake, reach_cluster, submit, write_unsent_attempt


def state(rt: Runtime, job_id: int) -> str:
    with rt.store.session() as s:
        return repo.get_job(s, job_id).state


async def test_job_runs_to_completion_with_events(runtime: Runtime, clock: FakeClock) -> None:
    (job_id,) = submit(runtime, JobSpec(name="j", command="sleep 10", time_limit_s=60))
    await runtime.controller.step()
    await runtime.controller.step()
    assert state(runtime, job_id) == "RUNNING"
    clock.advance(11)
    await runtime.controller.step()
    with runtime.store.session() as s:
        job = repo.get_job(s, job_id)
        assert job.state == "COMPLETED"
        assert job.exit_code == "0:0"
        assert job.start_time is not None and job.end_time is not None
        assert job.end_time - job.start_time == 10
        path = [(e.from_state, e.to_state) for e in repo.events(s, job_id)]
        attempt = repo.latest_attempt(s, job)
        assert attempt is not None and attempt.usage is not None
    assert path == [
        (None, "PENDING"),
        ("PENDING", "QUEUED"),
        ("QUEUED", "RUNNING"),
        ("RUNNING", "COMPLETED"),
    ]


async def test_failing_and_timeout_states_are_kept_apart(
    runtime: Runtime, clock: FakeClock
) -> None:
    (bad,) = submit(runtime, JobSpec(name="bad", command="exit 3", time_limit_s=60))
    (slow,) = submit(runtime, JobSpec(name="slow", command="sleep 100", time_limit_s=5))
    for _ in range(3):
        await runtime.controller.step()
    clock.advance(10)
    await runtime.controller.step()
    with runtime.store.session() as s:
        assert (repo.get_job(s, bad).state, repo.get_job(s, bad).exit_code) == ("FAILED", "3:0")
        assert repo.get_job(s, slow).state == "TIMEOUT"


async def test_crash_after_submission_adopts_instead_of_resubmitting(runtime: Runtime) -> None:
    """The attempt row was written and the cluster took the job, then the server
    died before recording the native id: the next pass must find it by tag."""
    spec = JobSpec(name="once", command="sleep 1000", time_limit_s=3600)
    (job_id,) = submit(runtime, spec)
    alpha = fake(runtime, "alpha")
    write_unsent_attempt(runtime, job_id, 1, "alpha", "cpu")
    native = await reach_cluster(runtime, job_id, 1, "alpha", "cpu", spec)
    await runtime.controller.step()
    assert len(alpha.submitted) == 1, "the job was submitted twice"
    assert fake(runtime, "beta").submitted == []
    with runtime.store.session() as s:
        attempt = repo.latest_attempt(s, repo.get_job(s, job_id))
        assert attempt is not None and attempt.native_id == native


async def test_crash_before_submission_submits_exactly_once(runtime: Runtime) -> None:
    (job_id,) = submit(runtime, JobSpec(name="x", command="sleep 1000", time_limit_s=3600))
    write_unsent_attempt(runtime, job_id, 1, "beta", "cheap")
    await runtime.controller.step()
    await runtime.controller.step()
    expected = tag_for(runtime.network_id, job_id, 1)
    assert [r.tag for r in fake(runtime, "beta").submitted] == [expected]
    assert fake(runtime, "alpha").submitted == []
    assert state(runtime, job_id) == "RUNNING"


async def test_dependency_chain_and_never_satisfied(runtime: Runtime, clock: FakeClock) -> None:
    (first,) = submit(runtime, JobSpec(name="a", command="sleep 5", time_limit_s=60))
    after = (Dependency(DependencyType.AFTEROK, (str(first),)),)
    (second,) = submit(
        runtime, JobSpec(name="b", command="exit 1", time_limit_s=60, dependency=after)
    )
    after2 = (Dependency(DependencyType.AFTEROK, (str(second),)),)
    (third,) = submit(
        runtime, JobSpec(name="c", command="true", time_limit_s=60, dependency=after2)
    )
    await runtime.controller.step()
    with runtime.store.session() as s:
        assert repo.get_job(s, second).reason == "Dependency"
    assert state(runtime, second) == "PENDING"
    clock.advance(6)
    for _ in range(4):
        await runtime.controller.step()
    assert state(runtime, first) == "COMPLETED"
    assert state(runtime, second) == "FAILED"
    with runtime.store.session() as s:
        job = repo.get_job(s, third)
        assert job.state == "CANCELLED"
        assert job.reason is not None and "DependencyNeverSatisfied" in job.reason


async def test_array_throttle_limits_running_elements(runtime: Runtime) -> None:
    spec = JobSpec(
        name="arr",
        command="sleep 100",
        time_limit_s=600,
        array=ArraySpec(tuple(range(6)), max_running=2, text="0-5%2"),
    )
    ids = submit(runtime, spec)
    assert len(ids) == 6
    for _ in range(3):
        await runtime.controller.step()
    states = [state(runtime, i) for i in ids]
    assert sum(s in ("QUEUED", "RUNNING") for s in states) == 2
    with runtime.store.session() as s:
        assert {repo.get_job(s, i).array_job_id for i in ids} == {ids[0]}
        assert [repo.get_job(s, i).array_task_id for i in ids] == list(range(6))


async def test_cancel_pending_and_running(runtime: Runtime) -> None:
    from computenet.core.service import Principal, request_cancel

    (running,) = submit(runtime, JobSpec(name="r", command="sleep 100", time_limit_s=600))
    await runtime.controller.step()
    await runtime.controller.step()
    (pending,) = submit(runtime, JobSpec(name="p", command="true", time_limit_s=60, hold=True))
    who = Principal("alice")
    with runtime.store.session() as s:
        request_cancel(s, who, str(running), runtime.clock.now())
        request_cancel(s, who, str(pending), runtime.clock.now())
    assert state(runtime, pending) == "CANCELLED"
    await runtime.controller.step()
    await runtime.controller.step()
    assert state(runtime, running) == "CANCELLED"
    with runtime.store.session() as s:
        again = request_cancel(s, who, str(running), runtime.clock.now())
    assert again[0]["changed"] is False and "already CANCELLED" in again[0]["message"]


async def test_node_fail_requeues_on_a_new_attempt(runtime: Runtime) -> None:
    (job_id,) = submit(runtime, JobSpec(name="n", command="sleep 100", time_limit_s=600))
    await runtime.controller.step()
    await runtime.controller.step()
    with runtime.store.session() as s:
        first = repo.latest_attempt(s, repo.get_job(s, job_id))
        assert first is not None and first.native_id is not None
        cluster, native = first.cluster, first.native_id
    fake(runtime, cluster).finish(native, JobState.NODE_FAIL, "0:0")
    await runtime.controller.step()
    with runtime.store.session() as s:
        job = repo.get_job(s, job_id)
        assert job.state in ("PENDING", "QUEUED", "RUNNING")
        assert any(
            e.reason and e.reason.startswith("REQUEUED_FAILOVER") for e in repo.events(s, job_id)
        )
    await runtime.controller.step()
    with runtime.store.session() as s:
        job = repo.get_job(s, job_id)
        assert job.attempt_count == 2
        assert job.state in ("QUEUED", "RUNNING")


async def test_unreachable_cluster_is_marked_down_and_avoided(runtime: Runtime) -> None:
    fake(runtime, "alpha").set_down(True)
    ids = submit(runtime, JobSpec(name="d", command="sleep 1", time_limit_s=60, cpus_per_task=1))
    for _ in range(4):
        await runtime.controller.step()
    health = runtime.controller.clusters.status["alpha"].health
    assert health.value in ("DEGRADED", "DOWN")
    with runtime.store.session() as s:
        assert repo.get_job(s, ids[0]).cluster == "beta"


async def test_two_databases_tag_the_same_job_differently(
    runtime: Runtime, clock: FakeClock, tmp_path: Path
) -> None:
    """Two networks sharing a cluster must never adopt each other's jobs."""
    from computenet.config import Settings

    other = Runtime(
        Settings(
            data_dir=tmp_path / "other-data",
            state_dir=tmp_path / "other-state",
            clusters=runtime.settings.clusters,
            token="cn_test_token",
        ),
        clock=clock,
        adapters=runtime.adapters,
    )
    try:
        await other.controller.clusters.refresh()
        spec = JobSpec(name="same", command="sleep 100", time_limit_s=600, clusters=("alpha",))
        assert submit(runtime, spec) == submit(other, spec) == [1]
        await runtime.controller.step()
        await other.controller.step()
        tags = [r.tag for r in fake(runtime, "alpha").submitted]
        assert len(tags) == 2 and tags[0] != tags[1]
        assert tags[0] == tag_for(runtime.network_id, 1, 1)
        assert tags[1] == tag_for(other.network_id, 1, 1)
        assert len({runtime.network_id, other.network_id}) == 2
        assert all(len(n) == 8 and int(n, 16) >= 0 for n in (runtime.network_id, other.network_id))
    finally:
        other.store.close()


async def test_the_network_id_is_kept_across_restarts(runtime: Runtime, clock: FakeClock) -> None:
    again = Runtime(runtime.settings, clock=clock, adapters=runtime.adapters)
    try:
        assert again.network_id == runtime.network_id == runtime.controller.network_id
    finally:
        again.store.close()


async def test_local_first_stays_home_until_bursting_pays(
    runtime: Runtime, clock: FakeClock
) -> None:
    """beta is the home cluster: local-first keeps a job there although alpha
    would finish sooner, until beta's predicted wait passes the threshold."""
    runtime.controller.clusters.home = "beta"
    (first,) = submit(
        runtime,
        JobSpec(name="h1", command="sleep 3000", time_limit_s=3600, ntasks=4, policy="local-first"),
    )
    await runtime.controller.step()
    with runtime.store.session() as s:
        assert repo.get_job(s, first).cluster == "beta"
    # beta is now full for an hour: the next job bursts to alpha.
    await runtime.controller.step()
    (second,) = submit(
        runtime,
        JobSpec(name="h2", command="sleep 10", time_limit_s=600, ntasks=4, policy="local-first"),
    )
    await runtime.controller.step()
    with runtime.store.session() as s:
        job = repo.get_job(s, second)
        assert job.cluster == "alpha"
        assert job.placement is not None and job.placement["policy"] == "local-first"


async def test_cancels_sent_are_forgotten_once_their_jobs_end(runtime: Runtime) -> None:
    from computenet.core.service import Principal, request_cancel

    ids = [
        submit(runtime, JobSpec(name=f"r{i}", command="sleep 100", time_limit_s=600))[0]
        for i in range(3)
    ]
    await runtime.controller.step()
    await runtime.controller.step()
    with runtime.store.session() as s:
        for job_id in ids:
            request_cancel(s, Principal("alice"), str(job_id), runtime.clock.now())
    await runtime.controller.step()
    assert len(runtime.controller._cancel_sent) == 3  # sent, not yet seen ended
    await runtime.controller.step()
    await runtime.controller.step()
    assert [state(runtime, i) for i in ids] == ["CANCELLED"] * 3
    assert runtime.controller._cancel_sent == set()


async def test_cancelling_an_array_keeps_every_element_when_one_moved_meanwhile(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The controller moving one element between the API's read and its write
    must not undo the cancel of the elements before it."""
    from computenet.core import service

    spec = JobSpec(
        name="a", command="sleep 100", time_limit_s=600, array=ArraySpec((0, 1, 2, 3), text="0-3")
    )
    ids = submit(runtime, spec)
    await runtime.controller.step()
    await runtime.controller.step()
    moved: list[int] = []
    real_may_change = service.may_change

    def move_one_first(job: Any, who: Any, asked: str | None = None) -> None:
        if not moved:  # after the API read them all, another writer bumps one
            with runtime.store.session() as other:
                row = repo.get_job(other, ids[2])
                repo.update_fields(other, row, now=runtime.clock.now(), reason="moved")
            moved.append(ids[2])
        real_may_change(job, who, asked)

    monkeypatch.setattr(service, "may_change", move_one_first)
    with runtime.store.session() as s:
        results = service.request_cancel(
            s, service.Principal("alice"), str(ids[0]), runtime.clock.now()
        )
    assert moved == [ids[2]]
    assert [r["changed"] for r in results] == [True] * 4
    with runtime.store.session() as s:
        assert all(repo.get_job(s, i).cancel_requested for i in ids)
    await runtime.controller.step()
    await runtime.controller.step()
    assert [state(runtime, i) for i in ids] == ["CANCELLED"] * 4
