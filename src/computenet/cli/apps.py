"""``cnet apps ls | show APP | run APP -p NAME=VALUE ... [SBATCH OPTIONS]``."""

from __future__ import annotations

import os
import sys
from typing import Any

import typer

from computenet.cli.context import exit_status, get_client, out_console, print_json

apps_app = typer.Typer(
    help="The application catalogue: ready-made applications with typed parameters.",
    no_args_is_help=True,
)
JSON_OPT = typer.Option(False, "--json", help="Print JSON (stable field names, docs/apps.md).")


@apps_app.command("ls")
def ls(as_json: bool = JSON_OPT) -> None:
    """List the applications of the catalogue.

    \b
    Examples:
      cnet apps ls
      cnet apps ls --json | jq -r '.apps[].name'
    """
    data = get_client().get("/apps")
    if as_json:
        print_json(data)
        return
    from rich.table import Table

    table = Table(title="applications")
    for col in ("name", "title", "version", "figure", "installed on", "source"):
        table.add_column(col)
    for a in data["apps"]:
        table.add_row(
            a["name"],
            a["title"],
            a["version"],
            a["figure_unit"] or "-",
            ", ".join(a["installed"]),
            a["source"],
        )
    console = out_console()
    console.print(table)
    for p in data.get("problems") or []:
        console.print(f"left out: {p['path']}: {p['field']}: {p['message']}")


def _allowed(f: dict[str, Any]) -> str:
    if f["type"] in ("int", "float"):
        low, high = f.get("min"), f.get("max")
        if low is not None and high is not None:
            return f"{low:g} to {high:g}"
        if low is not None:
            return f">= {low:g}"
        if high is not None:
            return f"<= {high:g}"
        return "any number"
    if f["type"] == "choice":
        return ", ".join(f["choices"])
    if f["type"] == "bool":
        return "true, false"
    if f["type"] == "str":
        return f"matches {f['pattern']}"
    return "SITE:PATH or /absolute/path"


@apps_app.command("show")
def show(
    name: str = typer.Argument(..., help="Application name (cnet apps ls)."),
    script: bool = typer.Option(False, "--script", help="Print the script template too."),
    as_json: bool = JSON_OPT,
) -> None:
    """Show an application: its parameters, default resources, where it is
    installed, and the figure it reports.

    \b
    Examples:
      cnet apps show lammps
      cnet apps show gromacs --json | jq .fields
    """
    app = get_client().app(name)
    if as_json:
        print_json(app)
        return
    from rich.table import Table

    console = out_console()
    console.print(f"{app['name']} {app['version']}: {app['title']} ({app['source']})")
    if app["description"]:
        console.print(app["description"].rstrip())
    params = Table(title="parameters (-p NAME=VALUE)")
    for col in ("name", "type", "default", "allowed", "help"):
        params.add_column(col)
    for f in app["fields"]:
        default = "(required)" if f["required"] else ("-" if f["default"] is None else f["default"])
        params.add_row(
            f["name"],
            f["type"],
            str(default),
            _allowed(f),
            f["label"] + (f": {f['help']}" if f["help"] else ""),
        )
    console.print(params)
    given = [f"{r['option']}={r['default']}" for r in app["resources"] if r["default"] is not None]
    console.print("default resources: " + (" ".join(given) or "the cluster's defaults"))
    for c in app["clusters"]:
        state = f"yes ({c['how']})" if c["available"] else f"no: {c['why_not']}"
        console.print(f"  {c['cluster']}: {state}")
    figure = app["figure"]
    if figure:
        better = "higher" if figure["higher_is_better"] else "lower"
        console.print(f"figure: {figure['label']} in {figure['unit']} ({better} is better)")
    if script:
        console.print(app["script_template"], markup=False, highlight=False)


#: Flags of ``cnet apps run`` itself; every other argument is an sbatch option.
_FLAGS = {"--json", "--wait", "-W", "--test-only", "--parsable"}


def split_run_args(args: list[str]) -> tuple[list[str], list[str], set[str]]:
    """(NAME=VALUE parameters, sbatch options, run flags) from the command line."""
    params: list[str] = []
    options: list[str] = []
    flags: set[str] = set()
    items = iter(args)
    for arg in items:
        if arg in ("-p", "--param"):
            value = next(items, None)
            if value is None:
                from computenet.errors import ParameterError

                raise ParameterError(f"{arg} needs NAME=VALUE", app=None, fields=[])
            params.append(value)
        elif arg.startswith("--param="):
            params.append(arg.split("=", 1)[1])
        elif arg.startswith("-p") and len(arg) > 2 and "=" in arg:
            params.append(arg[2:])
        elif arg in _FLAGS:
            flags.add("--wait" if arg == "-W" else arg)
        else:
            options.append(arg)
    return params, options, flags


def run(ctx: typer.Context, name: str = typer.Argument(..., help="Application name.")) -> None:
    """Run an application: parameters with -p NAME=VALUE, resources with any
    sbatch option (they override the application's defaults). Here -p is a
    parameter; give the partition as --partition=NAME.

    \b
    Examples:
      cnet apps run lammps -p steps=2000 -p size=20 --ntasks=4
      cnet apps run gromacs -p box=3.0 --time=20 --wait
      cnet apps run openfoam -p cells=40 --test-only     # estimates per cluster
      cnet apps run python -p script=home:/u/me/fit.py -p arguments="--epochs 3"
    """
    from computenet.apps.params import parse_assignments
    from computenet.cli.jobs import _print_placement, _wait

    params, options, flags = split_run_args(list(ctx.args))
    as_json = "--json" in flags
    client = get_client()
    result = client.run_app(
        name,
        parse_assignments(params),
        options=options,
        test_only="--test-only" in flags,
        cwd=os.getcwd(),
        env=dict(os.environ),
    )
    if "--test-only" in flags:
        if as_json:
            print_json(result)
        else:
            _print_placement(result["placement"], result["spec"])
        return
    job_id = result.get("array_job_id") or result["id"]
    if "--wait" in flags:
        final = _wait(client, job_id, quiet=as_json or "--parsable" in flags)
        if as_json:
            print_json(final)
        elif "--parsable" in flags:
            print(job_id)
        else:
            print_figures(final)
        raise typer.Exit(exit_status(final))
    if as_json:
        print_json(result)
    elif "--parsable" in flags:
        print(job_id)
    else:
        print(f"Submitted {name} as batch job {job_id}")


def figure_text(f: dict[str, Any]) -> str:
    """One recorded figure as ``cnet show`` and ``--wait`` print it."""
    if f["value"] is None:
        return f"none ({f['note']})"
    cpus = f["cpus"]
    return f"{f['value']:.6g} {f['unit']} on {f['cluster']} ({cpus} CPU{'s' if cpus != 1 else ''})"


def print_figures(job: dict[str, Any]) -> None:
    """The performance figure lines of a finished catalogue job."""
    for f in job.get("figures") or []:
        sys.stdout.write(f"figure: {figure_text(f)}\n")


#: a command that takes sbatch options after its own: unknown ones pass through
PASSTHROUGH: dict[str, Any] = {
    "allow_extra_args": True,
    "ignore_unknown_options": True,
    "allow_interspersed_args": False,
    "help_option_names": ["--help", "-h"],
}


def register(app: typer.Typer) -> None:
    apps_app.command(
        "run",
        context_settings=PASSTHROUGH,
        options_metavar="[-p NAME=VALUE]... [SBATCH OPTIONS] [--test-only] [--wait] [--json]",
    )(run)
    app.add_typer(apps_app, name="apps")
