"""Load a network can carry at a given service level.

Compress the four centres' inter-arrival times by a factor f (more load)
until the mean bounded slowdown reaches what the centres alone (``home``)
give at f = 1; report f and the utilisation each policy reaches there
(bisection on f). The broker uses the ``fast`` start estimate here: under
the heaviest compressions queues grow to thousands of jobs, where replaying
them for every decision would take hours.

    python benchmarks/network_replay_capacity.py [--window-days 60] [--steps 5]
        [--json-out results.json] [--plot docs/img/network-capacity.png]

Last line: one JSON object (figure, value, unit, baseline, ...).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from _traces import TRACES, centre_paths, print_skipped

POLICIES = ("pooled", "weighted-random", "load", "fastest")
FIGURE = "network_carried_load"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window-days", type=float, default=60.0)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--max-factor", type=float, default=2.0)
    parser.add_argument("--traces", type=Path, default=TRACES)
    parser.add_argument("--json-out", type=Path)
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args()
    paths = centre_paths(args.traces)
    if paths is None:
        print_skipped(
            FIGURE, "utilization", "home", f"traces not found under {args.traces}: skipped"
        )
        return

    from computenet.sim.network import NetworkConfig, replay_network
    from computenet.sim.network_capacity import carried_load
    from computenet.sim.network_trace import read_centre

    centres = [read_centre(p, window_days=args.window_days) for p in paths]
    home = replay_network(centres, NetworkConfig(policy="home"))
    print(
        f"{sum(len(c.jobs) for c in centres):,} jobs, {args.window_days:g} days; home: "
        f"bsld {home.mean_bsld:.2f}, utilisation {home.utilization:.3f} (the target)"
    )
    rows = [
        {
            "policy": "home",
            "factor": 1.0,
            "utilization": home.utilization,
            "mean_bsld": home.mean_bsld,
            "mean_wait_s": home.mean_wait_s,
            "replays": 1,
            "curve": [(1.0, home.mean_bsld, home.utilization)],
        }
    ]
    for policy in POLICIES:
        t0 = time.perf_counter()
        curve: list[tuple[float, float, float]] = []
        config = NetworkConfig(policy="home" if policy == "pooled" else policy, estimator="fast")
        r = carried_load(
            centres,
            config,
            target_bsld=home.mean_bsld,
            as_pool=policy == "pooled",
            max_factor=args.max_factor,
            steps=args.steps,
            progress=lambda f, res, c=curve: c.append((f, res.mean_bsld, res.utilization)),
        )
        rows.append(
            {
                "policy": policy,
                "factor": r.factor,
                "utilization": r.utilization,
                "mean_bsld": r.mean_bsld,
                "mean_wait_s": r.mean_wait_s,
                "replays": r.replays,
                "curve": sorted(curve),
            }
        )
        print(
            f"{policy:16s} carries x{r.factor:.3f} load at bsld {r.mean_bsld:.2f}: "
            f"utilisation {r.utilization:.3f} ({r.replays} replays, "
            f"{time.perf_counter() - t0:.1f} s)"
        )
    if args.json_out:
        args.json_out.write_text(json.dumps(rows, indent=1))
    if args.plot:
        plot(rows, home.mean_bsld, args.plot)
    by = {r["policy"]: r for r in rows}
    value, base = by["fastest"]["utilization"], by["home"]["utilization"]
    print(
        json.dumps(
            {
                "figure": FIGURE,
                "value": round(value, 4),
                "unit": "utilization",
                "baseline": "centres alone (home) at the same bounded slowdown",
                "baseline_value": round(base, 4),
                "ratio": round(value / base, 4),
                "goal": "carry more load than the centres alone at their service level",
                "factors": {r["policy"]: round(r["factor"], 4) for r in rows},
            }
        )
    )


def plot(rows: list[dict], target: float, path: Path) -> None:  # type: ignore[type-arg]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.4), dpi=80)
    for r in rows:
        if len(r["curve"]) > 1:
            f, bsld, _ = zip(*r["curve"], strict=True)
            ax.plot(f, bsld, marker="o", markersize=3, label=r["policy"])
    ax.axhline(target, color="#888", linestyle="--", label="centres alone at x1")
    ax.set_yscale("log")
    ax.set_xlabel("load factor (inter-arrival times divided by)")
    ax.set_ylabel("mean bounded slowdown")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


if __name__ == "__main__":
    main()
