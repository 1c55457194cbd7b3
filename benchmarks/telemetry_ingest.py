"""Telemetry ingest: samples written per second for 10,000 nodes and 50,000
running jobs at a 30 s interval, and the store's size per day of that.

Each collection writes what the collector writes for real (one row per node,
one per partition, one sample and one stats update per running job) through
``Collector.write`` into a fresh SQLite store (or PostgreSQL with --url).
The store size per day is measured from the database's growth over the
collections, times 2,880 collections a day, for raw rows kept (before
retention) and at steady state under the default retention (2 h raw).

    python benchmarks/telemetry_ingest.py [--nodes N] [--jobs N] [--collections N] [--postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

from computenet.clock import FakeClock
from computenet.model import NodeSnapshot, Snapshot, Usage
from computenet.store.db import Store
from computenet.telemetry.collector import ClusterResult, Collector, RunningAttempt
from computenet.telemetry.samples import LiveStats
from computenet.telemetry.settings import TelemetrySettings

INTERVAL_S = 30.0
PER_DAY = 86400 / INTERVAL_S


def build(nodes: int, jobs: int, clusters: int) -> tuple[list[Snapshot], dict[str, list]]:
    rng = random.Random(1)
    snaps, running = [], {}
    per_cluster = nodes // clusters
    job_id = 1
    for c in range(clusters):
        name = f"c{c}"
        ns = tuple(
            NodeSnapshot(
                f"{name}-n{i}",
                f"p{i % 4}",
                64,
                rng.randint(0, 64),
                0,
                0,
                256 << 30,
                rng.randint(0, 256) << 30,
                "mixed",
                rng.random() * 64,
            )
            for i in range(per_cluster)
        )
        snaps.append(Snapshot(time=0.0, nodes=ns))
        running[name] = []
        for _ in range(jobs // clusters):
            running[name].append(RunningAttempt(job_id, 1, str(100000 + job_id)))
            job_id += 1
    return snaps, running


def db_bytes(store: Store, path: Path | None) -> int:
    if path is not None:
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    from sqlalchemy import text

    with store.engine.connect() as conn:
        return int(conn.execute(text("select pg_database_size(current_database())")).scalar())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=10_000)
    ap.add_argument("--jobs", type=int, default=50_000)
    ap.add_argument("--clusters", type=int, default=10)
    ap.add_argument("--collections", type=int, default=4)
    ap.add_argument("--url", default=None, help="database URL (default: a fresh SQLite file)")
    ap.add_argument("--postgres", action="store_true", help="start a private PostgreSQL 15")
    args = ap.parse_args()
    if args.postgres:
        from report_utilization import postgres  # this directory's helper

        with postgres() as url:
            args.url = url
            measure(args)
        return
    measure(args)


def measure(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="cn-ingest-"))
    path = None if args.url else tmp / "telemetry.db"
    store = Store(args.url or f"sqlite:///{path}")
    store.migrate()
    clock = FakeClock(1_800_000_000.0)
    collector = Collector(store, {}, clock, TelemetrySettings())
    snaps, running = build(args.nodes, args.jobs, args.clusters)
    cpu_time = {a.native_id: 0.0 for atts in running.values() for a in atts}
    start_bytes = db_bytes(store, path)
    samples_per = args.nodes + args.clusters * 4 + args.jobs  # + one stats update per job
    times = []
    for i in range(args.collections):
        now = clock.now()
        results = []
        for c, snap in enumerate(snaps):
            name = f"c{c}"
            result = ClusterResult(name, True, time=now, snapshot=snap)
            for a in running[name]:
                cpu_time[a.native_id] += 30 * 3.5
                result.usage[a.native_id] = Usage(a.native_id, 30.0 * (i + 1), 4, 0, 1, 8 << 30)
                result.live[a.native_id] = LiveStats(cpu_time[a.native_id], 3 << 30, 4, 0, 0)
            results.append(result)
        t0 = time.perf_counter()
        collector.write(results, running, now)
        times.append(time.perf_counter() - t0)
        clock.advance(INTERVAL_S)
    grown = db_bytes(store, path) - start_bytes
    per_collection = grown / args.collections
    mean_s = sum(times[1:]) / max(1, len(times) - 1)  # the first one inserts job stats
    rate = samples_per / mean_s
    raw_day_gb = per_collection * PER_DAY / 1e9
    steady_gb = per_collection * (2 * 3600 / INTERVAL_S) / 1e9
    print(
        f"{args.nodes} nodes, {args.jobs} jobs, {args.clusters} clusters, "
        f"{'PostgreSQL' if args.url else 'SQLite'}"
    )
    print(
        f"write per collection: first {times[0]:.2f} s, then mean {mean_s:.2f} s "
        f"(budget {INTERVAL_S:.0f} s)"
    )
    print(f"samples per collection {samples_per}; {rate:,.0f} samples/s")
    print(
        f"store growth {per_collection / 1e6:.1f} MB per collection: {raw_day_gb:.1f} GB/day "
        f"of raw rows; {steady_gb:.2f} GB held at steady state with 2 h raw retention"
    )
    print(
        json.dumps(
            {
                "figure": "telemetry_ingest",
                "value": round(rate),
                "unit": "samples/s",
                "baseline": "needed to keep up: samples per collection / 30 s",
                "baseline_value": round(samples_per / INTERVAL_S),
                "ratio": round(rate / (samples_per / INTERVAL_S), 2),
                "goal": "write a collection of 10k nodes + 50k jobs well within its 30 s interval",
                "write_s": round(mean_s, 3),
                "store_bytes_per_day_raw": round(per_collection * PER_DAY),
                "store_bytes_steady_state": round(per_collection * 2 * 3600 / INTERVAL_S),
                "pid": os.getpid(),
            }
        )
    )


if __name__ == "__main__":
    main()
