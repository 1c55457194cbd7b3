"""Elastic pools against static capacity, at the same mean wait.

Four real centres (SDSC-SP2, KTH-SP2, HPC2N, LANL-CM5, first 180 days),
each alone (no routing between them), as in ``docs/network-gain.md``'s
``home`` row. The target is the wait of the pooled machine (every processor
in one queue): what a network of the centres aims at.

- elastic: each centre gets a pool of nodes (16 processors, booted in 120 s,
  released after 300 s idle) and the broker's local-first policy bursts a
  job there once home's predicted wait passes a threshold; a range of
  thresholds gives a curve of mean wait against pool cost (node-hours from
  request to release x price);
- static: processors added to the centres for the whole period, one node
  (16) at a time where the wait drops most, until the target is reached;
  cost = processors x price x the replay's span.

Both at 0.10 per processor-hour, so the ratio is a ratio of
processor-hours bought. The figure: pool cost / static cost at the target
wait (goal: at most 0.5).

    python benchmarks/bursting_cost.py [--window-days 180] [--json-out F]
        [--plot docs/img/bursting.png]

Last line: one JSON object (figure, value, unit, baseline, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from _traces import TRACES, centre_paths, print_skipped

FIGURE = "bursting_cost_ratio"
THRESHOLDS = (1800, 3600, 7200, 14400, 21600, 28800, 43200, 86400)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window-days", type=float, default=180.0)
    parser.add_argument("--traces", type=Path, default=TRACES)
    parser.add_argument("--cpus-per-node", type=int, default=16)
    parser.add_argument("--boot-delay", type=float, default=120.0)
    parser.add_argument("--idle-release", type=float, default=300.0)
    parser.add_argument("--price", type=float, default=0.10, help="per processor-hour")
    parser.add_argument("--estimator", default="fast")
    parser.add_argument("--thresholds", default=",".join(map(str, THRESHOLDS)))
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args()
    paths = centre_paths(args.traces)
    if paths is None:
        print_skipped(FIGURE, "cost", "static", f"traces not found under {args.traces}: skipped")
        return

    from computenet.sim.elastic_study import cost_at, static_curve, threshold_curve
    from computenet.sim.network import NetworkConfig, pooled, replay_network
    from computenet.sim.network_trace import read_centre
    from computenet.sim.pools import PoolSettings

    t0 = time.perf_counter()
    centres = [read_centre(p, window_days=args.window_days) for p in paths]
    alone = replay_network(centres, NetworkConfig(policy="home"))
    target = replay_network([pooled(centres)], NetworkConfig(policy="home")).mean_wait_s
    print(
        f"{sum(len(c.jobs) for c in centres):,} jobs, {args.window_days:g} days; centres "
        f"alone wait {alone.mean_wait_s:,.0f} s; pooled machine {target:,.0f} s (the target)"
    )
    cpn = args.cpus_per_node
    pools = PoolSettings(cpn, None, args.boot_delay, args.price * cpn, args.idle_release)
    config = NetworkConfig(
        policy="local-first", remote=False, estimator=args.estimator, pools=pools
    )

    def show(point, r=None) -> None:  # type: ignore[no-untyped-def]
        extra = f", {r.moved_fraction:.1%} of jobs to pools" if r is not None else ""
        print(
            f"  {point.label}: mean wait {point.mean_wait_s:,.0f} s, cost {point.cost:,.0f}{extra}",
            flush=True,
        )

    thresholds = [float(x) for x in args.thresholds.split(",")]
    print("elastic pools, local-first:")
    elastic = threshold_curve(centres, config, thresholds, progress=show)
    print("static capacity, greedy:")
    static = static_curve(
        centres, step_procs=cpn, price_per_proc_hour=args.price, target_wait_s=target, progress=show
    )
    pool_cost, static_cost = cost_at(elastic, target), cost_at(static, target)
    ratio = pool_cost / static_cost if pool_cost is not None and static_cost else None
    wall = time.perf_counter() - t0
    load = os.getloadavg()[0]
    print(
        f"at {target:,.0f} s: pools {pool_cost}, static {static_cost}, ratio {ratio}; "
        f"{wall:.0f} s wall, load average {load:.1f}"
    )
    if args.json_out is not None:
        args.json_out.write_text(
            json.dumps(
                {
                    "target_wait_s": target,
                    "alone_wait_s": alone.mean_wait_s,
                    "elastic": [p.__dict__ for p in elastic],
                    "static": [p.__dict__ for p in static],
                    "pool_cost": pool_cost,
                    "static_cost": static_cost,
                    "ratio": ratio,
                    "settings": vars(args)
                    | {
                        "json_out": str(args.json_out),
                        "plot": str(args.plot),
                        "traces": str(args.traces),
                    },
                },
                indent=1,
            )
        )
    if args.plot is not None:
        plot(elastic, static, target, alone.mean_wait_s, args.plot)
    print(
        json.dumps(
            {
                "figure": FIGURE,
                "value": round(pool_cost, 1) if pool_cost is not None else None,
                "unit": "cost (0.10 per processor-hour)",
                "baseline": "cheapest static capacity found reaching the pooled wait",
                "baseline_value": round(static_cost, 1) if static_cost is not None else None,
                "ratio": round(ratio, 4) if ratio is not None else None,
                "goal": "<= 0.5",
            }
        )
    )


def plot(elastic, static, target, alone, path):  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.8), dpi=80)
    for points, label, marker in (
        (elastic, "elastic pools (threshold sweep)", "o"),
        (static, "static capacity (greedy)", "s"),
    ):
        ax.plot(
            [p.cost / 1000 for p in points],
            [p.mean_wait_s for p in points],
            marker=marker,
            markersize=3,
            label=label,
        )
    ax.axhline(target, color="#888", linestyle="--", label="pooled machine (target)")
    ax.axhline(alone, color="#c44", linestyle=":", label="centres alone")
    ax.set_xlabel("money spent on extra capacity (thousands, 0.10 per processor-hour)")
    ax.set_ylabel("mean wait (s)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


if __name__ == "__main__":
    main()
