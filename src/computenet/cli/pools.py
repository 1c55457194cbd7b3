"""Pool commands.

cnet pools [--json]                        pools, their nodes, cost so far, why they grew
cnet pool events [POOL] [--limit N] [--json]
cnet pool resume HOSTLIST --cluster NAME   (slurmctld's ResumeProgram)
cnet pool suspend HOSTLIST --cluster NAME  (slurmctld's SuspendProgram)
"""

from __future__ import annotations

from typing import Any

import typer

from computenet.cli.context import fmt_time, get_client, out_console, print_json

JSON_OPT = typer.Option(False, "--json", help="Print JSON (stable field names).")

pool_app = typer.Typer(
    help="Node pools: their events, and the programs slurmctld runs to power nodes up and down.",
    no_args_is_help=True,
)


def pools(as_json: bool = JSON_OPT) -> None:
    """List node pools: nodes and their state, cost so far, and why each grew.

    \b
    Examples:
      cnet pools
      cnet pools --json | jq '.pools[] | {name, up, booting, cost}'
    """
    rows = get_client().pools()
    if as_json:
        print_json({"pools": rows})
        return
    print_pools(rows)


def print_pools(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    console = out_console()
    if not rows:
        console.print("no pools are configured (see docs/bursting.md)")
        return
    table = Table()
    for col in (
        "pool",
        "cluster",
        "partition",
        "provider",
        "nodes",
        "boot",
        "$/node-h",
        "spend/h",
        "cost",
        "node-h",
    ):
        table.add_column(col)
    notes = []
    for p in rows:
        table.add_row(
            p["name"],
            p["cluster"],
            p["partition"],
            p["provider"],
            f"{p['up']} up, {p['booting']} booting / {p['max_nodes']}",
            f"{p['boot_delay_s']:g} s",
            f"{p['price_per_node_hour']:.3f}",
            f"{p['spend_per_hour']:.3f}",
            f"{p['cost']:.4f}",
            f"{p['node_hours']:.3f}",
        )
        if p.get("error"):
            notes.append(f"{p['name']}: cannot grow: {p['error']}")
        elif p.get("blocked_why"):
            notes.append(
                f"{p['name']}: not growing until {fmt_time(p['blocked_until'])}: {p['blocked_why']}"
            )
        if p.get("last_growth"):
            notes.append(f"{p['name']} last {p['last_growth']}")
    console.print(table)
    nodes = [(p["name"], n) for p in rows for n in p["nodes"]]
    if nodes:
        table = Table()
        for col in ("pool", "node", "state", "since", "cost", "grew because"):
            table.add_column(col)
        for pool, n in nodes:
            state = "idle" if n["idle"] else n["state"]
            table.add_row(
                pool,
                n["name"],
                state,
                fmt_time(n["up_at"] or n["requested_at"]),
                f"{n['cost']:.4f}",
                n.get("reason") or "-",
            )
        console.print(table)
    for note in notes:
        console.print(note)


@pool_app.command("events")
def events(
    pool: str = typer.Argument(None, help="Only this pool's events."),
    limit: int = typer.Option(100, "--limit", min=1, max=10_000),
    as_json: bool = JSON_OPT,
) -> None:
    """Pool events, oldest first: growth and why, nodes up, released, failed.

    \b
    Examples:
      cnet pool events
      cnet pool events burst --limit 20 --json
    """
    rows = get_client().pool_events(pool, limit)
    if as_json:
        print_json({"events": rows})
        return
    console = out_console()
    for e in rows:
        console.print(f"{fmt_time(e['time'])}  {e['pool']:<12} {e['kind']:<8} {e['message']}")


def _hosts(path: str, hostlist: str, cluster: str) -> dict[str, Any]:
    from computenet.client import Client

    # slurmctld calls this: never start a local server from here
    with Client.connect(start=False) as client:
        result: dict[str, Any] = client.post(path, {"cluster": cluster, "hostlist": hostlist})
    return result


@pool_app.command("resume")
def resume(
    hostlist: str = typer.Argument(..., help="Nodes, as slurmctld passes them (c1c[1-3])."),
    cluster: str = typer.Option(..., "--cluster", help="The Slurm cluster they belong to."),
    as_json: bool = JSON_OPT,
) -> None:
    """Power nodes of a pool up; slurm.conf's ResumeProgram runs this.

    The server starts each node's provider (for the local provider, the
    node's slurmd) after the pool's boot delay, unless the network's hard cap
    on pool spending is reached.

    \b
    Example (slurm.conf runs a wrapper that sets CN_SERVER_URL and CN_TOKEN):
      cnet pool resume 'c1c[1-2]' --cluster c1
    """
    out = _hosts("/pools/resume", hostlist, cluster)
    if as_json:
        print_json(out)
        return
    typer.echo(
        f"resumed: {','.join(out['resumed']) or '-'}; refused: "
        f"{','.join(out['refused']) or '-'}; not in a pool: {','.join(out['unknown']) or '-'}"
    )
    if out["refused"] or out["unknown"]:
        raise typer.Exit(1)


@pool_app.command("suspend")
def suspend(
    hostlist: str = typer.Argument(..., help="Nodes, as slurmctld passes them."),
    cluster: str = typer.Option(..., "--cluster", help="The Slurm cluster they belong to."),
    as_json: bool = JSON_OPT,
) -> None:
    """Power nodes of a pool down; slurm.conf's SuspendProgram (and
    ResumeFailProgram) runs this.

    \b
    Example:
      cnet pool suspend c1c2 --cluster c1
    """
    out = _hosts("/pools/suspend", hostlist, cluster)
    if as_json:
        print_json(out)
        return
    typer.echo(
        f"suspended: {','.join(out['suspended']) or '-'}; not in a pool: "
        f"{','.join(out['unknown']) or '-'}"
    )
    if out["unknown"]:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("pools")(pools)
    app.add_typer(pool_app, name="pool")
