"""FakeCluster: hand-driven and clock-driven job progress."""

from __future__ import annotations

import pytest

from computenet.clock import FakeClock
from computenet.clusters.fake import FakeCluster
from computenet.errors import ClusterError, ClusterUnavailable, NotFoundError
from computenet.model import (
    AttemptRequest,
    ClusterInfo,
    JobSpec,
    JobState,
    NodeType,
    PartitionInfo,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _info(nodes: int = 2, cores: int = 4) -> ClusterInfo:
    part = PartitionInfo(
        name="debug", node_type=NodeType(cores=cores), nodes=nodes, default=True, max_time_s=3600
    )
    return ClusterInfo(name="f1", kind="fake", partitions=(part,))


def _req(command: str, tag: str = "t1", **spec: object) -> AttemptRequest:
    return AttemptRequest(
        tag=tag,
        job_id="j1",
        attempt=1,
        spec=JobSpec(command=command, **spec),  # type: ignore[arg-type]
        partition=None,
        owner="alice",
    )


async def test_sleep_then_complete_follows_the_clock() -> None:
    clock = FakeClock()
    fc = FakeCluster(_info(), clock)
    nid = await fc.submit(_req("sleep 10"))
    assert (await fc.status([nid]))[nid].state is JobState.RUNNING
    clock.advance(9.5)
    assert (await fc.status([nid]))[nid].state is JobState.RUNNING
    clock.advance(1)
    st = (await fc.status([nid]))[nid]
    assert st.state is JobState.COMPLETED
    assert st.exit_code == "0:0"
    assert st.end_time is not None and st.start_time is not None
    assert st.end_time - st.start_time == pytest.approx(10)


async def test_exit_code_and_oom_and_timeout() -> None:
    clock = FakeClock()
    fc = FakeCluster(_info(), clock)
    failed = await fc.submit(_req("sleep 1; exit 3"))
    oom = await fc.submit(_req("oom", tag="t2"))
    slow = await fc.submit(_req("sleep 100", tag="t3", time_limit_s=60))
    clock.advance(61)
    got = await fc.status([failed, oom, slow])
    assert (got[failed].state, got[failed].exit_code) == (JobState.FAILED, "3:0")
    assert got[oom].state is JobState.OUT_OF_MEMORY
    assert got[slow].state is JobState.TIMEOUT
    assert got[slow].end_time == pytest.approx(clock.now() - 1)


async def test_queue_waits_for_cpus_and_replays_in_time_order() -> None:
    clock = FakeClock()
    fc = FakeCluster(_info(nodes=1, cores=4), clock)
    first = await fc.submit(_req("sleep 10", ntasks=4))
    second = await fc.submit(_req("sleep 5", tag="t2", ntasks=4))
    got = await fc.status([first, second])
    assert got[second].state is JobState.QUEUED
    assert got[second].reason == "Resources"
    snap = await fc.snapshot()
    assert [j.native_id for j in snap.pending] == [second]
    assert snap.free_cpus() == 0
    clock.advance(100)  # one jump: second must start at t=10 and end at t=15
    got = await fc.status([first, second])
    assert got[second].state is JobState.COMPLETED
    assert got[second].start_time == pytest.approx(got[first].end_time)
    assert got[second].end_time == pytest.approx(clock.now() - 85)


async def test_manual_mode_moves_only_by_hand() -> None:
    clock = FakeClock()
    fc = FakeCluster(_info(), clock, auto=False)
    nid = await fc.submit(_req("sleep 1"))
    clock.advance(100)
    assert (await fc.status([nid]))[nid].state is JobState.QUEUED
    fc.start_job(nid)
    assert (await fc.status([nid]))[nid].state is JobState.RUNNING
    fc.finish(nid, JobState.NODE_FAIL, "0:0")
    st = (await fc.status([nid]))[nid]
    assert st.state is JobState.NODE_FAIL
    with pytest.raises(ClusterError):
        fc.finish(nid)


async def test_down_cluster_raises_transient_error() -> None:
    fc = FakeCluster(_info(), FakeClock())
    fc.set_down(True)
    with pytest.raises(ClusterUnavailable) as info:
        await fc.submit(_req("true"))
    assert info.value.transient
    with pytest.raises(ClusterUnavailable):
        await fc.status(["1"])
    fc.set_down(False)
    assert await fc.submit(_req("true"))


async def test_submit_rejections_and_one_shot_error() -> None:
    fc = FakeCluster(_info(), FakeClock())
    with pytest.raises(ClusterError, match="invalid partition"):
        await fc.submit(_req("true", partition="nope"))
    with pytest.raises(ClusterError, match="node configuration"):
        await fc.submit(_req("true", ntasks=64))
    fc.fail_next_submit(ClusterUnavailable("lost"))
    with pytest.raises(ClusterUnavailable):
        await fc.submit(_req("true"))
    assert await fc.submit(_req("true"))
    assert len(fc.submitted) == 1


async def test_cancel_find_output_usage_and_forget() -> None:
    clock = FakeClock()
    fc = FakeCluster(_info(), clock)
    req = AttemptRequest(
        tag="job-7.1",
        job_id="7",
        attempt=1,
        partition=None,
        owner="a",
        array_task_id=5,
        array_job_id="77",
        spec=JobSpec(
            command="echo task=$SLURM_ARRAY_TASK_ID ${GREETING}",
            environment={"GREETING": "hi there"},
        ),
    )
    nid = await fc.submit(req)
    assert await fc.find("job-7.1") == nid
    assert await fc.find("job-8.1") is None
    assert await fc.output(nid) == b"task=5 hi there\n"
    assert await fc.output(nid, offset=5, limit=1) == b"5"
    assert (await fc.status([nid]))[nid].state is JobState.COMPLETED
    await fc.cancel(nid)  # finished: not an error
    assert (await fc.status([nid]))[nid].state is JobState.COMPLETED
    long = await fc.submit(_req("sleep infinity", tag="t9", ntasks=2))
    clock.advance(30)
    use = (await fc.usage([long]))[long]
    assert (use.elapsed_s, use.cpus, use.core_seconds) == (30, 2, 60)
    await fc.cancel(long)
    st = (await fc.status([long]))[long]
    assert (st.state, st.exit_code) == (JobState.CANCELLED, "0:15")
    fc.forget(long)
    assert await fc.status([long]) == {}
    with pytest.raises(NotFoundError):
        await fc.cancel("999999")


async def test_features_name_a_reason_when_unsupported() -> None:
    feats = FakeCluster(_info()).features()
    assert feats["arrays"] is None
    assert isinstance(feats["mpi"], str) and feats["mpi"]
