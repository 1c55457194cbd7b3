"""The queue: backfill order, admission limits, features, snapshots, restarts."""

from __future__ import annotations

from pathlib import Path

import pytest

from computenet.clusters.base import FEATURES
from computenet.clusters.embedded import EmbeddedCluster
from computenet.errors import ClusterError, SpecError
from computenet.model import JobState

from .conftest import make_config, new_cluster, request, wait_file, wait_for

pytestmark = pytest.mark.anyio


async def _start_order(scheduler: str, tmp_path: Path, workdir: Path) -> list[str]:
    """One 2-CPU node: a 1-CPU job runs, a 2-CPU job waits; does a short job backfill?"""
    cluster = new_cluster(tmp_path / scheduler, make_config(scheduler, nodes=1))
    await cluster.start()
    try:
        first = await cluster.submit(request(workdir, "sleep 1", time_limit_s=10))
        await wait_for(cluster, first, lambda s: s.state is JobState.RUNNING)
        wide = await cluster.submit(request(workdir, "true", ntasks=2, time_limit_s=10))
        short = await cluster.submit(request(workdir, "true", time_limit_s=5))
        ends = {nid: await wait_for(cluster, nid) for nid in (first, wide, short)}
    finally:
        await cluster.close()
    names = {first: "first", wide: "wide", short: "short"}
    return [names[n] for n in sorted(ends, key=lambda n: ends[n].start_time or 0)]


async def test_easy_backfills_a_short_job_past_the_blocked_head(
    tmp_path: Path, workdir: Path
) -> None:
    assert await _start_order("easy", tmp_path, workdir) == ["first", "short", "wide"]


async def test_fcfs_never_skips_the_head(tmp_path: Path, workdir: Path) -> None:
    assert await _start_order("fcfs", tmp_path, workdir) == ["first", "wide", "short"]


async def test_requests_beyond_the_partition_are_refused(tmp_path: Path, workdir: Path) -> None:
    cluster = new_cluster(tmp_path / "s", make_config(max_time_s=60))
    with pytest.raises(ClusterError, match="over the 60 s limit") as over_time:
        await cluster.submit(request(workdir, "true", time_limit_s=120))
    assert over_time.value.transient is False
    with pytest.raises(ClusterError, match="cannot run this job even when empty"):
        await cluster.submit(request(workdir, "true", ntasks=5))
    with pytest.raises(ClusterError, match="cannot run this job even when empty"):
        await cluster.submit(request(workdir, "true", nodes=3))
    with pytest.raises(ClusterError, match="no partition 'gpu'"):
        await cluster.submit(request(workdir, "true", partition="gpu"))
    with pytest.raises(ClusterError, match="GPU"):
        await cluster.submit(request(workdir, "true", gpus=1, gpu_type="a100"))
    with pytest.raises(SpecError, match="#!"):
        await cluster.submit(request(workdir, script="echo no shebang"))
    assert (await cluster.snapshot()).pending == ()
    await cluster.close()


async def test_features_name_every_feature(cluster: EmbeddedCluster) -> None:
    features = cluster.features()
    assert set(features) == set(FEATURES)
    assert features["arrays"] is None and features["cpu_mode_smt"] is None
    assert features["reservation"]  # unsupported, with a reason
    info = await cluster.info()
    assert info.name == "t" and info.partitions[0].nodes == 2


async def test_snapshot_shows_nodes_running_and_pending(
    cluster: EmbeddedCluster, workdir: Path
) -> None:
    gate = workdir / "gate"
    hold = f"while [ ! -e {gate} ]; do sleep 0.05; done"
    running = await cluster.submit(request(workdir, hold, ntasks=3, time_limit_s=30))
    await wait_for(cluster, running, lambda s: s.state is JobState.RUNNING)
    waiting = await cluster.submit(request(workdir, "true", ntasks=2, time_limit_s=30))
    snap = await cluster.snapshot()
    assert [(n.name, n.cpus, n.cpus_alloc, n.state) for n in snap.nodes] == [
        ("t-p-n1", 2, 2, "allocated"),
        ("t-p-n2", 2, 1, "mixed"),
    ]
    assert [(j.native_id, j.cpus, j.nodes, j.time_limit_s) for j in snap.running] == [
        (running, 3, 2, 30)
    ]
    assert snap.running[0].start_time is not None
    assert [(j.native_id, j.cpus) for j in snap.pending] == [(waiting, 2)]
    assert snap.free_cpus() == 1
    gate.touch()
    await wait_for(cluster, waiting)


async def test_resubmitting_a_tag_returns_the_same_job(
    cluster: EmbeddedCluster, workdir: Path
) -> None:
    first = await cluster.submit(request(workdir, "true", tag="net-1/1"))
    again = await cluster.submit(request(workdir, "true", tag="net-1/1"))
    assert first == again
    assert await cluster.find("net-1/1") == first
    assert await cluster.find("net-9/1") is None


async def test_a_restart_loses_nothing(tmp_path: Path, workdir: Path) -> None:
    state = tmp_path / "state"
    gate = workdir / "gate"
    before = new_cluster(state)
    await before.start()
    running = await before.submit(
        request(
            workdir,
            f"echo started > started; while [ ! -e {gate} ]; do sleep 0.05; done; echo done",
            ntasks=4,
            nodes=2,
            tag="run",
        )
    )
    await wait_file(workdir / "started")
    queued = await before.submit(request(workdir, "echo later", tag="queued"))
    finished_while_down = await before.submit(request(workdir, "echo quick", tag="quick"))
    await before.close()  # the server stops; the job keeps running

    after = new_cluster(state)
    assert await after.find("run") == running and await after.find("queued") == queued
    assert (await after.status([running]))[running].state is JobState.RUNNING
    assert (await after.status([queued]))[queued].state is JobState.QUEUED
    await after.start()
    gate.touch()
    done = await wait_for(after, running)
    assert (done.state, done.exit_code) == (JobState.COMPLETED, "0:0")
    assert await after.output(running) == b"done\n"
    assert (await wait_for(after, queued)).state is JobState.COMPLETED
    assert (await wait_for(after, finished_while_down)).state is JobState.COMPLETED
    fresh = await after.submit(request(workdir, "true"))
    assert int(fresh) > int(finished_while_down)  # ids are never reused
    await after.close()


async def test_a_job_that_ended_while_the_server_was_down(tmp_path: Path, workdir: Path) -> None:
    state = tmp_path / "state"
    before = new_cluster(state)
    await before.start()
    gate = workdir / "gate"
    nid = await before.submit(
        request(workdir, f"while [ ! -e {gate} ]; do sleep 0.02; done; exit 4")
    )
    await wait_for(before, nid, lambda s: s.state is JobState.RUNNING)
    await before.close()
    gate.touch()
    await wait_file(state / "jobs" / nid / "status.json")
    after = new_cluster(state)
    status = (await after.status([nid]))[nid]
    assert (status.state, status.exit_code) == (JobState.FAILED, "4:0")
    await after.close()
