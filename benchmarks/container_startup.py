"""Figure: start-up of a containerised trivial job against the same job bare.

One embedded cluster (2 nodes x 2 cores); ``true`` jobs submitted one at a
time, bare and in the ``mpi`` image (bubblewrap) alternately, in the same
run. Each job's time is from ``submit`` returning to the cluster reporting
it COMPLETED (what a user waits for). The figure is the median containerised
time over the median bare time.

Usage: python benchmarks/container_startup.py [--jobs 40]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from _images import IMAGE, cached_image_store

from computenet.clusters.embedded import EmbeddedCluster
from computenet.config import ClusterConfig, PartitionConfig
from computenet.model import AttemptRequest, JobSpec

GOAL_RATIO = 1.3


async def one(cluster: EmbeddedCluster, tag: str, spec: JobSpec) -> float:
    t0 = time.perf_counter()
    nid = await cluster.submit(
        AttemptRequest(tag=tag, job_id=tag, attempt=1, partition=None, owner="bench", spec=spec)
    )
    while True:
        status = (await cluster.status([nid]))[nid]
        if status.state.terminal:
            break
        await asyncio.sleep(0.002)
    if status.state.value != "COMPLETED":
        raise SystemExit(f"job {tag} ended {status.state.value}: {status.reason}")
    return time.perf_counter() - t0


async def measure(jobs: int, work: Path) -> tuple[list[float], list[float]]:
    store = cached_image_store()
    config = ClusterConfig(
        name="bench", partitions=[PartitionConfig(name="p", nodes=2, cores=2, default=True)]
    )
    cluster = EmbeddedCluster(config, work / "state", image_root=store.root)
    await cluster.start()
    out = work / "out"
    out.mkdir()
    bare = JobSpec(name="true", script="#!/bin/sh\ntrue\n", workdir=str(out), time_limit_s=60)
    boxed = JobSpec(
        name="true",
        script="#!/bin/sh\ntrue\n",
        workdir=str(out),
        time_limit_s=60,
        container_image=IMAGE,
    )
    times: dict[str, list[float]] = {"bare": [], "container": []}
    try:
        for warm in range(2):  # page caches, the runner's first launch
            await one(cluster, f"warm-{warm}", boxed if warm else bare)
        for i in range(jobs):
            for kind, spec in (("bare", bare), ("container", boxed))[:: 1 if i % 2 else -1]:
                times[kind].append(await one(cluster, f"{kind}-{i}", spec))
    finally:
        await cluster.close()
    return times["bare"], times["container"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cn-bench-containers-") as tmp:
        bare, boxed = asyncio.run(measure(args.jobs, Path(tmp)))
    b, c = statistics.median(bare), statistics.median(boxed)
    print(f"bare: median {b * 1e3:.1f} ms, container: median {c * 1e3:.1f} ms ({args.jobs} each)")
    print(
        json.dumps(
            {
                "figure": "container_startup",
                "value": round(c * 1e3, 1),
                "unit": "ms",
                "baseline": "the same trivial job bare, same cluster, same run",
                "baseline_value": round(b * 1e3, 1),
                "ratio": round(c / b, 3),
                "goal": f"<= {GOAL_RATIO}x baseline",
            }
        )
    )


if __name__ == "__main__":
    main()
