"""Figure: embedded-cluster throughput, 200 trivial jobs on 8 slots.

Submits 200 ``true`` jobs straight to an EmbeddedCluster (2 nodes x 4 cores)
and times submit-to-all-done. The baseline is Slurm's measured 3 jobs/s
(docs and /work/shared/notes: 200 trivial jobs in 62-65 s on this kind of
machine) unless ``SLURM_CONF`` names a reachable local Slurm, in which case
the same 200 jobs go through ``sbatch`` there in the same run.

Usage: python benchmarks/embedded_throughput.py [--jobs 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from computenet.clusters.embedded import EmbeddedCluster
from computenet.config import ClusterConfig, PartitionConfig
from computenet.model import AttemptRequest, JobSpec

SLURM_MEASURED_JOBS_PER_S = 3.0
GOAL_RATIO = 10.0


async def run_embedded(jobs: int, work: Path) -> float:
    config = ClusterConfig(
        name="bench",
        scheduler="easy",
        partitions=[PartitionConfig(name="compute", nodes=2, cores=4, default=True)],
    )
    cluster = EmbeddedCluster(config, work / "state")
    await cluster.start()
    out = work / "out"
    out.mkdir()
    try:
        t0 = time.perf_counter()
        ids = [
            await cluster.submit(
                AttemptRequest(
                    tag=f"bench-{i}",
                    job_id=f"b{i}",
                    attempt=1,
                    partition=None,
                    owner="bench",
                    spec=JobSpec(name="true", command="true", workdir=str(out), time_limit_s=60),
                )
            )
            for i in range(jobs)
        ]
        while True:
            states = await cluster.status(ids)
            if all(s.state.terminal for s in states.values()):
                break
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - t0
        bad = [s for s in states.values() if s.state.value != "COMPLETED"]
        if bad:
            raise SystemExit(f"{len(bad)} jobs did not complete: {bad[0]}")
    finally:
        await cluster.close()
    return jobs / elapsed


def run_slurm(jobs: int, work: Path) -> float | None:
    """sbatch the same jobs on the Slurm that SLURM_CONF names; None if unreachable."""
    if not os.environ.get("SLURM_CONF") or shutil.which("sbatch") is None:
        return None
    try:
        subprocess.run(["sinfo", "-h"], check=True, capture_output=True, timeout=10)
        t0 = time.perf_counter()
        ids = []
        for _ in range(jobs):
            out = subprocess.run(
                ["sbatch", "--parsable", "-o", str(work / "slurm-%j.out"), "--wrap", "true"],
                check=True,
                capture_output=True,
                text=True,
                timeout=30,
            )
            ids.append(out.stdout.strip().split(";")[0])
        while subprocess.run(
            ["squeue", "-h", "-j", ",".join(ids)], capture_output=True, text=True, timeout=30
        ).stdout.strip():
            time.sleep(0.2)
        return jobs / (time.perf_counter() - t0)
    except (OSError, subprocess.SubprocessError):
        return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        value = asyncio.run(run_embedded(args.jobs, work))
        slurm = run_slurm(args.jobs, work)
    baseline = (
        "slurm sbatch (measured now, SLURM_CONF)"
        if slurm
        else "slurm 22.05 measured: 200 trivial jobs in 62-65 s"
    )
    baseline_value = slurm or SLURM_MEASURED_JOBS_PER_S
    print(
        json.dumps(
            {
                "figure": "embedded_throughput",
                "value": round(value, 2),
                "unit": "jobs/s",
                "baseline": baseline,
                "baseline_value": round(baseline_value, 2),
                "ratio": round(value / baseline_value, 2),
                "goal": f">= {GOAL_RATIO}x baseline",
            }
        )
    )


if __name__ == "__main__":
    main()
