"""Latency of `cnet capacity --json` against `cnet clusters --json`, same network, same run.

A server (in this process, on a free loopback port) fronts 20 fake clusters
of 32 to 128 nodes of 16 to 64 cores, each seeded with 500 queued jobs
(10,000 in all) behind machines full of running jobs (``sleep infinity``
up to their limits of 1 h or more), as other users' work that the
snapshots report. Both commands run as a user runs them (a new
`cnet` process each time, median of several runs); the SDK calls behind
them are timed too. `cnet capacity --json` answers the default shapes
(whole node, 1 CPU) over the JSON curve's 10 horizons from now to 24 h,
each from the broker's queue forecast of every cluster. The queues do not
change during the run, so after the first call the server keeps each
queue's forecast (as it does for any unchanged queue); the first, cold
call is reported as well.

    python benchmarks/capacity_latency.py [--runs 7]

Last line: one JSON object (figure, value, unit, baseline, ...); the goal
is a ratio within 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CLUSTERS = 20
PENDING_PER_CLUSTER = 500
TOKEN = "cn_bench_capacity_token"


def build(root: Path, rng: random.Random) -> object:
    from computenet.clock import SystemClock
    from computenet.clusters.fake import FakeCluster
    from computenet.config import ClusterConfig, PartitionConfig, Settings
    from computenet.core.runtime import Runtime

    configs = []
    for c in range(CLUSTERS):
        part = PartitionConfig(
            name="batch",
            nodes=rng.choice((32, 64, 128)),
            cores=rng.choice((16, 32, 64)),
            mem_bytes=256 * 2**30,
            default=True,
            max_time_s=7 * 86400,
            price_per_core_hour=round(rng.uniform(0.01, 0.1), 3),
        )
        configs.append(ClusterConfig(name=f"c{c:02d}", kind="fake", partitions=[part]))
    settings = Settings(
        data_dir=root / "data",
        state_dir=root / "state",
        clusters=configs,
        token=TOKEN,
        user="admin",
    )
    clock = SystemClock()
    adapters = {c.name: FakeCluster(c.to_info(), clock) for c in configs}
    asyncio.run(seed(adapters, rng))
    return Runtime(settings, clock=clock, adapters=adapters)  # type: ignore[arg-type]


async def submit(adapter: Any, name: str, cores: int, tasks: int, limit: int, n: int) -> str:
    from computenet.model import AttemptRequest, JobSpec

    nodes = -(-tasks // cores)
    spec = JobSpec(command="sleep infinity", ntasks=tasks, nodes=nodes, time_limit_s=limit)
    req = AttemptRequest(f"seed-{name}-{n}", str(n), 1, spec, "batch", "other")
    return str(await adapter.submit(req))


async def seed(adapters: dict[str, Any], rng: random.Random) -> None:
    for name, adapter in adapters.items():
        info = await adapter.info()
        part = info.partitions[0]
        cores, cap = part.node_type.cpus, part.total_cpus
        used, n = 0, 0
        while used < cap:  # the machine full: these start at once (first fit)
            width = min(cap - used, rng.choice((1, 4, 16, cores)))
            await submit(adapter, name, cores, width, rng.choice((3600, 4 * 3600, 86400)), n)
            used += width
            n += 1
        for _ in range(PENDING_PER_CLUSTER):
            width = min(cap, rng.choice((1, 2, 8, 32, cores, 4 * cores)))
            await submit(adapter, name, cores, width, rng.choice((600, 3600, 4 * 3600, 86400)), n)
            n += 1


def wall(argv: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def sdk(call: object, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.support.live import LiveServer

    root = Path(tempfile.mkdtemp(prefix="cn-bench-capacity-"))
    runtime = build(root, random.Random(args.seed))
    server = LiveServer(runtime)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CN_")}
        env.update(CN_SERVER_URL=server.url, CN_TOKEN=TOKEN, HOME=str(root))
        cnet = [sys.executable, "-m", "computenet.cli.main"]
        with server.client(TOKEN) as client:
            rows = client.clusters()
            queued = sum(r.get("jobs_pending", 0) for r in rows)
            began = time.perf_counter()
            data = client.capacity(curve=True)  # cold: every queue's forecast replayed
            cold = time.perf_counter() - began
            horizons = len(data["horizons_s"])
            # warm both once (imports, first snapshot conversions), then time
            client.capacity(curve=True)
            api_clusters = sdk(client.clusters, args.runs)
            api_capacity = sdk(lambda: client.capacity(curve=True), args.runs)
        cli_clusters = wall([*cnet, "clusters", "--json"], env, args.runs)
        cli_capacity = wall([*cnet, "capacity", "--json"], env, args.runs)
    finally:
        server.stop()
        runtime.store.close()  # type: ignore[attr-defined]
        shutil.rmtree(root, ignore_errors=True)
    ratio = cli_capacity / cli_clusters
    print(f"clusters: {len(rows)}, queued jobs: {queued}, horizons in the curve: {horizons}")
    print(f"cnet clusters --json  {cli_clusters * 1000:8.1f} ms (SDK {api_clusters * 1000:.1f} ms)")
    print(f"cnet capacity --json  {cli_capacity * 1000:8.1f} ms (SDK {api_capacity * 1000:.1f} ms)")
    print(f"first SDK capacity call (no forecast kept yet): {cold * 1000:.1f} ms")
    print(
        json.dumps(
            {
                "figure": "capacity_json_latency",
                "value": round(cli_capacity * 1000, 1),
                "unit": "ms",
                "baseline": "cnet clusters --json, same network",
                "baseline_value": round(cli_clusters * 1000, 1),
                "ratio": round(ratio, 3),
                "goal": "ratio <= 2",
                "sdk_ms": {
                    "capacity": round(api_capacity * 1000, 1),
                    "clusters": round(api_clusters * 1000, 1),
                    "capacity_cold": round(cold * 1000, 1),
                },
                "clusters": len(rows),
                "queued_jobs": queued,
            }
        )
    )


if __name__ == "__main__":
    main()
