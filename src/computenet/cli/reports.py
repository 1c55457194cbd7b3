"""``cnet report ...``, ``cnet alerts`` and ``cnet diagnose``.

Heavy imports (rich, matplotlib, pyarrow) happen inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from computenet.cli.context import fmt_time, get_client, out_console, print_json

report_app = typer.Typer(
    help="Reports: utilisation, waits, efficiency, idle capacity, prediction error.",
    no_args_is_help=True,
)
JSON_OPT = typer.Option(False, "--json", help="Print JSON (stable field names, docs/telemetry.md).")
SINCE = typer.Option(None, "--since", help="Start: YYYY-MM-DD[THH:MM] (UTC), epoch, or -7d.")
UNTIL = typer.Option(None, "--until", help="End (default now).")
BY = typer.Option("cluster", "--by", help="cluster | partition | project | user | day")
PLOT = typer.Option(None, "--plot", help="Write a PNG chart into this directory.")


def _params(**kw: Any) -> dict[str, Any]:
    return {k: v for k, v in kw.items() if v is not None}


def _table(title: str, rows: list[dict[str, Any]], columns: list[str] | None = None) -> None:
    from rich.table import Table

    columns = columns or (list(rows[0]) if rows else [])
    table = Table(title=title)
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(*[_cell(r.get(c)) for c in columns])
    out_console().print(table if rows else f"{title}: nothing in this range")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items() if k != "count")
    return str(value)


def _plot(directory: Path, name: str, labels: list[str], values: list[float], ylabel: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(max(4.0, 0.5 * len(labels) + 2), 3.5))
    ax.bar(labels, values)
    ax.set_ylabel(ylabel)
    ax.set_title(name)
    ax.tick_params(axis="x", labelrotation=45)
    fig.tight_layout()
    path = directory / f"{name}.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


@report_app.command("utilization")
def utilization(
    since: str = SINCE,
    until: str = UNTIL,
    by: str = BY,
    as_json: bool = JSON_OPT,
    plot: Path = PLOT,
) -> None:
    """Allocated core-hours over capacity, with top users and projects.

    \b
    Examples:
      cnet report utilization --since -30d --by day
      cnet report utilization --by partition --json
    """
    data = get_client().get("/reports/utilization", _params(since=since, until=until, by=by))
    keys = ["cluster", "partition"] if by == "partition" else [by]
    if plot is not None:
        labels = ["/".join(str(r[k]) for k in keys) for r in data["rows"]]
        values = [r.get("utilization", r["core_hours"]) for r in data["rows"]]
        data["plot"] = str(
            _plot(
                plot,
                f"utilization-by-{by}",
                labels,
                values,
                "utilization" if by in ("cluster", "partition", "day") else "core-hours",
            )
        )
    if as_json:
        print_json(data)
        return
    cols = [*keys, "core_hours", "gpu_hours", "capacity_core_hours", "utilization"]
    _table(
        f"utilization by {by}",
        data["rows"],
        [c for c in cols if any(c in r for r in data["rows"])] or cols,
    )
    out_console().print(f"total: {_cell(data['total'])}")
    for what in ("top_projects", "top_users"):
        if data[what]:
            _table(what.replace("_", " "), data[what])


@report_app.command("waits")
def waits(
    since: str = SINCE, until: str = UNTIL, as_json: bool = JSON_OPT, plot: Path = PLOT
) -> None:
    """Queue waits (mean, p50, p95) by cluster and job size."""
    data = get_client().get("/reports/waits", _params(since=since, until=until))
    if plot is not None:
        rows = [r for r in data["rows"] if r["size"] == "all"]
        data["plot"] = str(
            _plot(
                plot,
                "waits-p95",
                [r["cluster"] for r in rows],
                [r["p95_s"] for r in rows],
                "p95 wait (s)",
            )
        )
    if as_json:
        print_json(data)
        return
    _table("queue waits (seconds)", data["rows"])


@report_app.command("efficiency")
def efficiency(
    since: str = SINCE,
    until: str = UNTIL,
    by: str = typer.Option("user", "--by", help="cluster | partition | project | user"),
    as_json: bool = JSON_OPT,
) -> None:
    """CPU efficiency (CPU time / (CPUs x elapsed)) and memory efficiency."""
    data = get_client().get("/reports/efficiency", _params(since=since, until=until, by=by))
    if as_json:
        print_json(data)
        return
    _table(f"efficiency by {by}", data["rows"])
    _table("least efficient jobs", data["worst"])


@report_app.command("idle")
def idle(as_json: bool = JSON_OPT) -> None:
    """Idle CPUs and GPUs now, and idle core-hours over the last day."""
    data = get_client().get("/reports/idle")
    if as_json:
        print_json(data)
        return
    _table("idle now", data["now"])
    _table("idle over the last day", data["last_day"])


@report_app.command("predictions")
def predictions(since: str = SINCE, until: str = UNTIL, as_json: bool = JSON_OPT) -> None:
    """Predicted against actual start and run time, per cluster."""
    data = get_client().get("/reports/predictions", _params(since=since, until=until))
    if as_json:
        print_json(data)
        return
    _table("prediction error (seconds; bias > 0: predicted late)", data["rows"])


@report_app.command("export")
def export(
    table: str = typer.Argument(
        ..., help="node_samples | job_samples | partition_samples | usage_records"
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Parquet file to write."),
    since: str = SINCE,
    until: str = UNTIL,
) -> None:
    """Export a telemetry or accounting table to Parquet (administrators)."""
    from computenet.telemetry.export import write_parquet

    client = get_client()

    def pages() -> Any:
        cursor = -1
        while True:
            page = client.get(
                f"/telemetry/export/{table}",
                _params(since=since, until=until, cursor=cursor, limit=50_000),
            )
            yield page["rows"]
            if page["next_cursor"] is None:
                return
            cursor = page["next_cursor"]

    count = write_parquet(pages(), out)
    print(f"wrote {count} rows to {out}")


@report_app.command("apps")
def apps(
    since: str = typer.Option(None, "--since", help="Start (default -30d): date, epoch or -7d."),
    until: str = UNTIL,
    app: str = typer.Option(None, "--app", help="Only this application."),
    as_json: bool = JSON_OPT,
) -> None:
    """Catalogue applications per cluster and partition: runs, median
    performance figure, cost per run and cost per unit of work (docs/apps.md).

    \b
    Examples:
      cnet report apps
      cnet report apps --app lammps --since -7d --json
    """
    data = get_client().app_report(since=since, until=until, app=app)
    if as_json:
        print_json(data)
        return
    rows = [
        {
            **r,
            "figure": f"{_cell(r['median_figure'])} {r['unit']}",
            "cost/work": (
                f"{r['cost_per_work']:.3g} per {r['work_unit']}"
                if r["cost_per_work"] is not None
                else "-"
            ),
            "no figure": r["runs_without_figure"],
        }
        for r in data["rows"]
    ]
    _table(
        "applications by cluster",
        rows,
        ["app", "cluster", "partition", "runs", "no figure", "figure", "cost_per_run", "cost/work"],
    )


def alerts(
    all: bool = typer.Option(False, "--all", "-a", help="Include resolved alerts."),
    as_json: bool = JSON_OPT,
) -> None:
    """Open alerts: hung jobs, memory near the limit, idle GPUs, failing clusters."""
    data = get_client().get("/alerts", {"all": all})
    if as_json:
        print_json(data)
        return
    if not data["alerts"]:
        print("no open alerts")
        return
    for a in data["alerts"]:
        state = "resolved" if a["resolved_at"] else "open"
        print(
            f"{fmt_time(a['first_seen'])} {a['severity']:<8} {a['kind']:<18} {state:<8} "
            f"{a['message']}"
        )


def diagnose(
    job_id: str = typer.Argument(..., help="Job id (123 or 123_4)."), as_json: bool = JSON_OPT
) -> None:
    """Say why a job failed (or looks odd), with the evidence and a hint.

    \b
    Example:
      cnet diagnose 42
      cnet diagnose 42 --json | jq .cause
    """
    data = get_client().get(f"/jobs/{job_id}/diagnosis")
    if as_json:
        print_json({"cause": data["cause"], "evidence": data["evidence"], "hint": data["hint"]})
        return
    print(f"cause: {data['cause']}")
    for line in data["evidence"]:
        print(f"  - {line}")
    print(f"hint: {data['hint']}")


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
    app.command("alerts")(alerts)
    app.command("diagnose")(diagnose)
