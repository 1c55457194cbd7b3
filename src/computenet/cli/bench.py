"""Benchmark jobs that measure sustained speed beside the derived peak.

cnet bench run hpl|stream [--cluster C] [-p NAME=VALUE]... [SBATCH OPTIONS] [--wait] [--json]
cnet bench ls [--json]
"""

from __future__ import annotations

import sys
import time
from typing import Any

import typer

from computenet.cli.apps import PASSTHROUGH
from computenet.cli.context import get_client, out_console, print_json

bench_app = typer.Typer(
    help="HPL and STREAM as ordinary jobs; results show in cnet capacity.",
    no_args_is_help=True,
)

#: after the job ends, how long to wait for its figure to be read
SETTLE_WAIT_S = 30.0


def _cluster_of(options: list[str]) -> tuple[str | None, list[str]]:
    cluster: str | None = None
    rest: list[str] = []
    items = iter(options)
    for arg in items:
        if arg in ("--cluster", "-M", "--clusters"):
            cluster = next(items, None)
        elif arg.startswith(("--cluster=", "--clusters=")):
            cluster = arg.split("=", 1)[1]
        else:
            rest.append(arg)
    return cluster, rest


def run(ctx: typer.Context, benchmark: str = typer.Argument(..., help="hpl or stream.")) -> None:
    """Run HPL or STREAM (Debian's hpcc) as a job; its figure is stored with
    the date, node type and size, and shown by cnet capacity beside peak.

    \b
    Examples:
      cnet bench run hpl --cluster local-a --wait
      cnet bench run hpl -p n=4000 --ntasks=2 --wait
      cnet bench run stream --cluster hpc --wait --json
    """
    from computenet.apps.params import parse_assignments
    from computenet.cli.apps import split_run_args
    from computenet.cli.jobs import _wait

    params, options, flags = split_run_args(list(ctx.args))
    cluster, options = _cluster_of(options)
    as_json = "--json" in flags
    client = get_client()
    result = client.bench_run(
        benchmark, cluster=cluster, params=parse_assignments(params), options=options
    )
    bench_run = result["run"]
    if "--wait" not in flags:
        if as_json:
            print_json(result)
        else:
            print(
                f"Submitted {benchmark} as batch job {bench_run['job_id']} (run {bench_run['id']})"
            )
        return
    _wait(client, bench_run["job_id"], quiet=as_json)
    deadline = time.monotonic() + SETTLE_WAIT_S
    final = client.bench_run_status(bench_run["id"])
    while final["state"] == "submitted" and time.monotonic() < deadline:
        time.sleep(0.5)
        final = client.bench_run_status(bench_run["id"])
    if as_json:
        print_json(final)
    else:
        sys.stdout.write(run_text(final) + "\n")
    raise typer.Exit(0 if final["state"] == "completed" else 1)


def run_text(r: dict[str, Any]) -> str:
    where = f"{r['cluster']}/{r['partition']}" if r["cluster"] else "-"
    if r["state"] != "completed":
        return (
            f"{r['benchmark']} run {r['id']} (job {r['job_id']}) {r['state']}: {r['error'] or ''}"
        )
    text = f"{r['benchmark']}: {r['figure_text']} on {where} ({r['nodes']} nodes, {r['cpus']} CPUs)"
    if r["efficiency"] is not None:
        text += f", {100 * r['efficiency']:.1f}% of the derived peak {r['peak_gflops']:.4g} GFLOPS"
    return text


@bench_app.command("ls")
def ls(
    limit: int = typer.Option(50, "--limit", min=1, max=10_000),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List benchmark runs, newest first, with their figure or why they failed."""
    from rich.table import Table

    rows = get_client().bench_runs(limit)
    if as_json:
        print_json({"runs": rows})
        return
    table = Table()
    for col in ("run", "job", "benchmark", "state", "where", "size", "figure", "of peak", "date"):
        table.add_column(col)
    for r in rows:
        eff = "-" if r["efficiency"] is None else f"{100 * r['efficiency']:.1f}%"
        size = "-" if r["nodes"] is None else f"{r['nodes']}N {r['cpus']}C"
        where = f"{r['cluster']}/{r['partition']}" if r["cluster"] else "-"
        figure = r["figure_text"] if r["state"] != "failed" else f"failed: {r['error']}"
        if r["state"] == "submitted":
            figure = "-"
        table.add_row(
            str(r["id"]),
            str(r["job_id"]),
            r["benchmark"],
            r["state"],
            where,
            size,
            figure,
            eff,
            r["date"],
        )
    out_console().print(table)


def register(app: typer.Typer) -> None:
    bench_app.command(
        "run",
        context_settings=PASSTHROUGH,
        options_metavar="[--cluster C] [-p NAME=VALUE]... [SBATCH OPTIONS] [--wait] [--json]",
    )(run)
    app.add_typer(bench_app, name="bench")
