"""Real jobs: states, exit codes, limits, cancellation, process tracking."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from computenet.clusters.embedded import EmbeddedCluster
from computenet.model import JobState, Signal

from .conftest import alive, request, wait_file, wait_for

pytestmark = pytest.mark.anyio


async def test_a_job_goes_queued_running_completed(cluster: EmbeddedCluster, workdir: Path) -> None:
    gate = workdir / "gate"
    nid = await cluster.submit(
        request(workdir, f"while [ ! -e {gate} ]; do sleep 0.02; done; echo hello")
    )
    first = (await cluster.status([nid]))[nid]
    assert first.state in (JobState.QUEUED, JobState.RUNNING)
    running = await wait_for(cluster, nid, lambda s: s.state is JobState.RUNNING)
    assert running.start_time is not None and running.node_list == "t-p-n1"
    gate.touch()
    done = await wait_for(cluster, nid)
    assert (done.state, done.exit_code) == (JobState.COMPLETED, "0:0")
    assert done.end_time is not None and done.end_time >= done.start_time  # type: ignore[operator]
    assert await cluster.output(nid) == b"hello\n"
    assert (workdir / f"slurm-{nid}.out").read_text() == "hello\n"
    usage = (await cluster.usage([nid]))[nid]
    assert usage.cpus == 1 and usage.elapsed_s > 0 and usage.max_rss_bytes


@pytest.mark.parametrize(
    ("command", "state", "code"),
    [
        ("exit 3", JobState.FAILED, "3:0"),
        ("kill -9 $$", JobState.FAILED, "0:9"),
        ("kill -15 $$", JobState.FAILED, "0:15"),
        ("true", JobState.COMPLETED, "0:0"),
    ],
)
async def test_exit_codes_are_slurm_code_colon_signal(
    cluster: EmbeddedCluster, workdir: Path, command: str, state: JobState, code: str
) -> None:
    nid = await cluster.submit(request(workdir, command))
    done = await wait_for(cluster, nid)
    assert (done.state, done.exit_code) == (state, code)


async def test_time_limit_sends_term_then_kill(cluster: EmbeddedCluster, workdir: Path) -> None:
    # the script survives SIGTERM, so only the SIGKILL after the grace ends it
    nid = await cluster.submit(
        request(workdir, "trap 'echo got-term' TERM; while :; do sleep 0.05; done", time_limit_s=1)
    )
    done = await wait_for(cluster, nid)
    assert (done.state, done.exit_code) == (JobState.TIMEOUT, "0:9")
    assert b"got-term" in await cluster.output(nid)
    assert done.end_time - done.start_time < 5  # type: ignore[operator]


async def test_signal_before_the_limit_reaches_the_batch_shell(
    cluster: EmbeddedCluster, workdir: Path
) -> None:
    nid = await cluster.submit(
        request(
            workdir,
            "trap 'echo got-usr1; exit 3' USR1; while :; do sleep 0.05; done",
            time_limit_s=2,
            signal=Signal("USR1", seconds_before=1, batch_only=True),
        )
    )
    done = await wait_for(cluster, nid)
    assert (done.state, done.exit_code) == (JobState.FAILED, "3:0")
    assert await cluster.output(nid) == b"got-usr1\n"


async def test_memory_over_the_limit_is_out_of_memory(
    cluster: EmbeddedCluster, workdir: Path
) -> None:
    hog = f"{sys.executable} -c 'x = bytearray(300 * 2**20); import time; time.sleep(30)'"
    nid = await cluster.submit(request(workdir, hog, mem_per_node_bytes=64 * 2**20))
    done = await wait_for(cluster, nid)
    assert (done.state, done.exit_code) == (JobState.OUT_OF_MEMORY, "0:9")
    usage = (await cluster.usage([nid]))[nid]
    assert usage.max_rss_bytes is not None and usage.max_rss_bytes > 64 * 2**20


async def test_cancel_kills_the_group_and_a_term_ignoring_child(
    cluster: EmbeddedCluster, workdir: Path
) -> None:
    script = (
        "sleep 60 & echo $! > plain.pid\n"
        "sh -c 'trap \"\" TERM; echo $$ > stubborn.pid; while :; do sleep 0.05; done' &\n"
        "setsid sh -c 'echo $$ > escaped.pid; exec sleep 60' &\n"
        "wait\n"
    )
    nid = await cluster.submit(request(workdir, script))
    pids = [int(await wait_file(workdir / f"{n}.pid")) for n in ("plain", "stubborn", "escaped")]
    assert all(alive(p) for p in pids)
    await cluster.cancel(nid)
    done = await wait_for(cluster, nid)
    assert done.state is JobState.CANCELLED
    assert not any(alive(p) for p in pids)
    await cluster.cancel(nid)  # cancelling a finished job is no error


async def test_cancel_of_a_queued_job(cluster: EmbeddedCluster, workdir: Path) -> None:
    gate = workdir / "gate"
    blocker = await cluster.submit(
        request(workdir, f"while [ ! -e {gate} ]; do sleep 0.05; done", ntasks=4, nodes=2)
    )
    await wait_for(cluster, blocker, lambda s: s.state is JobState.RUNNING)
    behind = await cluster.submit(request(workdir, "echo no", ntasks=4, nodes=2))
    queued = await wait_for(cluster, behind, lambda s: s.reason == "Resources")
    assert queued.state is JobState.QUEUED
    await cluster.cancel(behind)
    assert (await cluster.status([behind]))[behind].state is JobState.CANCELLED
    gate.touch()
    assert (await wait_for(cluster, blocker)).state is JobState.COMPLETED
    assert not (workdir / f"slurm-{behind}.out").exists()


async def test_leftover_processes_are_killed_when_the_script_ends(
    cluster: EmbeddedCluster, workdir: Path
) -> None:
    script = (
        "sleep 60 & echo $! > bg.pid\n"
        "setsid sh -c 'echo $$ > escaped.pid; exec sleep 60' &\n"
        "while [ ! -s escaped.pid ]; do sleep 0.02; done\n"
        "echo bye\n"
    )
    nid = await cluster.submit(request(workdir, script))
    done = await wait_for(cluster, nid)
    assert (done.state, done.exit_code) == (JobState.COMPLETED, "0:0")
    for name in ("bg", "escaped"):
        assert not alive(int((workdir / f"{name}.pid").read_text()))


async def test_cpu_affinity_pins_the_job(cluster: EmbeddedCluster, workdir: Path) -> None:
    host = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, host)
    except OSError:
        pytest.skip("this host does not allow setting CPU affinity")
    probe = f"{sys.executable} -c 'import os; print(*sorted(os.sched_getaffinity(0)))'"
    nid = await cluster.submit(request(workdir, probe))
    await wait_for(cluster, nid)
    cpus = [int(c) for c in (await cluster.output(nid)).split()]
    assert len(cpus) == 1 and set(cpus) <= host


async def test_a_missing_workdir_fails_the_job(cluster: EmbeddedCluster, workdir: Path) -> None:
    nid = await cluster.submit(request(workdir, "true", workdir=str(workdir / "nope")))
    done = await wait_for(cluster, nid)
    assert done.state is JobState.FAILED
    assert done.reason and "nope" in done.reason
