"""Does callable scale hold? The fraction of answers that held, per horizon.

For each shared SWF trace present, replay it under EASY and stop at random
times; ask callable scale (the broker's queue forecast over the queue as it
stands) for three shapes (1-CPU nodes with time limits 15 min, 1 h, 4 h)
and three horizons (10 min, 1 h, 24 h); inject a job of the answered size
and continue the replay with the trace's real run times and arrivals to see
whether it starts within the horizon (``computenet.sim.callable_hold``).
The baseline answers "free CPUs plus those of running jobs due to end
within the horizon", ignoring the queue, and is checked the same way.

    python benchmarks/callable_hold.py [--probes 200] [--seed 1] [--traces DIR]

Traces absent: says so and prints a JSON line with value null. Last line:
one JSON object (figure, value, unit, baseline, ...); value is the fraction
held at 1 h pooled over the traces.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

HERE = Path(__file__).resolve()
TRACE_DIRS = tuple(HERE.parents[i] / "shared" / "traces" for i in (2, 3))
TRACES = (
    "SDSC-SP2-1998-4.2-cln.swf.gz",
    "KTH-SP2-1996-2.1-cln.swf.gz",
    "HPC2N-2002-2.2-cln.swf.gz",
    "LANL-CM5-1994-4.1-cln.swf.gz",
    "lublin_256.swf.gz",
)
SHAPES = ("cpus=1,time=15:00", "cpus=1,time=1:00:00", "cpus=1,time=4:00:00")
HORIZONS = (600.0, 3600.0, 86400.0)
FIGURE = "callable_scale_held_1h"
GOAL = 0.9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--probes", type=int, default=200, help="random times per trace")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--traces", type=Path, default=None)
    args = parser.parse_args()

    from computenet.network.capacity import parse_shape
    from computenet.sim.callable_hold import probe_trace, summarise
    from computenet.sim.swf import SwfTrace

    folder = args.traces or next(
        (d for d in TRACE_DIRS if any((d / n).is_file() for n in TRACES)), TRACE_DIRS[-1]
    )
    present = [folder / name for name in TRACES if (folder / name).is_file()]
    line = {
        "figure": FIGURE,
        "value": None,
        "unit": "fraction of answers",
        "baseline": "free CPUs plus running jobs due to end, queue ignored",
        "baseline_value": None,
        "ratio": None,
        "goal": f">= {GOAL} at 1 h",
    }
    if not present:
        print(f"no shared traces under {folder}: nothing to measure")
        print(json.dumps(line))
        return
    shapes = [parse_shape(s) for s in SHAPES]
    pooled: dict[str, dict[float, list[int]]] = {"callable": {}, "baseline": {}}
    print(f"{'trace':32} {'answer':9} {'horizon':>8} {'held':>12} {'tight':>12} {'zero':>5}")
    began = time.perf_counter()
    for path in present:
        trace = SwfTrace(path)
        capacity = trace.header.machine_procs
        if not capacity:
            print(f"{path.name}: no MaxProcs in the header, left out")
            continue
        jobs = list(trace.jobs(capacity))
        for label, naive in (("callable", False), ("baseline", True)):
            probes = probe_trace(
                jobs, capacity, shapes, HORIZONS, probes=args.probes, seed=args.seed, naive=naive
            )
            for s in summarise(probes):
                acc = pooled[label].setdefault(s.horizon_s, [0, 0])
                acc[0] += s.held
                acc[1] += s.probes
                frac = f"{s.held}/{s.probes}"
                tight = f"{s.tight}/{s.tight_of}"
                print(
                    f"{path.name:32} {label:9} {s.horizon_s / 3600:>7.2g}h {frac:>12} "
                    f"{tight:>12} {s.zero:>5}"
                )
    for label in ("callable", "baseline"):
        for h, (held, total) in sorted(pooled[label].items()):
            share = held / total if total else float("nan")
            print(f"pooled {label:9} {h / 3600:>5.2g} h: {held}/{total} held ({share:.3f})")
    print(f"took {time.perf_counter() - began:.1f} s")
    held, total = pooled["callable"].get(3600.0, [0, 0])
    b_held, b_total = pooled["baseline"].get(3600.0, [0, 0])
    value = held / total if total else None
    base = b_held / b_total if b_total else None
    line.update(
        value=None if value is None else round(value, 4),
        baseline_value=None if base is None else round(base, 4),
        ratio=None if value is None or not base else round(value / base, 3),
        traces=[p.name for p in present],
        probes_per_trace=args.probes,
    )
    print(json.dumps(line))


if __name__ == "__main__":
    main()
