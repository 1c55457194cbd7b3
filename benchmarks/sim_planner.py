"""Figure: planner latency, ``predict_start`` for 500 and 10,000 pending jobs.

A synthetic but trace-like cluster state (seeded): 256 processors, a full
machine of running jobs, and a queue whose widths are mostly powers of two
and whose estimates are log-uniform between a minute and a day. Each call
predicts a fresh random job appended to that queue. Reported per policy
and queue length: median and p99 latency over the calls.

    python benchmarks/sim_planner.py [--calls N]

Last line: JSON summary; value = EASY median at 10,000 pending (ms),
goal = "< 5 ms at 10,000 pending".
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time

from computenet.scheduling import POLICY_NAMES, QueuedJob, RunningJob, predict_start

CAPACITY = 256


def random_job(rng: random.Random, key: object) -> QueuedJob:
    procs = min(CAPACITY, 2 ** rng.randint(0, 7) if rng.random() < 0.8 else rng.randint(1, 96))
    estimate_s = float(int(60 * (1440 ** rng.random())))
    return QueuedJob(key, procs, estimate_s)


def cluster_state(rng: random.Random, pending: int) -> tuple[list[QueuedJob], list[RunningJob]]:
    running: list[RunningJob] = []
    used = 0
    while used < CAPACITY:
        job = random_job(rng, f"r{len(running)}")
        procs = min(job.procs, CAPACITY - used)
        running.append(RunningJob(job.id, procs, rng.uniform(1.0, job.estimate_s)))
        used += procs
    return [random_job(rng, i) for i in range(pending)], running


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=0, help="calls per case (default: auto)")
    args = parser.parse_args()
    rng = random.Random(20240601)
    results: dict[str, dict[str, float]] = {}
    for pending_count in (500, 10_000):
        pending, running = cluster_state(rng, pending_count)
        calls = args.calls or (101 if pending_count <= 500 else 21)
        for policy in POLICY_NAMES:
            times_ms: list[float] = []
            for call in range(calls):
                job = random_job(rng, f"new{call}")
                began = time.perf_counter()
                predict_start(policy, pending, running, CAPACITY, 0.0, job)
                times_ms.append((time.perf_counter() - began) * 1000)
            row = {
                "median_ms": round(statistics.median(times_ms), 3),
                "p99_ms": round(percentile(times_ms, 0.99), 3),
                "calls": calls,
            }
            results[f"{policy}@{pending_count}"] = row
            print(f"{policy:12s} pending={pending_count:6d} {json.dumps(row)}", flush=True)
    easy = results["easy@10000"]
    print(
        json.dumps(
            {
                "figure": "sim_planner",
                "value": easy["median_ms"],
                "unit": "ms per predict_start (EASY, 10,000 pending, 256 procs)",
                "baseline": "goal",
                "baseline_value": 5.0,
                "ratio": round(easy["median_ms"] / 5.0, 2),
                "goal": "< 5 ms at 10,000 pending",
                "cases": results,
            }
        )
    )


if __name__ == "__main__":
    main()
