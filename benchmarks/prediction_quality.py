"""How good is the broker's predicted start on real Slurm, next to Slurm's own?

    python benchmarks/prediction_quality.py [--jobs 80] [--seed 11]

Starts 2 dev Slurm clusters (3 nodes x 4 CPUs each) and runs a mixed load
(1-8 CPUs, ``sleep`` 1-10 s, 1-minute limits) through the server's own
controller with the ``fastest`` policy. For every job it keeps the broker's
predicted start (made by ``network.place`` from the cluster snapshot when
the job was placed, stored on the attempt) and Slurm's first
``squeue --start`` estimate for the same job (``SlurmCluster.start_estimates``,
asked every half second while the job waits), then compares both with the
actual start. Jobs Slurm never estimated (they started before its backfill
pass saw them) count with Slurm's estimate = its submit time, as a user
would see "now". Last line: the benchmark JSON (broker median absolute error
against Slurm's).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from network_gain_slurm import run_workload, start_clusters, stop_clusters, workload


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=80)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--warmup",
        type=int,
        default=12,
        help="jobs run to the end first, for the broker to learn from",
    )
    args = parser.parse_args()
    items = workload(args.jobs, args.seed)
    warm = workload(args.warmup, args.seed + 1000) if args.warmup else []
    root = Path(tempfile.mkdtemp(prefix="cn-bench-pred-"))
    slurm_first: dict[tuple[str, str], float] = {}

    async def ask_slurm(rt: Any) -> None:
        from sqlalchemy import select

        from computenet.store.tables import AttemptRow

        with rt.store.session() as s:
            rows = list(
                s.execute(
                    select(AttemptRow.cluster, AttemptRow.native_id).where(
                        AttemptRow.state == "QUEUED", AttemptRow.native_id.is_not(None)
                    )
                )
            )
        by: dict[str, list[str]] = {}
        for cluster, native in rows:
            if (cluster, native) not in slurm_first:
                by.setdefault(cluster, []).append(native)
        for cluster, natives in by.items():
            estimates = await rt.adapters[cluster].start_estimates(natives)
            for native, when in estimates.items():
                slurm_first.setdefault((cluster, native), when)

    try:
        confs = start_clusters(root, 2, "p")
        records = asyncio.run(
            run_workload(confs, items, "fastest", root, on_poll=ask_slurm, warmup=warm)
        )
    finally:
        stop_clusters(root)
    broker, slurm, estimated = [], [], 0
    for r in records:
        if r["start"] is None or r["predicted_start"] is None:
            continue
        broker.append(abs(r["predicted_start"] - r["start"]))
        own = slurm_first.get((r["cluster"], r["native_id"]))
        estimated += own is not None
        slurm.append(abs((own if own is not None else r["submit"]) - r["start"]))
    b = statistics.median(broker)
    sl = statistics.median(slurm)
    waits = [r["start"] - r["submit"] for r in records if r["start"] is not None]
    print(
        f"{len(broker)} jobs, {estimated} with a Slurm estimate; mean wait "
        f"{statistics.fmean(waits):.1f} s; median |error| broker {b:.1f} s, Slurm {sl:.1f} s; "
        f"mean |error| broker {statistics.fmean(broker):.1f} s, "
        f"Slurm {statistics.fmean(slurm):.1f} s"
    )
    print(
        json.dumps(
            {
                "figure": "predicted_start_median_abs_error_slurm",
                "value": round(b, 2),
                "unit": "s",
                "baseline": "Slurm's own squeue --start estimate, same jobs, same run",
                "baseline_value": round(sl, 2),
                "ratio": round(b / sl, 3) if sl else None,
                "goal": "broker error no worse than Slurm's own estimate",
                "jobs": len(broker),
                "slurm_estimated": estimated,
            }
        )
    )


if __name__ == "__main__":
    main()
