"""What any cluster must do: the same suite for every adapter."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable

import anyio
import pytest

from computenet.model import AttemptRequest, AttemptStatus, JobSpec, JobState

from .conftest import Harness

pytestmark = pytest.mark.anyio


def _request(
    h: Harness, command: str, *, array_task_id: int | None = None, **spec: object
) -> AttemptRequest:
    tag = f"job-{uuid.uuid4().hex[:12]}.1"
    return AttemptRequest(
        tag=tag,
        job_id=tag,
        attempt=1,
        partition=None,
        owner="contract",
        array_task_id=array_task_id,
        array_job_id=None if array_task_id is None else tag,
        spec=JobSpec(name="contract", command=command, workdir=h.workdir, **spec),
    )  # type: ignore[arg-type]


async def _wait(
    h: Harness, native_id: str, states: Iterable[JobState], timeout_s: float | None = None
) -> AttemptStatus:
    wanted = set(states)
    deadline = time.monotonic() + (timeout_s or h.max_wait_s)
    last: AttemptStatus | None = None
    while time.monotonic() < deadline:
        last = (await h.adapter.status([native_id])).get(native_id)
        if last is not None and (last.state in wanted or last.state.terminal):
            return last
        await anyio.sleep(h.poll_s)
    raise AssertionError(f"{h.kind}: job {native_id} still {last} after waiting")


async def test_job_runs_to_completed_with_times(cluster: Harness) -> None:
    nid = await cluster.adapter.submit(_request(cluster, "echo hello"))
    st = await _wait(cluster, nid, [JobState.COMPLETED])
    assert (st.state, st.exit_code) == (JobState.COMPLETED, "0:0")
    assert st.start_time is not None and st.end_time is not None
    assert st.end_time >= st.start_time


async def test_failing_job_reports_its_exit_code(cluster: Harness) -> None:
    nid = await cluster.adapter.submit(_request(cluster, "exit 3"))
    st = await _wait(cluster, nid, [JobState.FAILED])
    assert (st.state, st.exit_code) == (JobState.FAILED, "3:0")


async def test_cancel_running_job(cluster: Harness) -> None:
    nid = await cluster.adapter.submit(_request(cluster, "sleep 300"))
    assert (await _wait(cluster, nid, [JobState.RUNNING])).state is JobState.RUNNING
    await cluster.adapter.cancel(nid)
    st = await _wait(cluster, nid, [JobState.CANCELLED])
    assert st.state is JobState.CANCELLED


async def test_cancel_of_finished_job_is_not_an_error(cluster: Harness) -> None:
    nid = await cluster.adapter.submit(_request(cluster, "true"))
    await _wait(cluster, nid, [JobState.COMPLETED])
    await cluster.adapter.cancel(nid)
    assert (await cluster.adapter.status([nid]))[nid].state is JobState.COMPLETED


@pytest.mark.slow
async def test_time_limit_ends_as_timeout(cluster: Harness) -> None:
    req = _request(cluster, "sleep 600", time_limit_s=cluster.short_limit_s)
    nid = await cluster.adapter.submit(req)
    st = await _wait(cluster, nid, [JobState.TIMEOUT], cluster.short_limit_s * 2 + 60)
    assert st.state is JobState.TIMEOUT


async def test_array_element_sees_its_task_id(cluster: Harness) -> None:
    nid = await cluster.adapter.submit(
        _request(cluster, "echo task=$SLURM_ARRAY_TASK_ID", array_task_id=5)
    )
    assert (await _wait(cluster, nid, [JobState.COMPLETED])).state is JobState.COMPLETED
    assert (await cluster.adapter.output(nid)).strip() == b"task=5"


async def test_output_with_offset_and_awkward_environment(cluster: Harness) -> None:
    weird = "a 'b' \"c\" $(date) `id` ; & | x\nsecond line end"
    nid = await cluster.adapter.submit(
        _request(cluster, 'echo "$WEIRD"', environment={"WEIRD": weird})
    )
    assert (await _wait(cluster, nid, [JobState.COMPLETED])).state is JobState.COMPLETED
    out = await cluster.adapter.output(nid)
    assert out == weird.encode() + b"\n"
    assert await cluster.adapter.output(nid, offset=2, limit=3) == out[2:5]


async def test_usage_after_end(cluster: Harness) -> None:
    nid = await cluster.adapter.submit(_request(cluster, "sleep 1", ntasks=2))
    assert (await _wait(cluster, nid, [JobState.COMPLETED])).state is JobState.COMPLETED
    use = (await cluster.adapter.usage([nid]))[nid]
    assert use.cpus >= 2 and use.nodes >= 1
    assert 0.5 <= use.elapsed_s <= 30


async def test_snapshot_shows_nodes_and_the_running_job(cluster: Harness) -> None:
    nid = await cluster.adapter.submit(_request(cluster, "sleep 300"))
    try:
        await _wait(cluster, nid, [JobState.RUNNING])
        snap = await cluster.adapter.snapshot()
        assert snap.nodes and all(n.cpus > 0 for n in snap.nodes)
        assert nid in {j.native_id for j in snap.running}
        assert snap.free_cpus() < sum(n.cpus for n in snap.nodes)
        info = await cluster.adapter.info()
        assert info.partitions and info.partition(None) is not None
    finally:
        await cluster.adapter.cancel(nid)


async def test_find_by_tag(cluster: Harness) -> None:
    req = _request(cluster, "true")
    nid = await cluster.adapter.submit(req)
    assert await cluster.adapter.find(req.tag) == nid
    assert await cluster.adapter.find(f"job-{uuid.uuid4().hex}.1") is None


async def test_unknown_ids_are_left_out_of_status(cluster: Harness) -> None:
    nid = await cluster.adapter.submit(_request(cluster, "true"))
    got = await cluster.adapter.status([nid, "987654321"])
    assert nid in got and "987654321" not in got


async def test_features_name_every_feature(cluster: Harness) -> None:
    from computenet.clusters.base import FEATURES

    feats = cluster.adapter.features()
    assert set(feats) == set(FEATURES)
    assert all(v is None or (isinstance(v, str) and v) for v in feats.values())
