"""Sequential `sbatch --parsable` of trivial jobs per second on a local dev cluster.

The baseline other submit benchmarks compare to. Starts one dev cluster
(2 nodes x 4 CPUs) with scripts/dev-slurm in a temporary directory, submits
N jobs one after another with plain sbatch, then the same through
SlurmCluster.submit (the adapter's own overhead), and stops the cluster.

    python benchmarks/slurm_submit_rate.py [--jobs 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import time
from pathlib import Path

from _local import dev_slurm

from computenet.clusters.slurm import SlurmCluster
from computenet.config import ClusterConfig
from computenet.model import AttemptRequest, JobSpec

BASELINE_PER_S = 90.0  # shared/notes/local-slurm.md: 80 to 100 sequential sbatch/s


def sbatch_rate(conf: str, workdir: Path, jobs: int) -> float:
    env = dict(os.environ, SLURM_CONF=conf)
    start = time.perf_counter()
    for _ in range(jobs):
        subprocess.run(
            ["sbatch", "--parsable", "--hold", f"--chdir={workdir}", "--wrap=true"],
            env=env,
            check=True,
            capture_output=True,
        )
    return jobs / (time.perf_counter() - start)


async def adapter_rate(conf: str, workdir: Path, jobs: int) -> float:
    sc = SlurmCluster(ClusterConfig(name="bench1", kind="slurm", slurm_conf=conf))
    start = time.perf_counter()
    for i in range(jobs):
        await sc.submit(
            AttemptRequest(
                tag=f"bench-{i}.1",
                job_id=str(i),
                attempt=1,
                partition=None,
                owner="bench",
                spec=JobSpec(command="true", workdir=str(workdir), hold=True),
            )
        )
    return jobs / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=200)
    args = parser.parse_args()
    with dev_slurm("cn-bench-slurm-", "--nodes", "2", "--prefix", "bench") as (root, out):
        conf = out.strip().splitlines()[0]
        workdir = root / "work"
        workdir.mkdir()
        # Held jobs: the rate is sbatch's alone, not slurmctld also starting jobs.
        plain = sbatch_rate(conf, workdir, args.jobs)
        subprocess.run(
            ["scancel", "--user=root"], env=dict(os.environ, SLURM_CONF=conf), check=False
        )
        adapter = asyncio.run(adapter_rate(conf, workdir, args.jobs))
        subprocess.run(
            ["scancel", "--user=root"], env=dict(os.environ, SLURM_CONF=conf), check=False
        )
    print(
        json.dumps(
            {
                "figure": "slurm_adapter_submit_rate",
                "value": round(adapter, 1),
                "unit": "submissions/s",
                "jobs": args.jobs,
            }
        )
    )
    print(
        json.dumps(
            {
                "figure": "slurm_submit_rate",
                "value": round(plain, 1),
                "unit": "submissions/s",
                "baseline": "sequential sbatch on a dev cluster (notes/local-slurm.md)",
                "baseline_value": BASELINE_PER_S,
                "ratio": round(plain / BASELINE_PER_S, 2),
                "goal": "measure the baseline; the adapter's rate is printed above it",
            }
        )
    )


if __name__ == "__main__":
    main()
