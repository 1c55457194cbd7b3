"""Submissions per second through the SDK to a local server, against sbatch.

Sequential single-client submissions (each a round trip that parses, checks
and stores the job) and bulk submission of 10,000 jobs, against the
sequential `sbatch --parsable` rate of a real local Slurm cluster measured
in the same run (benchmarks/slurm_submit_rate.py). Jobs are submitted held
(--hold) so that running them does not compete with the measurement.

    python benchmarks/submit_rate.py [--jobs 1000] [--bulk 10000] [--no-slurm]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _local import private_server, slurm_sbatch_rate

from computenet.client import Client
from computenet.client.local import resolve_address
from computenet.config import load_settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--bulk", type=int, default=10_000)
    parser.add_argument("--no-slurm", action="store_true")
    args = parser.parse_args()
    baseline = None if args.no_slurm else slurm_sbatch_rate(200)
    with private_server() as env:
        import os

        os.environ.update(env)
        address = resolve_address(start=False, settings=load_settings())
        with Client(address.url, address.token, socket_path=address.socket) as cn:
            opts = ["--hold", "--time=1", "--wrap", "true"]
            for _ in range(20):  # warm up connections and caches
                cn.submit(options=opts, cwd="/tmp")
            start = time.perf_counter()
            for _ in range(args.jobs):
                cn.submit(options=opts, cwd="/tmp")
            sequential = args.jobs / (time.perf_counter() - start)
            batch = [{"options": opts, "cwd": "/tmp"}] * 5000
            start = time.perf_counter()
            sent = 0
            while sent < args.bulk:
                n = min(5000, args.bulk - sent)
                cn.submit_many(batch[:n])
                sent += n
            bulk = args.bulk / (time.perf_counter() - start)
    print(
        json.dumps(
            {
                "figure": "bulk_submit_rate",
                "value": round(bulk),
                "unit": "jobs/s",
                "baseline": "goal",
                "baseline_value": 2000,
                "ratio": round(bulk / 2000, 2),
                "goal": ">= 2000 jobs/s",
                "jobs": args.bulk,
            }
        )
    )
    print(
        json.dumps(
            {
                "figure": "sequential_submit_rate",
                "value": round(sequential, 1),
                "unit": "submissions/s",
                "baseline": "sequential sbatch --parsable on a local Slurm cluster, same run"
                if baseline
                else "sbatch rate from notes (80-100/s); Slurm not measured in this run",
                "baseline_value": round(baseline, 1) if baseline else 90.0,
                "ratio": round(sequential / (baseline or 90.0), 2),
                "goal": ">= 3x sbatch",
                "jobs": args.jobs,
            }
        )
    )


if __name__ == "__main__":
    main()
