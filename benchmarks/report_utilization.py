"""Report latency: utilisation by day and by cluster over a year of
1,000,000 finished jobs, on SQLite or on a private PostgreSQL.

The store is filled as the ledger fills it: one usage record per job and the
daily roll-up of each record's running time split over UTC days (the same
``split_by_day``). The report is timed through ``telemetry.utilization``
(best of 3); the baseline computes the same numbers from the usage records
themselves (a scan of all million rows).

    python benchmarks/report_utilization.py                 # SQLite
    python benchmarks/report_utilization.py --postgres      # starts PostgreSQL 15
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import insert, select

from computenet.accounting.records import split_by_day
from computenet.store.db import Store
from computenet.store.tables_accounting import UsageDailyRow, UsageRecordRow
from computenet.telemetry.utilization import utilization

YEAR_START = 1_735_689_600.0  # 2025-01-01T00:00:00Z
DAY = 86400.0
PG_BIN = Path("/usr/lib/postgresql/15/bin")


@contextmanager
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL 15 server on a free loopback port, run as postgres."""
    root = Path(tempfile.mkdtemp(prefix="cn-pg-"))
    shutil.chown(root, "postgres", "postgres")
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    shutil.chown(sock, "postgres", "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def as_pg(*argv: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *argv],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    as_pg(str(PG_BIN / "initdb"), "-D", str(data), "--auth=trust")
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off"
    as_pg(str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", opts, "-w", "start")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        as_pg(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


def fill(store: Store, jobs: int, seed: int = 7) -> dict[tuple[str, str], int]:
    rng = random.Random(seed)
    clusters = [f"c{i}" for i in range(5)]
    partitions = ["cpu", "big"]
    capacity = {(c, p): 2048 for c in clusters for p in partitions}
    users = [(f"u{i:03d}", f"proj{i % 20:02d}") for i in range(100)]
    daily: dict[tuple[str, ...], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0])
    batch: list[dict[str, object]] = []
    for i in range(jobs):
        cluster, partition = rng.choice(clusters), rng.choice(partitions)
        owner, project = rng.choice(users)
        submit = YEAR_START + rng.random() * (365 * DAY - 2 * DAY)
        start = submit + rng.expovariate(1 / 1800)
        elapsed = min(rng.expovariate(1 / 5400), 2 * DAY)
        cpus = rng.choice((1, 2, 4, 8, 16, 32, 64))
        cost = cpus * elapsed / 3600 * 0.04
        batch.append(
            {
                "attempt_id": i + 1,
                "job_id": i + 1,
                "attempt": 1,
                "display_id": str(i + 1),
                "name": "job",
                "owner": owner,
                "project": project,
                "cluster": cluster,
                "partition": partition,
                "state": "COMPLETED",
                "exit_code": "0:0",
                "submit_time": submit,
                "start_time": start,
                "end_time": start + elapsed,
                "elapsed_s": elapsed,
                "wait_s": start - submit,
                "cpus": cpus,
                "gpus": 0,
                "nodes": 1,
                "mem_bytes": cpus * 2**30,
                "core_seconds": cpus * elapsed,
                "gpu_seconds": 0.0,
                "cpu_time_s": cpus * elapsed * 0.8,
                "max_rss_bytes": 2**29,
                "price_per_core_hour": 0.04,
                "price_per_gpu_hour": 0.0,
                "cost": cost,
            }
        )
        for day, seconds in split_by_day(start, start + elapsed):
            d = daily[(day, cluster, partition, project, owner)]
            d[0] += cpus * seconds
            d[2] += cost * seconds / elapsed if elapsed else 0.0
        daily[
            (
                time.strftime("%Y-%m-%d", time.gmtime(start + elapsed)),
                cluster,
                partition,
                project,
                owner,
            )
        ][3] += 1
        if len(batch) == 50_000:
            with store.session() as s:
                s.execute(insert(UsageRecordRow), batch)
            batch = []
    with store.session() as s:
        if batch:
            s.execute(insert(UsageRecordRow), batch)
        rows = [
            {
                "day": k[0],
                "cluster": k[1],
                "partition": k[2],
                "project": k[3],
                "owner": k[4],
                "core_seconds": v[0],
                "gpu_seconds": v[1],
                "cost": v[2],
                "attempts": int(v[3]),
            }
            for k, v in daily.items()
        ]
        for i in range(0, len(rows), 50_000):
            s.execute(insert(UsageDailyRow), rows[i : i + 50_000])
    if not store.is_sqlite:
        with store.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    return capacity


def baseline(store: Store, since: float, until: float) -> dict[str, float]:
    """The same per-day totals straight from the usage records."""
    out: dict[str, float] = defaultdict(float)
    t = UsageRecordRow
    with store.session() as s:
        for cpus, start, end in s.execute(
            select(t.cpus, t.start_time, t.end_time).where(t.end_time > since, t.start_time < until)
        ):
            for day, seconds in split_by_day(max(start, since), min(end, until)):
                out[day] += cpus * seconds
    return out


def timed(fn, repeat: int = 3):  # type: ignore[no-untyped-def]
    best, value = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - t0)
    return best, value


