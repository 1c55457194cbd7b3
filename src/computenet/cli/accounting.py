"""``cnet usage``, ``cnet budget ...`` and ``cnet quota ...``."""

from __future__ import annotations

import sys
from typing import Any

import typer

from computenet.cli.context import get_client, out_console, print_json

JSON_OPT = typer.Option(False, "--json", help="Print JSON (stable field names, docs/telemetry.md).")
budget_app = typer.Typer(help="Project budgets (administrators).", no_args_is_help=True)
quota_app = typer.Typer(help="Running CPU/GPU quotas (administrators).", no_args_is_help=True)


def usage(
    project: str = typer.Option(
        None, "--project", "-A", help="One project (default: all you may see)."
    ),
    month: str = typer.Option(None, "--month", help="YYYY-MM (default: this month, UTC)."),
    csv: bool = typer.Option(False, "--csv", help="CSV: month,project,user,core_seconds,..."),
    sacct: bool = typer.Option(
        False, "--sacct", help="sacct -P style lines for XDMoD and the like."
    ),
    since: str = typer.Option(None, "--since", help="With --sacct: attempts ended since."),
    until: str = typer.Option(None, "--until", help="With --sacct: ended before."),
    as_json: bool = JSON_OPT,
) -> None:
    """Monthly statement: core-seconds, GPU-seconds and cost per project and user.

    \b
    Examples:
      cnet usage --month 2025-03 --json
      cnet usage --project chem --csv > chem.csv
      cnet usage --sacct --since 2025-03-01 > sacct.txt
    """
    client = get_client()
    if sacct:
        params = {
            k: v
            for k, v in (("since", since), ("until", until), ("project", project))
            if v is not None
        }
        data = client.get("/usage/sacct", params)
        sys.stdout.write("".join(line + "\n" for line in data["lines"]))
        return
    params = {k: v for k, v in (("project", project), ("month", month)) if v is not None}
    data = client.get("/usage", params)
    if as_json:
        print_json(data)
        return
    if csv:
        from computenet.accounting.statements import statement_csv

        sys.stdout.write(statement_csv(data))
        return
    _print_statement(data)


def _print_statement(data: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"usage {data['month']}")
    for col in ("project", "user", "core-hours", "GPU-hours", "cost"):
        table.add_column(col)
    for p in data["projects"]:
        for u in p["users"]:
            table.add_row(
                p["project"],
                u["user"],
                f"{u['core_seconds'] / 3600:.2f}",
                f"{u['gpu_seconds'] / 3600:.2f}",
                f"{u['cost']:.2f}",
            )
        table.add_row(
            p["project"],
            "[b]total[/b]",
            f"{p['core_seconds'] / 3600:.2f}",
            f"{p['gpu_seconds'] / 3600:.2f}",
            f"{p['cost']:.2f}",
        )
    out_console().print(table)
    if data.get("pools"):
        pools = Table(title=f"node pools {data['month']}")
        for col in ("pool", "cluster", "nodes", "node-hours", "cost"):
            pools.add_column(col)
        for p in data["pools"]:
            pools.add_row(
                p["pool"],
                p["cluster"],
                str(p["nodes"]),
                f"{p['node_hours']:.2f}",
                f"{p['cost']:.2f}",
            )
        out_console().print(pools)


@budget_app.command("set")
def budget_set(
    project: str = typer.Argument(..., help="Project name."),
    amount: float = typer.Argument(..., help="Amount in billing units per period."),
    soft: bool = typer.Option(False, "--soft", help="Warn only; do not refuse submissions."),
    period: str = typer.Option("month", "--period", help="month (resets each month) or total."),
    as_json: bool = JSON_OPT,
) -> None:
    """Set a project's budget (hard by default: over it, submissions are refused)."""
    data = get_client().post(
        "/budgets", {"project": project, "amount": amount, "soft": soft, "period": period}
    )
    if as_json:
        print_json(data)
    else:
        kind = "soft" if soft else "hard"
        print(f"project {project}: {kind} budget {amount:g} per {period}, {data['left']:.2f} left")


@budget_app.command("ls")
def budget_ls(as_json: bool = JSON_OPT) -> None:
    """List budgets with what is spent, held by queued jobs, and left."""
    data = get_client().get("/budgets")
    if as_json:
        print_json(data)
        return
    from rich.table import Table

    table = Table()
    for col in ("project", "kind", "period", "amount", "spent", "reserved", "left"):
        table.add_column(col)
    for b in data["budgets"]:
        table.add_row(
            b["project"],
            "hard" if b["hard"] else "soft",
            b["period"],
            f"{b['amount']:.2f}",
            f"{b['spent']:.2f}",
            f"{b['reserved']:.2f}",
            f"{b['left']:.2f}",
        )
    out_console().print(table)


@budget_app.command("rm")
def budget_rm(project: str = typer.Argument(...)) -> None:
    """Remove a project's budget."""
    get_client().delete(f"/budgets/{project}")


@quota_app.command("set")
def quota_set(
    name: str = typer.Argument(..., help="Project or user name."),
    user: bool = typer.Option(False, "--user", help="NAME is a user (default: a project)."),
    max_cpus: int = typer.Option(None, "--max-cpus", help="Most CPUs held at clusters at once."),
    max_gpus: int = typer.Option(None, "--max-gpus", help="Most GPUs held at once."),
) -> None:
    """Limit the CPUs/GPUs a project or user holds at once (jobs wait with QOS* reasons)."""
    get_client().post(
        "/quotas",
        {
            "scope": "user" if user else "project",
            "name": name,
            "max_running_cpus": max_cpus,
            "max_running_gpus": max_gpus,
        },
    )


@quota_app.command("ls")
def quota_ls(as_json: bool = JSON_OPT) -> None:
    data = get_client().get("/quotas")
    if as_json:
        print_json(data)
        return
    for q in data["quotas"]:
        print(
            f"{q['scope']:<8} {q['name']:<16} cpus {q['max_running_cpus'] or '-'} "
            f"gpus {q['max_running_gpus'] or '-'}"
        )


@quota_app.command("rm")
def quota_rm(
    name: str = typer.Argument(...),
    user: bool = typer.Option(False, "--user", help="NAME is a user."),
) -> None:
    get_client().delete(f"/quotas/{'user' if user else 'project'}/{name}")


def register(app: typer.Typer) -> None:
    app.command("usage")(usage)
    app.add_typer(budget_app, name="budget")
    app.add_typer(quota_app, name="quota")
