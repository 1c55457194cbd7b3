"""cnet capacity: how big the network is and how much of it a job could get.

cnet capacity [--shape S]... [--horizon T]... [--json]
"""

from __future__ import annotations

from typing import Any

import typer

from computenet.cli.context import get_client, out_console, print_json


def capacity(
    shape: list[str] = typer.Option(
        [],
        "--shape",
        help="node, cpus=N or gpus=N, with mem=SIZE and time=LIMIT (repeatable; "
        "default: node and cpus=1).",
    ),
    horizon: list[str] = typer.Option(
        [], "--horizon", help="10m, 1h, 24h, 2d or seconds, 0 to 7 days (repeatable)."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print JSON, with the callable curve from now to 24 h."
    ),
) -> None:
    """Total scale, peak and measured FLOPS, and callable scale.

    Callable scale is the largest job of a shape that the broker's queue
    forecast starts within the horizon, per partition and network-wide.

    \b
    Examples:
      cnet capacity
      cnet capacity --shape cpus=4,mem=8G --horizon 10m --horizon 1h
      cnet capacity --shape gpus=1 --json | jq '.network.callable'
    """
    data = get_client().capacity(shape, horizon, curve=as_json)
    if as_json:
        print_json(data)
        return
    print_capacity(data)


def _gib(n: int) -> str:
    return f"{n / 2**30:.0f} GiB" if n < 2**40 else f"{n / 2**40:.1f} TiB"


def _gflops(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x / 1000:.3g} TFLOPS" if x >= 1000 else f"{x:.3g} GFLOPS"


def _gpus(g: dict[str, int]) -> str:
    return ", ".join(f"{n} {m}" for m, n in g.items()) or "-"


def print_capacity(data: dict[str, Any]) -> None:
    from rich.table import Table

    console = out_console()
    scale = Table(title="total scale and peak (derived)")
    for col in ("cluster", "partition", "nodes", "cores", "threads", "GPUs", "memory", "peak"):
        scale.add_column(col)
    measured = Table(title="sustained (benchmark jobs)")
    for col in ("cluster", "partition", "benchmark", "figure", "of peak", "nodes", "date"):
        measured.add_column(col)
    notes: list[str] = []
    for c in data["clusters"]:
        for p in c["partitions"]:
            s = p["scale"]
            scale.add_row(
                c["name"],
                p["name"],
                str(s["nodes"]),
                str(s["cores"]),
                str(s["threads"]),
                _gpus(s["gpus"]),
                _gib(s["mem_bytes"]),
                _gflops(p["peak"]["gflops"]),
            )
            for b in p["sustained"]:
                measured.add_row(
                    c["name"],
                    p["name"],
                    b["benchmark"],
                    b["figure_text"],
                    "-" if b.get("efficiency") is None else f"{100 * b['efficiency']:.1f}%",
                    "-" if b["nodes"] is None else str(b["nodes"]),
                    b["date"],
                )
            notes.append(f"{c['name']}/{p['name']} peak: {p['peak']['derivation']}")
        if c.get("peak_note"):
            notes.append(f"{c['name']}: {c['peak_note']}")
    n = data["network"]
    s = n["scale"]
    scale.add_row(
        "network",
        "",
        str(s["nodes"]),
        str(s["cores"]),
        str(s["threads"]),
        _gpus(s["gpus"]),
        _gib(s["mem_bytes"]),
        _gflops(n["peak_gflops"]),
    )
    console.print(scale)
    if measured.row_count:
        console.print(measured)
    horizons = data["horizons_s"]
    callable_ = Table(title="callable scale: nodes of the shape starting within")
    for col in ("shape", "cluster", "partition", *(_horizon(h) for h in horizons)):
        callable_.add_column(col)
    for shape in data["shapes"]:
        for c in data["clusters"]:
            for p in c["partitions"]:
                by_h = {r["horizon_s"]: r for r in p["callable"] if r["shape"] == shape}
                callable_.add_row(
                    shape, c["name"], p["name"], *(_cell(by_h.get(h)) for h in horizons)
                )
        best = {r["horizon_s"]: r for r in n["callable"] if r["shape"] == shape}
        callable_.add_row(
            shape,
            "network",
            "largest",
            *(_cell(best[h]["largest"], True) if h in best else "-" for h in horizons),
        )
    console.print(callable_)
    apps = data.get("applications") or []
    if apps:
        table = Table(title="real applications (last 30 days)")
        for col in ("application", "cluster", "partition", "runs", "median figure", "cost/unit"):
            table.add_column(col)
        for a in apps:
            figure = "-" if a["median_figure"] is None else f"{a['median_figure']:.4g} {a['unit']}"
            cost = "-"
            if a["cost_per_work"] is not None:
                cost = f"{a['cost_per_work']:.4g} per {a['work_unit']}"
            table.add_row(a["app"], a["cluster"], a["partition"], str(a["runs"]), figure, cost)
        console.print(table)
    for note in notes:
        console.print(note)


def _cell(row: dict[str, Any] | None, where: bool = False) -> str:
    if row is None or not row["nodes"]:
        return "0"
    text = f"{row['nodes']} ({row['cpus']} CPUs"
    text += f", {row['gpus']} GPUs)" if row["gpus"] else ")"
    if where:
        text += f" on {row['cluster']}/{row['partition']}"
    return text + (" +pool" if row["pool"] else "")


def _horizon(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:.0f} {unit}"
    return "now" if seconds == 0 else f"{seconds:.0f} s"


def register(app: typer.Typer) -> None:
    app.command("capacity")(capacity)