def run(url: str, jobs: int, label: str) -> dict[str, object]:
    store = Store(url)
    store.migrate()
    t0 = time.perf_counter()
    capacity = fill(store, jobs)
    load_s = time.perf_counter() - t0
    since, until = YEAR_START, YEAR_START + 365 * DAY
    now = until + DAY

    def report(by: str) -> dict[str, object]:
        with store.session() as s:
            return utilization(s, capacity, since=since, until=until, now=now, by=by)

    day_s, by_day = timed(lambda: report("day"))
    cluster_s, _ = timed(lambda: report("cluster"))
    base_s, base = timed(lambda: baseline(store, since, until), repeat=1)
    assert by_day is not None
    mine = {r["day"]: r["core_hours"] * 3600 for r in by_day["rows"]}  # type: ignore[index]
    worst = max(abs(mine.get(d, 0.0) - v) / max(v, 1.0) for d, v in base.items())
    store.close()
    print(
        f"{label}: {jobs:,} jobs loaded in {load_s:.0f} s; utilisation by day "
        f"{day_s:.3f} s, by cluster {cluster_s:.3f} s; from raw records {base_s:.2f} s; "
        f"largest relative difference {worst:.2e}"
    )
    return {"db": label, "by_day_s": day_s, "by_cluster_s": cluster_s, "baseline_s": base_s}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=1_000_000)
    ap.add_argument("--postgres", action="store_true", help="also run on PostgreSQL 15")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cn-report-"))
    results = [run(f"sqlite:///{tmp / 'report.db'}", args.jobs, "SQLite")]
    if args.postgres:
        with postgres() as url:
            results.append(run(url, args.jobs, "PostgreSQL"))
    shutil.rmtree(tmp, ignore_errors=True)
    worst = max(results, key=lambda r: max(r["by_day_s"], r["by_cluster_s"]))  # type: ignore[type-var,arg-type]
    value = max(worst["by_day_s"], worst["by_cluster_s"])  # type: ignore[type-var]
    print(
        json.dumps(
            {
                "figure": "report_utilization_year",
                "value": round(float(value), 3),  # type: ignore[arg-type]
                "unit": "s",
                "baseline": f"same report from the raw usage records ({worst['db']})",
                "baseline_value": round(float(worst["baseline_s"]), 3),  # type: ignore[arg-type]
                "ratio": round(float(worst["baseline_s"]) / float(value), 1),  # type: ignore[arg-type]
                "goal": "utilisation by day and cluster for a year over 1M jobs < 2 s",
                "results": results,
                "pid": os.getpid(),
            }
        )
    )


if __name__ == "__main__":
    main()
