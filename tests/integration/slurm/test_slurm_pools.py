"""Slurm's own power saving driving a computenet pool, for real.

A dev cluster with a ``cloud`` partition of ``State=CLOUD`` nodes whose
ResumeProgram and SuspendProgram are computenet's (``cnet pool resume|suspend``
through dev-slurm's wrappers). A job sent there makes slurmctld call the
resume program; the server's local provider starts the node's slurmd after
the boot delay; the job runs and completes; the node idles past
SuspendTime, slurmctld calls the suspend program, the slurmd stops and the
node is powered down again.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.dev_slurm import dev_slurm
from tests.support.live import TOKEN
from tests.support.sshd import need

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SUSPEND_TIME_S = 5


@pytest.fixture(scope="module")
def cloud_cluster() -> Iterator[tuple[Path, str]]:
    need("slurmctld")
    args = ("--prefix", "pl", "--nodes", "1", "--cloud-nodes", "2")
    timing = ("--suspend-time", str(SUSPEND_TIME_S), "--resume-timeout", "60")
    with dev_slurm("cn-it-pool-", *args, *timing) as (root, out):
        yield root, out.strip().splitlines()[0]


def sinfo(conf: str, node: str) -> str:
    out = subprocess.run(
        ["sinfo", "-h", "-N", "-n", node, "-o", "%t"],
        env=dict(os.environ, SLURM_CONF=conf),
        capture_output=True,
        text=True,
        timeout=30,
    )
    return out.stdout.strip()


def wait_for(
    what: str, check: Callable[[], Any], timeout_s: float, why: Callable[[], str] = str
) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}: {why()}")
        time.sleep(0.5)


def test_a_job_to_the_cloud_partition_resumes_runs_and_suspends_a_node(
    cloud_cluster: tuple[Path, str], tmp_path: Path, make_live_server: Any
) -> None:
    from computenet.config import ClusterConfig, PartitionConfig, PoolConfig, Settings

    root, conf = cloud_cluster
    settings = Settings(
        data_dir=tmp_path / "data",
        state_dir=tmp_path / "state",
        token=TOKEN,
        controller_interval_s=0.2,
        clusters=[
            ClusterConfig(
                name="pl1",
                kind="slurm",
                slurm_conf=conf,
                partitions=[
                    PartitionConfig(name="debug", nodes=1, cores=4, default=True),
                    PartitionConfig(name="cloud", nodes=2, cores=4),
                ],
                pools=[
                    PoolConfig(
                        name="plcloud",
                        partition="cloud",
                        nodes="pl1c[1-2]",
                        boot_delay_s=1.0,
                        price_per_node_hour=0.5,
                        idle_release_s=SUSPEND_TIME_S,
                        resume_timeout_s=60,
                    ),
                ],
            )
        ],
    )
    server = make_live_server(settings)
    env_file = root / "pl1" / "pool.env"
    env_file.write_text(f"export CN_SERVER_URL={server.url}\nexport CN_TOKEN={TOKEN}\n")
    env_file.chmod(0o600)
    client = server.client()
    t0 = time.monotonic()
    job = client.submit(
        script="#!/bin/sh\nhostname\necho ran on $SLURMD_NODENAME\n",
        options=["-p", "cloud", "-n", "1", "-t", "5"],
    )
    done = client.wait(job["id"], timeout_s=150)
    ran_s = time.monotonic() - t0
    assert done["state"] == "COMPLETED", done
    placed = client.placement(job["id"])
    assert placed["partition"] == "cloud"
    assert "grows 1 node" in placed["reason"]
    out = client.logs(job["id"])
    assert "ran on pl1c1" in str(out)
    events = client.pool_events("plcloud")
    kinds = [e["kind"] for e in events]
    # computenet powered the node up itself and sent the job once it was idle
    assert kinds[:2] == ["grow", "up"], events
    assert "powers pl1c1 up" in events[0]["message"], events
    assert "resumed: pl1c1" in (root / "pl1" / "pool-programs.log").read_text()
    # the node idles past SuspendTime: slurmctld suspends it, its slurmd stops
    programs = root / "pl1" / "pool-programs.log"

    def story() -> str:
        events = [(e["kind"], e["message"]) for e in client.pool_events("plcloud")]
        log = programs.read_text() if programs.exists() else "(no log)"
        return f"events {events}; programs: {log[-2000:]}; node {sinfo(conf, 'pl1c1')}"

    wait_for(
        "the suspend event",
        lambda: "suspend" in [e["kind"] for e in client.pool_events("plcloud")],
        90,
        story,
    )
    pidfile = root / "pl1" / "slurmd-pl1c1.pid"
    wait_for("slurmd of pl1c1 to stop", lambda: not _alive(pidfile), 20)
    wait_for("pl1c1 powered down", lambda: sinfo(conf, "pl1c1") == "idle~", 60)
    (pool,) = client.pools()
    assert pool["up"] == 0 and pool["booting"] == 0 and pool["cost"] > 0
    log = (root / "pl1" / "pool-programs.log").read_text()
    assert "suspended: pl1c1" in log
    print(f"job done {ran_s:.1f} s after submission")

    # A job sent to the partition from outside computenet: Slurm's own power-up
    # path (slurmctld calls the resume program for it) still starts a node.
    before = len(client.pool_events("plcloud"))
    out = subprocess.run(
        ["sbatch", "--parsable", "-p", "cloud", "-n", "1", "-t", "1", "--wrap", "true"],
        env=dict(os.environ, SLURM_CONF=conf),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    native = out.stdout.strip().split(";")[0]

    def outside_done() -> bool:
        got = subprocess.run(
            ["scontrol", "show", "job", native],
            env=dict(os.environ, SLURM_CONF=conf),
            capture_output=True,
            text=True,
            timeout=30,
        )
        return "JobState=COMPLETED" in got.stdout

    wait_for("the job sent with sbatch to complete", outside_done, 150, story)
    later = [e["kind"] for e in client.pool_events("plcloud")][before:]
    assert "resume" in later and "up" in later, later


def _alive(pidfile: Path) -> bool:
    try:
        pid = int(pidfile.read_text().split()[0])
        return Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"/usr/sbin/slurmd")
    except (OSError, ValueError, IndexError):
        return False
