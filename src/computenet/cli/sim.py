"""``cnet sim``: replay an SWF trace through a queue policy and report metrics.

Imports of the simulator happen inside the command so ``cnet --version``
stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

POLICY_HELP = "queue policy: fcfs, easy, conservative, easy-sjf"


def sim(
    trace: Path = typer.Argument(..., help="SWF trace (.swf or .swf.gz)"),
    policy: str = typer.Option("easy", "--policy", help=POLICY_HELP),
    procs: int | None = typer.Option(None, "--procs", help="machine size (default: MaxProcs)"),
    estimate: str = typer.Option(
        "requested", "--estimate", help="runtime estimate: requested (field 9) or oracle"
    ),
    as_json: bool = typer.Option(False, "--json", help="print metrics as one JSON object"),
    plot: Path | None = typer.Option(None, "--plot", help="write PNG plots into this directory"),
    schedule_out: Path | None = typer.Option(
        None, "--schedule-out", help="write job_id,submit,start,end,procs CSV"
    ),
    limit: int | None = typer.Option(None, "--limit", help="replay only the first N jobs"),
) -> None:
    """Replay TRACE on one cluster under a queue policy."""
    from computenet.sim.replay import replay

    result = replay(
        trace,
        policy,
        capacity=procs,
        estimate=estimate,  # type: ignore[arg-type]  # checked by replay
        limit=limit,
        schedule_out=schedule_out,
    )
    plots: list[Path] = []
    if plot is not None:
        from computenet.sim.plots import write_plots

        plots = write_plots(result.recorder, result.capacity, plot, title=trace.name)
    report = {
        "trace": str(trace),
        "policy": result.policy,
        "procs": result.capacity,
        "estimate": estimate,
        **result.metrics.to_dict(),
        "wall_s": round(result.wall_s, 4),
        "jobs_per_s": round(result.jobs_per_s, 1),
        "dropped": {
            "runtime": result.cleaning.dropped_runtime,
            "no_procs": result.cleaning.dropped_no_procs,
            "too_wide": result.cleaning.dropped_too_wide,
        },
    }
    if as_json:
        typer.echo(json.dumps(report))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{trace.name}: {result.policy} on {result.capacity} processors")
    table.add_column("metric")
    table.add_column("value", justify="right")
    m = result.metrics
    rows = [
        ("jobs", f"{m.jobs:,}"),
        ("mean wait", f"{m.mean_wait_s:,.0f} s"),
        (
            "p50 / p90 / p99 wait",
            f"{m.p50_wait_s:,.0f} / {m.p90_wait_s:,.0f} / {m.p99_wait_s:,.0f} s",
        ),
        ("mean bounded slowdown", f"{m.mean_bsld:,.2f}"),
        ("utilisation", f"{m.utilization:.1%}"),
        ("makespan", f"{m.makespan_s:,.0f} s"),
        ("wall time", f"{result.wall_s:.2f} s ({result.jobs_per_s:,.0f} jobs/s)"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    console = Console()
    console.print(table)
    for path in plots:
        console.print(f"plot: {path}")
    if schedule_out is not None:
        console.print(f"schedule: {schedule_out}")


def register(app: typer.Typer) -> None:
    """Add ``sim`` to the ``cnet`` app."""
    app.command("sim")(sim)
