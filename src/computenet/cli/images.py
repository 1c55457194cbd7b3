"""Container image commands.

cnet image build NAME --packages p1,p2 [--suite SUITE] [--json]
cnet image ls [--site SITE] [--json]
cnet image rm NAME [--site SITE] [--json]
"""

from __future__ import annotations

from typing import Any

import typer

from computenet.cli.context import fmt_time, get_client, out_console, print_json

JSON_OPT = typer.Option(False, "--json", help="Print JSON (stable field names).")
SITE_OPT = typer.Option(None, "--site", help="The site's store (default: the build site).")

image_app = typer.Typer(
    help="Container images built from Debian packages, for --container-image.",
    no_args_is_help=True,
)


@image_app.command("build")
def build(
    name: str = typer.Argument(..., help="Image name, optionally NAME:TAG."),
    packages: str = typer.Option("", "--packages", help="Debian packages, comma-separated."),
    suite: str | None = typer.Option(None, "--suite", help="Debian suite (default: the host's)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Build an image with mmdebstrap (administrators; takes a minute or more).

    \b
    Examples:
      cnet image build mpi --packages openmpi-bin
      cnet submit --container-image=mpi -N2 -n4 job.sh
    """
    wanted = [p.strip() for p in packages.split(",") if p.strip()]
    record = get_client().build_image(name, wanted, suite=suite)
    if as_json:
        print_json(record)
        return
    print(f"built image {record['name']} {record['digest'][:19]} ({_mib(record)} MiB)")


@image_app.command("ls")
def ls(site: str | None = SITE_OPT, as_json: bool = JSON_OPT) -> None:
    """List a site's images."""
    rows = get_client().images(site)
    if as_json:
        print_json({"images": rows})
        return
    print_images(rows)


@image_app.command("rm")
def rm(
    name: str = typer.Argument(..., help="Image name."),
    site: str | None = SITE_OPT,
    as_json: bool = JSON_OPT,
) -> None:
    """Remove an image (administrators); running jobs keep theirs."""
    record = get_client().remove_image(name, site)
    if as_json:
        print_json(record)
        return
    print(f"removed image {record['name']} from site {record['site']}")


def _mib(record: dict[str, Any]) -> str:
    return f"{int(record['size_bytes']) / 2**20:.0f}"


def print_images(rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    console = out_console()
    if not rows:
        console.print("no images (build one: cnet image build NAME --packages ...)")
        return
    table = Table()
    for col in ("name", "site", "digest", "MiB", "packages", "suite", "built"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["name"],
            r["site"],
            r["digest"][:19],
            _mib(r),
            ",".join(r.get("packages") or []) or "-",
            r.get("suite") or "-",
            fmt_time(r.get("created_at")),
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(image_app, name="image")
