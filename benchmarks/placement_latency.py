"""Broker latency: one ``place`` decision over 20 clusters whose snapshots hold
10,000 pending jobs between them (500 each) and full machines of running jobs.

Every decision is a different job (random width and time limit) against the
same snapshots, as when the controller places a burst of submissions between
two snapshot polls. Reports median and p99 over the decisions; the first
decision, which also converts the snapshots into planner input, is reported
apart.

    python benchmarks/placement_latency.py [--decisions 300] [--policy fastest]

Last line: one JSON object (figure, value, unit, baseline, ...).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

from computenet.model import (
    ClusterInfo,
    JobSpec,
    NodeSnapshot,
    NodeType,
    PartitionInfo,
    Snapshot,
    SnapshotJob,
)
from computenet.network import ClusterView, place

CLUSTERS = 20
PENDING = 10_000
NOW = 1_700_000_000.0
TARGET_MS = 5.0


def build(rng: random.Random) -> list[ClusterView]:
    views = []
    per = PENDING // CLUSTERS
    for c in range(CLUSTERS):
        nodes = rng.choice((32, 64, 128))
        cores = rng.choice((16, 32, 64))
        name = f"c{c:02d}"
        part = PartitionInfo(
            "batch",
            NodeType(cores=cores, speed=rng.uniform(0.8, 1.5)),
            nodes,
            default=True,
            max_time_s=7 * 86400,
            price_per_core_hour=rng.uniform(0.01, 0.1),
        )
        info = ClusterInfo(name, "fake", (part,), scheduler="easy")
        cap = nodes * cores
        node_snaps = tuple(NodeSnapshot(f"{name}-{i}", "batch", cores, cores) for i in range(nodes))
        running, used, i = [], 0, 0
        while used < cap:
            width = min(cap - used, rng.choice((1, 4, 16, cores, 2 * cores)))
            limit = rng.choice((600, 3600, 4 * 3600, 86400))
            start = NOW - rng.uniform(0, limit)
            running.append(SnapshotJob(f"r{i}", "batch", width, 1, limit, start, start))
            used += width
            i += 1
        pending = tuple(
            SnapshotJob(
                f"p{j}",
                "batch",
                rng.choice((1, 2, 8, 32, cores, 4 * cores)),
                1,
                rng.choice((600, 3600, 4 * 3600, 86400)),
                NOW - rng.uniform(0, 86400),
            )
            for j in range(per)
        )
        snap = Snapshot(NOW, node_snaps, tuple(running), pending)
        views.append(ClusterView(info, snap, home=(c == 0)))
    return views


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=300)
    parser.add_argument("--policy", default="fastest")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    views = build(rng)
    specs = [
        JobSpec(ntasks=rng.choice((1, 4, 16, 64, 256)), time_limit_s=rng.choice((300, 3600, 14400)))
        for _ in range(args.decisions + 1)
    ]
    t0 = time.perf_counter()
    place(specs[0], views, now=NOW, policy=args.policy)
    first_ms = (time.perf_counter() - t0) * 1000
    times = []
    for spec in specs[1:]:
        t0 = time.perf_counter()
        place(spec, views, now=NOW, policy=args.policy)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    median = statistics.median(times)
    p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
    print(f"clusters={CLUSTERS} pending={PENDING} decisions={len(times)} policy={args.policy}")
    print(f"first decision (snapshot conversion): {first_ms:.2f} ms")
    print(f"median {median:.2f} ms, p99 {p99:.2f} ms, max {times[-1]:.2f} ms")
    print(
        json.dumps(
            {
                "figure": "placement_latency",
                "value": round(median, 3),
                "unit": "ms",
                "baseline": "target median",
                "baseline_value": TARGET_MS,
                "ratio": round(median / TARGET_MS, 3),
                "goal": "median under 5 ms",
                "p99_ms": round(p99, 3),
                "first_ms": round(first_ms, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
