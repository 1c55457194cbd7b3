"""Network gain on real Slurm: one mixed workload on 3 dev Slurm clusters,
placed by each broker policy, against round-robin and everything on one
cluster. Reports mean wait, makespan and cost per placement.

    python benchmarks/network_gain_slurm.py [--jobs 200] [--seed 7]

Starts 3 dev clusters (scripts/dev-slurm, 3 nodes x 4 CPUs each, prices
0.04 / 0.02 / 0.01 per core-hour) in a temporary directory and stops them
at the end. Jobs: 1, 2, 4 or 8 CPUs, ``sleep`` 1-10 s, 1-minute limits,
submitted all at once to an in-process controller (the server's own
reconcile loop). Last line: the benchmark JSON (mean wait of ``fastest``
against round-robin).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from _local import dev_slurm

PRICES = (0.04, 0.02, 0.01)
MODES = ("fastest", "cheapest", "balanced", "local-first", "round-robin", "one-cluster")


@dataclass(frozen=True)
class Item:
    cpus: int
    sleep_s: int


def workload(jobs: int, seed: int) -> list[Item]:
    rng = random.Random(seed)
    return [Item(rng.choice((1, 1, 2, 2, 4, 8)), rng.randint(1, 10)) for _ in range(jobs)]


async def run_workload(
    confs: dict[str, str],
    items: Sequence[Item],
    mode: str,
    workdir: Path,
    *,
    on_poll: Callable[[Any], Awaitable[None]] | None = None,
    timeout_s: float = 900.0,
    warmup: Sequence[Item] = (),
) -> list[dict[str, Any]]:
    """Run the items through a fresh in-process runtime; one record per job.

    ``warmup`` jobs run to the end first (and are not recorded), so the
    broker has finished jobs to learn each cluster's speed factors from, as
    a live network does."""
    from computenet.config import ClusterConfig, Settings
    from computenet.core.runtime import Runtime
    from computenet.model import JobSpec
    from computenet.store import jobs as repo

    names = sorted(confs)
    clusters = [
        ClusterConfig(name=n, kind="slurm", slurm_conf=confs[n], price_per_core_hour=PRICES[i % 3])
        for i, n in enumerate(names)
    ]
    state = workdir / f"state-{mode}"
    settings = Settings(
        data_dir=state / "data",
        state_dir=state / "state",
        clusters=clusters,
        token="cn_bench_token",
        controller_interval_s=0.2,
        home_cluster=names[0],  # the local-first policy's home
    )
    rt = Runtime(settings)
    await rt.start()
    try:
        base = JobSpec(name="bench", time_limit_s=60, workdir=str(workdir))
        if warmup:
            warm = [
                repo.NewJob(
                    replace(base, name="warmup", command=f"sleep {it.sleep_s}", ntasks=it.cpus),
                    "bench",
                    "bench",
                )
                for it in warmup
            ]
            with rt.store.session() as s:
                repo.create_jobs(s, warm, rt.clock.now())
            rt.controller.wake()
            while True:
                with rt.store.session() as s:
                    if not repo.count_jobs(s, ["PENDING", "QUEUED", "RUNNING", "STAGING_IN"]):
                        break
                await asyncio.sleep(0.5)
        specs = []
        for i, it in enumerate(items):
            spec = replace(base, command=f"sleep {it.sleep_s}", ntasks=it.cpus)
            if mode == "round-robin":
                spec = replace(spec, clusters=(names[i % len(names)],))
            elif mode == "one-cluster":
                spec = replace(spec, clusters=(names[0],))
            else:
                spec = replace(spec, policy=mode)
            specs.append(repo.NewJob(spec, "bench", "bench"))
        with rt.store.session() as s:
            _offset_ids(s)
            ids = [r.id for r in repo.create_jobs(s, specs, rt.clock.now())]
        rt.controller.wake()
        deadline = time.monotonic() + timeout_s
        while True:
            with rt.store.session() as s:
                left = repo.count_jobs(s, ["PENDING", "QUEUED", "RUNNING", "STAGING_IN"])
            if on_poll is not None:
                await on_poll(rt)
            if not left:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{mode}: {left} jobs still live after {timeout_s:g} s")
            await asyncio.sleep(0.5)
        with rt.store.session() as s:
            attempts = repo.attempts(s, ids)
            out = []
            for job_id, it in zip(ids, items, strict=True):
                job = repo.get_job(s, job_id)
                a = attempts[job_id][-1]
                out.append(
                    {
                        "id": job_id,
                        "state": job.state,
                        "cluster": job.cluster,
                        "cpus": it.cpus,
                        "submit": job.submit_time,
                        "start": a.start_time,
                        "end": a.end_time,
                        "predicted_start": a.predicted_start,
                        "native_id": a.native_id,
                        "price": PRICES[names.index(a.cluster) % 3],
                    }
                )
        return out
    finally:
        await rt.stop()


def _offset_ids(s: Any) -> None:
    """Start this run's job ids far from earlier runs': the clusters outlive
    each run's database, and attempt tags are made of job ids."""
    from sqlalchemy import delete, update

    from computenet.model import JobSpec, JobState
    from computenet.store import jobs as repo
    from computenet.store.tables import JobEventRow, JobRow

    new = repo.NewJob(JobSpec(name="id-offset"), "bench", "bench", JobState.CANCELLED)
    (row,) = repo.create_jobs(s, [new], time.time())
    s.execute(delete(JobEventRow).where(JobEventRow.job_id == row.id))
    s.execute(
        update(JobRow)
        .where(JobRow.id == row.id)
        .values(id=int(time.time() * 1000) % 10**9)
        .execution_options(synchronize_session=False)
    )


def summarise(records: Sequence[dict[str, Any]]) -> dict[str, float]:
    done = [r for r in records if r["start"] is not None and r["end"] is not None]
    waits = [r["start"] - r["submit"] for r in done]
    first = min(r["submit"] for r in records)
    cost = sum(r["cpus"] * (r["end"] - r["start"]) / 3600 * r["price"] for r in done)
    return {
        "jobs": len(records),
        "completed": sum(r["state"] == "COMPLETED" for r in records),
        "mean_wait_s": round(statistics.fmean(waits), 2) if waits else float("nan"),
        "makespan_s": round(max(r["end"] for r in done) - first, 2) if done else float("nan"),
        "cost": round(cost, 5),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--modes", default=",".join(MODES))
    args = parser.parse_args()
    items = workload(args.jobs, args.seed)
    results: dict[str, dict[str, float]] = {}
    args_slurm = ("--clusters", "3", "--prefix", "g", "--json")
    with dev_slurm("cn-bench-gain-", *args_slurm) as (root, out):
        confs = dict(json.loads(out)["clusters"])
        for mode in args.modes.split(","):
            t0 = time.monotonic()
            records = asyncio.run(run_workload(confs, items, mode, root))
            results[mode] = summarise(records)
            by = {c: sum(r["cluster"] == c for r in records) for c in sorted(confs)}
            print(f"{mode:12} {results[mode]} per cluster {by} ({time.monotonic() - t0:.0f} s)")
    best, base = results.get("fastest"), results.get("round-robin")
    value = best["mean_wait_s"] if best else None
    baseline = base["mean_wait_s"] if base else None
    print(
        json.dumps(
            {
                "figure": "network_gain_slurm_mean_wait",
                "value": value,
                "unit": "s",
                "baseline": "round-robin over the same 3 Slurm clusters",
                "baseline_value": baseline,
                "ratio": round(value / baseline, 3) if value and baseline else None,
                "goal": "fastest's mean wait below round-robin's",
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    main()
