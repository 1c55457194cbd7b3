"""``cnet sim-network``: replay several centres' traces through one network.

Imports of the simulator happen inside the command so ``cnet --version``
stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

POLICY_HELP = (
    "routing: home, round-robin, random, weighted-random, load (baselines) or "
    "fastest, cheapest, balanced, local-first (the broker)"
)


def _floats(text: str | None, what: str) -> tuple[float, ...] | None:
    from computenet.sim.errors import SimError

    if text is None:
        return None
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise SimError(f"{what}: expected numbers separated by commas, got {text!r}") from None
    if any(v < 0 for v in values) or (what == "--speeds" and any(v == 0 for v in values)):
        raise SimError(f"{what}: values must be positive, got {text!r}")
    return values


def _ints(text: str | None) -> tuple[int, ...] | None:
    values = _floats(text, "--extra-capacity")
    if values is None:
        return None
    if any(v != int(v) for v in values):
        from computenet.sim.errors import SimError

        raise SimError(f"--extra-capacity: whole processors, got {text!r}")
    return tuple(int(v) for v in values)


def sim_network(
    traces: list[Path] = typer.Argument(..., help="one SWF trace per centre"),
    policy: str = typer.Option("fastest", "--policy", help=POLICY_HELP),
    window_days: float | None = typer.Option(
        None, "--window-days", help="keep each trace's first N days"
    ),
    move_delay: float = typer.Option(
        0.0, "--move-delay", help="seconds of staging before a moved job is queued"
    ),
    speeds: str | None = typer.Option(None, "--speeds", help="speed factor per centre: 1,1.2,.."),
    prices: str | None = typer.Option(None, "--prices", help="price per core-hour per centre"),
    load_factor: float = typer.Option(
        1.0, "--load-factor", help="divide submit times by this (more load when > 1)"
    ),
    pooled: bool = typer.Option(False, "--pooled", help="one machine with all processors"),
    estimator: str = typer.Option(
        "planner", "--estimator", help="broker's start estimate: planner (exact) or fast"
    ),
    seed: int = typer.Option(0, "--seed", help="seed of the random baselines"),
    pools: bool = typer.Option(
        False, "--pools", help="give each centre an elastic node pool (see --pool-*)"
    ),
    pool_cpus: int = typer.Option(32, "--pool-cpus-per-node", min=1),
    pool_max: int | None = typer.Option(
        None, "--pool-max-nodes", min=1, help="per pool (default: the centre's size)"
    ),
    pool_boot: float = typer.Option(120.0, "--pool-boot-delay", min=0, help="seconds"),
    pool_price: float = typer.Option(3.2, "--pool-price", min=0, help="per node-hour"),
    pool_idle: float = typer.Option(300.0, "--pool-idle-release", min=0, help="seconds"),
    pool_cap: float | None = typer.Option(
        None, "--pool-cap-per-hour", min=0, help="hard cap on all pools' spending per hour"
    ),
    alone: bool = typer.Option(
        False, "--alone", help="no routing between centres: each stays home (or bursts)"
    ),
    threshold: float = typer.Option(
        300.0, "--threshold", min=0, help="local-first: home's wait (s) that starts a burst"
    ),
    hysteresis: float = typer.Option(
        1.0, "--hysteresis", min=0, max=1, help="pool nodes up keep working above this x threshold"
    ),
    extra_capacity: str | None = typer.Option(
        None, "--extra-capacity", help="static processors added per centre: 0,16,32,.."
    ),
    as_json: bool = typer.Option(False, "--json", help="print results as one JSON object"),
    schedule_out: Path | None = typer.Option(
        None, "--schedule-out", help="write job_id,submit,start,end,procs,cluster CSV"
    ),
) -> None:
    """Replay TRACE... (one per centre, aligned at their first job) as one network.

    \b
    Examples:
      cnet sim-network A.swf.gz B.swf.gz --policy fastest --json
      cnet sim-network A.swf.gz B.swf.gz --alone --policy local-first --pools \\
          --threshold 28800 --pool-cpus-per-node 16 --pool-price 1.6
      cnet sim-network A.swf.gz B.swf.gz --policy home --extra-capacity 16,32
    """
    from computenet.sim.network import NetworkConfig, replay_network
    from computenet.sim.network import pooled as pool
    from computenet.sim.network_trace import compress, read_centre
    from computenet.sim.pools import PoolSettings

    centres = [read_centre(t, window_days=window_days) for t in traces]
    if load_factor != 1.0:
        centres = [compress(c, load_factor) for c in centres]
    config = NetworkConfig(
        policy="home" if pooled else policy,
        speeds=None if pooled else _floats(speeds, "--speeds"),
        prices=None if pooled else _floats(prices, "--prices"),
        move_delay_s=move_delay,
        seed=seed,
        estimator=estimator,
        record_schedule=schedule_out is not None,
        pools=(
            PoolSettings(pool_cpus, pool_max, pool_boot, pool_price, pool_idle, pool_cap)
            if pools and not pooled
            else None
        ),
        remote=not alone,
        wait_threshold_s=threshold,
        hysteresis=hysteresis,
        extra_capacity=_ints(extra_capacity),
    )
    result = replay_network([pool(centres)] if pooled else centres, config)
    if schedule_out is not None:
        with schedule_out.open("w") as out:
            out.write("job_id,submit,start,end,procs,cluster\n")
            for s in result.schedule:
                out.write(f"{s.job_id},{s.submit:g},{s.start:g},{s.end:g},{s.procs},{s.cluster}\n")
    report: dict[str, Any] = {
        "policy": "pooled" if pooled else result.policy,
        "jobs": result.jobs,
        "mean_wait_s": round(result.mean_wait_s, 3),
        "mean_bsld": round(result.mean_bsld, 4),
        "utilization": round(result.utilization, 5),
        "makespan_s": result.makespan_s,
        "wall_s": round(result.wall_s, 4),
        "jobs_per_s": round(result.jobs_per_s, 1),
        "moved_fraction": round(result.moved_fraction, 5),
        "cost": round(result.cost, 4),
        "clusters": [
            {
                "name": c.name,
                "capacity": c.capacity,
                "jobs": c.jobs,
                "moved_in": c.moved_in,
                "mean_wait_s": round(c.mean_wait_s, 3),
                "mean_bsld": round(c.mean_bsld, 4),
                "utilization": round(c.utilization, 5),
                "cost": round(c.cost, 4),
            }
            for c in result.clusters
        ],
    }
    if result.pools:
        report["pools"] = [
            {
                "name": r.name,
                "jobs": r.jobs,
                "node_hours": round(r.node_hours, 3),
                "cost": round(r.cost, 4),
                "peak_nodes": r.peak_nodes,
                "nodes_grown": r.grown,
            }
            for r in result.pools
        ]
    if result.predictions is not None:
        p = result.predictions
        report["start_prediction"] = {
            "count": p.count,
            "mean_abs_error_s": round(p.mean_abs_error_s, 3),
            "median_abs_error_s": round(p.median_abs_error_s, 3),
            "mean_error_s": round(p.mean_error_s, 3),
        }
    if as_json:
        typer.echo(json.dumps(report))
        return
    _print_table(report)


def _print_table(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"network replay: {report['policy']}, {report['jobs']:,} jobs, "
        f"wait {report['mean_wait_s']:,.0f} s, bounded slowdown {report['mean_bsld']:.2f}, "
        f"utilisation {report['utilization']:.1%}, moved {report['moved_fraction']:.1%}, "
        f"{report['wall_s']:.2f} s wall"
    )
    for col in ("centre", "procs", "jobs", "moved in", "mean wait", "bsld", "util", "cost"):
        table.add_column(col, justify="left" if col == "centre" else "right")
    for c in report["clusters"]:
        table.add_row(
            c["name"],
            str(c["capacity"]),
            f"{c['jobs']:,}",
            f"{c['moved_in']:,}",
            f"{c['mean_wait_s']:,.0f} s",
            f"{c['mean_bsld']:.2f}",
            f"{c['utilization']:.1%}",
            f"{c['cost']:,.2f}",
        )
    console = Console()
    console.print(table)
    for r in report.get("pools", []):
        console.print(
            f"pool {r['name']}: {r['jobs']:,} jobs, {r['node_hours']:,.1f} node-hours, "
            f"cost {r['cost']:,.2f}, at most {r['peak_nodes']} nodes, {r['nodes_grown']:,} grown"
        )


def register(app: typer.Typer) -> None:
    """Add ``sim-network`` to the ``cnet`` app."""
    app.command("sim-network")(sim_network)
