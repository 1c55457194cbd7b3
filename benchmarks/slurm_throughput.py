"""Throughput of a local dev Slurm cluster: 200 trivial jobs on 8 slots, from
the first submit to the last job's end, through SlurmCluster.

Starts one dev cluster (2 nodes x 4 CPUs) with scripts/dev-slurm in a
temporary directory and stops it at the end.

    python benchmarks/slurm_throughput.py [--jobs 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

from _local import dev_slurm

from computenet.clusters.slurm import SlurmCluster
from computenet.config import ClusterConfig
from computenet.model import AttemptRequest, JobSpec

BASELINE_PER_S = 200 / 63.5  # notes/local-slurm.md: 200 jobs took 62 to 65 s


async def run(conf: str, workdir: Path, jobs: int) -> tuple[float, int]:
    sc = SlurmCluster(ClusterConfig(name="bench1", kind="slurm", slurm_conf=conf))
    start = time.perf_counter()
    ids = [
        await sc.submit(
            AttemptRequest(
                tag=f"tp-{i}.1",
                job_id=str(i),
                attempt=1,
                partition=None,
                owner="bench",
                spec=JobSpec(command="true", workdir=str(workdir)),
            )
        )
        for i in range(jobs)
    ]
    pending = set(ids)
    completed = 0
    while pending:
        for nid, st in (await sc.status(sorted(pending))).items():
            if st.state.terminal:
                pending.discard(nid)
                completed += st.state.value == "COMPLETED"
        if pending:
            await asyncio.sleep(0.5)
        if time.perf_counter() - start > 600:
            raise SystemExit(f"{len(pending)} jobs still not done after 600 s")
    return jobs / (time.perf_counter() - start), completed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=200)
    args = parser.parse_args()
    with dev_slurm("cn-bench-slurm-", "--nodes", "2", "--prefix", "bench") as (root, out):
        workdir = root / "work"
        workdir.mkdir()
        rate, completed = asyncio.run(run(out.strip().splitlines()[0], workdir, args.jobs))
    if completed != args.jobs:
        raise SystemExit(f"only {completed} of {args.jobs} jobs completed")
    print(
        json.dumps(
            {
                "figure": "slurm_throughput",
                "value": round(rate, 2),
                "unit": "jobs/s",
                "baseline": "200 trivial jobs, default dev cluster (notes/local-slurm.md)",
                "baseline_value": round(BASELINE_PER_S, 2),
                "ratio": round(rate / BASELINE_PER_S, 2),
                "goal": "at least the baseline (the dev cluster adds sched_min_interval=0)",
            }
        )
    )


if __name__ == "__main__":
    main()
