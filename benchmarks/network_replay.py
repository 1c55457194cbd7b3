"""Network gain: four centres' real traces (SDSC-SP2, KTH-SP2, HPC2N, LANL-CM5),
aligned at their first job, replayed as one network under each routing
policy, against every centre alone (``home``) and one pooled machine.

    python benchmarks/network_replay.py [--window-days 180] [--estimator planner]
        [--json-out results.json] [--plot docs/img/network-gain.png]

Skips cleanly (exit 0, a note and a null JSON value) when the traces are absent.
Last line: one JSON object (figure, value, unit, baseline, ...).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from _traces import TRACES, centre_paths, print_skipped

PRICES = (0.10, 0.12, 0.06, 0.04)  # per core-hour: newer and smaller machines cost more
POLICIES = (
    "home",
    "round-robin",
    "random",
    "weighted-random",
    "load",
    "fastest",
)
# ``cheapest`` (no deadlines here) and ``balanced`` (half the weight on cost)
# pile jobs onto the cheapest centre, and ``local-first`` lets every home
# queue grow to its threshold: with long queues, replaying them through the
# planner for every decision takes minutes. Measure them with
# ``--estimator fast --policies fastest,cheapest,balanced,local-first``.
FIGURE = "network_replay"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window-days", type=float, default=180.0)
    parser.add_argument("--estimator", default="planner", choices=("planner", "fast"))
    parser.add_argument("--move-delay", type=float, default=0.0)
    parser.add_argument("--traces", type=Path, default=TRACES)
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--plot", type=Path)
    parser.add_argument("--policies", default=",".join(POLICIES))
    args = parser.parse_args()
    paths = centre_paths(args.traces)
    if paths is None:
        print_skipped(FIGURE, "s", "pooled", f"traces not found under {args.traces}: skipped")
        return

    from computenet.sim.network import NetworkConfig, pooled, replay_network
    from computenet.sim.network_trace import read_centre

    t0 = time.perf_counter()
    centres = [read_centre(p, window_days=args.window_days) for p in paths]
    load_s = time.perf_counter() - t0
    jobs = sum(len(c.jobs) for c in centres)
    print(
        f"{len(centres)} centres, {jobs:,} jobs in {args.window_days:g} days "
        f"(read in {load_s:.2f} s): "
        + ", ".join(f"{c.name} {c.capacity} procs {len(c.jobs):,} jobs" for c in centres)
    )
    rows = []
    header = (
        f"{'policy':16s} {'wait s':>9s} {'bsld':>8s} {'util':>6s} {'moved':>6s} "
        f"{'cost':>10s} {'pred MAE s':>10s} {'wall s':>7s}"
    )
    print(header)
    runs = [("pooled", [pooled(centres)], NetworkConfig())]
    runs += [
        (
            p,
            centres,
            NetworkConfig(
                policy=p, prices=PRICES, estimator=args.estimator, move_delay_s=args.move_delay
            ),
        )
        for p in args.policies.split(",")
    ]
    for name, cs, config in runs:
        r = replay_network(cs, config)
        mae = r.predictions.mean_abs_error_s if r.predictions else None
        row = {
            "policy": name,
            "mean_wait_s": r.mean_wait_s,
            "mean_bsld": r.mean_bsld,
            "utilization": r.utilization,
            "moved_fraction": r.moved_fraction,
            "cost": r.cost,
            "wall_s": r.wall_s,
            "jobs": r.jobs,
            "start_mae_s": mae,
            "clusters": [
                {
                    "name": c.name,
                    "jobs": c.jobs,
                    "moved_in": c.moved_in,
                    "mean_wait_s": c.mean_wait_s,
                    "mean_bsld": c.mean_bsld,
                    "utilization": c.utilization,
                }
                for c in r.clusters
            ],
        }
        rows.append(row)
        print(
            f"{name:16s} {r.mean_wait_s:9.0f} {r.mean_bsld:8.2f} {r.utilization:6.3f} "
            f"{r.moved_fraction:6.3f} {r.cost:10.0f} "
            f"{'' if mae is None else f'{mae:10.0f}':>10s} {r.wall_s:7.2f}"
        )
    by = {r["policy"]: r for r in rows}
    broker, pool = by.get("fastest", rows[-1]), by["pooled"]
    ratio = broker["mean_wait_s"] / pool["mean_wait_s"]
    print(
        f"fastest vs pooled: mean wait x{ratio:.3f} (goal <= 1.10), bounded slowdown "
        f"{broker['mean_bsld']:.2f} vs {pool['mean_bsld']:.2f} (goal <=), "
        f"replay {broker['wall_s']:.2f} s (goal < 10 s)"
    )
    if args.json_out:
        args.json_out.write_text(
            json.dumps(
                {"window_days": args.window_days, "estimator": args.estimator, "rows": rows},
                indent=1,
            )
        )
    if args.plot:
        plot(rows, args.plot)
    print(
        json.dumps(
            {
                "figure": FIGURE,
                "value": round(broker["mean_wait_s"], 1),
                "unit": "s",
                "baseline": "pooled machine mean wait",
                "baseline_value": round(pool["mean_wait_s"], 1),
                "ratio": round(ratio, 4),
                "goal": "broker wait within 10% of pooled, bsld at or below it, replay under 10 s",
                "broker_bsld": round(broker["mean_bsld"], 3),
                "pooled_bsld": round(pool["mean_bsld"], 3),
                "home_wait_s": round(by["home"]["mean_wait_s"], 1) if "home" in by else None,
                "broker_wall_s": round(broker["wall_s"], 2),
                "jobs": broker["jobs"],
            }
        )
    )


def plot(rows: list[dict], path: Path) -> None:  # type: ignore[type-arg]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["policy"] for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), dpi=80)
    colours = [
        "#888"
        if n in ("home", "pooled")
        else ("#2a7" if n in ("fastest", "cheapest", "balanced", "local-first") else "#58c")
        for n in names
    ]
    for ax, key, label in (
        (axes[0], "mean_wait_s", "mean wait (h)"),
        (axes[1], "mean_bsld", "mean bounded slowdown"),
    ):
        values = [r[key] / (3600 if key == "mean_wait_s" else 1) for r in rows]
        ax.barh(names, values, color=colours)
        ax.set_xscale("log")
        ax.set_xlabel(label + ", log scale")
        ax.invert_yaxis()
    axes[1].set_yticklabels([])
    fig.suptitle("4 centres, first 180 days: routing policy vs alone and pooled", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


if __name__ == "__main__":
    main()
