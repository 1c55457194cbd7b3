"""Callable scale on a real Slurm cluster: the answer, then the job, then the truth.

The dev cluster has 3 nodes of 4 CPUs. A job takes 2 nodes for about 20 s
(asking for 1 min). Callable scale for whole nodes (1 min limit) then says
1 node within 10 s and all 3 within 75 s; a 1-node job submitted at once
must start within 10 s, and a 3-node job within 75 s of the answer. Starts
are read from squeue as first seen running (an upper bound of the real one).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time

import pytest

from computenet.clusters.slurm.adapter import SlurmCluster
from computenet.config import ClusterConfig
from computenet.network import ClusterView
from computenet.network.capacity import callable_scale, parse_shape
from tests.integration.slurm.conftest import SlurmDev

pytestmark = pytest.mark.integration


def _env(dev: SlurmDev) -> dict[str, str]:
    return {**os.environ, "SLURM_CONF": dev.slurm_conf}


def _sbatch(dev: SlurmDev, *args: str) -> str:
    out = subprocess.run(
        ["sbatch", "--parsable", "-o", "/dev/null", *args],
        env=_env(dev),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return out.stdout.strip().split(";")[0]


def _running_by(dev: SlurmDev, job: str, deadline: float) -> float | None:
    """When the job is first seen running (or done), polling until ``deadline``."""
    while True:
        out = subprocess.run(
            ["squeue", "-h", "-j", job, "-o", "%T"],
            env=_env(dev),
            capture_output=True,
            text=True,
            timeout=30,
        )
        state = out.stdout.strip()
        now = time.time()
        if state in ("RUNNING", "COMPLETING", "") and out.returncode == 0:
            return now
        if now > deadline:
            return None
        time.sleep(0.2)


def _cancel(dev: SlurmDev, *jobs: str) -> None:
    subprocess.run(["scancel", *jobs], env=_env(dev), capture_output=True, timeout=30)


def test_callable_scale_holds_on_real_slurm(slurm_dev: SlurmDev) -> None:
    config = ClusterConfig(name=slurm_dev.name, kind="slurm", slurm_conf=slurm_dev.slurm_conf)
    adapter = SlurmCluster(config)
    busy = _sbatch(slurm_dev, "-N2", "-n8", "--time=1", "--wrap", "sleep 20")
    jobs = [busy]
    try:
        assert _running_by(slurm_dev, busy, time.time() + 30) is not None

        async def ask() -> tuple[float, list[int]]:
            info, snap = await adapter.info(), await adapter.snapshot()
            assert [j.native_id for j in snap.running] == [busy] and not snap.pending
            rows = callable_scale(
                ClusterView(info, snap), parse_shape("node,time=1:00"), [10.0, 75.0], snap.time
            )
            return snap.time, [r.nodes for r in rows]

        asked_at, answers = asyncio.run(ask())
        assert answers == [1, 3]
        one = _sbatch(slurm_dev, "-N1", "-n4", "--time=1", "--wrap", "sleep 2")
        jobs.append(one)
        started = _running_by(slurm_dev, one, asked_at + 10)
        assert started is not None, "the 1-node answer for 10 s did not hold"
        _cancel(slurm_dev, one)
        three = _sbatch(slurm_dev, "-N3", "-n12", "--time=1", "--wrap", "true")
        jobs.append(three)
        started = _running_by(slurm_dev, three, asked_at + 75)
        assert started is not None, "the 3-node answer for 75 s did not hold"
        assert started > asked_at + 5  # it waited for the busy job, as forecast
    finally:
        _cancel(slurm_dev, *jobs)
