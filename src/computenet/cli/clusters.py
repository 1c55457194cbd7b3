"""Cluster commands: list, add, remove.

cnet clusters [--json]
cnet clusters add NAME --kind slurm --slurm-conf PATH
cnet clusters add NAME --kind slurm --ssh USER@HOST[:PORT] --key PATH [--known-hosts PATH]
cnet clusters rm NAME [--force]
cnet clusters drain NAME | cnet clusters resume NAME
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from computenet.cli.context import get_client, out_console, print_json
from computenet.errors import SpecError

JSON_OPT = typer.Option(False, "--json", help="Print JSON (stable field names).")

clusters_app = typer.Typer(
    help="The clusters of the network: list them, add one, remove one.",
    invoke_without_command=True,
    no_args_is_help=False,
)


@clusters_app.callback()
def clusters(ctx: typer.Context, as_json: bool = JSON_OPT) -> None:
    """List clusters with health, capacity, queue, prices and features.

    \b
    Examples:
      cnet clusters
      cnet clusters --json | jq '.clusters[] | {name, health, reason}'
    """
    if ctx.invoked_subcommand is not None:
        return
    rows = get_client().clusters()
    if as_json:
        print_json({"clusters": rows})
        return
    print_table(rows)


def print_table(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table()
    for col in (
        "cluster",
        "kind",
        "site",
        "health",
        "partition",
        "nodes",
        "cpus/node",
        "gpus/node",
        "alloc",
        "queue",
        "$/core-h",
        "$/gpu-h",
    ):
        table.add_column(col)
    notes = []
    for c in rows:
        pools = {x["partition"]: x["name"] for x in c.get("pools") or []}
        for p in c["partitions"] or [{}]:
            cpn = p.get("cores_per_node", 0) * p.get("threads_per_core", 1)
            part = p.get("name", "-")
            table.add_row(
                c["name"],
                c.get("kind") or "-",
                c.get("site") or "-",
                c["health"],
                f"{part} (pool {pools[part]})" if part in pools else part,
                str(p.get("nodes", "-")),
                str(cpn or "-"),
                str(p.get("gpus_per_node", "-")),
                f"{c.get('cpus_alloc', '-')}/{c.get('cpus_total', '-')}",
                f"{c.get('jobs_running', 0)}R {c.get('jobs_pending', 0)}PD",
                _price(p.get("price_per_core_hour", c.get("price_per_core_hour"))),
                _price(p.get("price_per_gpu_hour", c.get("price_per_gpu_hour"))),
            )
        if c.get("reason"):
            notes.append(f"{c['name']} is {c['health']}: {c['reason']}")
        unsupported = [k for k, v in (c.get("features") or {}).items() if v]
        if unsupported:
            notes.append(f"{c['name']} lacks: {', '.join(unsupported)}")
    console = out_console()
    console.print(table)
    for note in notes:
        console.print(note)


def _price(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


@clusters_app.command("add")
def add(
    name: str = typer.Argument(..., help="A new cluster name (letters, digits, _ . -)."),
    kind: str = typer.Option("slurm", "--kind", help="slurm, embedded or fake."),
    slurm_conf: str = typer.Option(None, "--slurm-conf", help="slurm.conf (commands run here)."),
    ssh: str = typer.Option(None, "--ssh", help="A login node: USER@HOST[:PORT]."),
    key: Path = typer.Option(None, "--key", help="SSH private key for --ssh."),
    known_hosts: Path = typer.Option(None, "--known-hosts", help="known_hosts for --ssh."),
    site: str = typer.Option("local", "--site"),
    region: str = typer.Option("local", "--region"),
    core_hour: float = typer.Option(None, "--price-per-core-hour", min=0),
    gpu_hour: float = typer.Option(None, "--price-per-gpu-hour", min=0),
    partition: list[str] = typer.Option(
        [], "--partition", help="NAME:NODESxCORES (embedded, fake; optional for slurm)."
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """Add a cluster while the server runs; it is kept across restarts.

    A cluster that cannot be reached is added anyway and shows DOWN with the
    reason until it answers.

    \b
    Examples:
      cnet clusters add hpc1 --kind slurm --slurm-conf /etc/slurm/slurm.conf
      cnet clusters add hpc2 --ssh alice@login.example.org --key ~/.ssh/id_ed25519 \\
          --site example --price-per-core-hour 0.02
    """
    body: dict[str, Any] = {"name": name, "kind": kind, "site": site, "region": region}
    for field, value in (
        ("slurm_conf", _absolute(slurm_conf)),
        ("ssh", ssh),
        ("ssh_key", _absolute(key)),
        ("ssh_known_hosts", _absolute(known_hosts)),
        ("price_per_core_hour", core_hour),
        ("price_per_gpu_hour", gpu_hour),
    ):
        if value is not None:
            body[field] = value
    if partition:
        body["partitions"] = [_partition(text, i == 0) for i, text in enumerate(partition)]
    row = get_client().post("/clusters", body)
    if as_json:
        print_json(row)
        return
    health = row.get("health", "?")
    why = f": {row['reason']}" if row.get("reason") else ""
    print(f"added cluster {name} ({kind}), {health}{why}")


def _absolute(path: str | Path | None) -> str | None:
    return None if path is None else str(Path(path).expanduser().absolute())


def _partition(text: str, first: bool) -> dict[str, Any]:
    name, sep, shape = text.partition(":")
    nodes, x, cores = shape.partition("x")
    if not sep or not x or not nodes.isdigit() or not cores.isdigit() or not name:
        raise SpecError(f"bad --partition {text!r}: want NAME:NODESxCORES, e.g. debug:2x4")
    return {"name": name, "nodes": int(nodes), "cores": int(cores), "default": first}


@clusters_app.command("rm")
def rm(
    name: str = typer.Argument(..., help="A cluster added with cnet clusters add."),
    force: bool = typer.Option(
        False, "--force", help="Cancel its live jobs there and requeue them on other clusters."
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """Remove a cluster added at run time. Refused while it has live jobs,
    unless --force."""
    query = "?force=true" if force else ""
    result = get_client().delete(f"/clusters/{name}{query}")
    if as_json:
        print_json(result)
        return
    moved = result.get("requeued") or []
    print(f"removed cluster {name}" + (f"; requeued {len(moved)} job(s)" if moved else ""))


@clusters_app.command("drain")
def drain(name: str = typer.Argument(...), as_json: bool = JSON_OPT) -> None:
    """Place no new jobs on the cluster (those there go on) until resumed.
    Kept by this server until it restarts."""
    result = get_client().drain_cluster(name)
    if as_json:
        print_json(result)
        return
    print(f"drained cluster {name}: no new jobs go there (cnet clusters resume {name})")


@clusters_app.command("resume")
def resume(name: str = typer.Argument(...), as_json: bool = JSON_OPT) -> None:
    """Undo a drain: jobs are placed on the cluster again."""
    result = get_client().resume_cluster(name)
    if as_json:
        print_json(result)
        return
    print(f"cluster {name} takes jobs again")


def register(app: typer.Typer) -> None:
    app.add_typer(clusters_app, name="clusters")
