"""Container image commands.

cnet image build NAME --packages p1,p2 [--suite SUITE] [--no-wait] [--json]
cnet image status BUILD_ID [--follow] [--json]
cnet image ls [--site SITE] [--json]
cnet image rm NAME [--site SITE] [--json]
"""

from __future__ import annotations

import sys
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
    no_wait: bool = typer.Option(
        False, "--no-wait", help="Print the build's id and return; the server goes on."
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """Build an image with mmdebstrap (administrators; takes a minute or more).

    The server runs the build; this command follows its log (on stderr)
    until it ends. Closing it does not stop the build.

    \b
    Examples:
      cnet image build mpi --packages openmpi-bin
      cnet image build mpi --packages openmpi-bin --no-wait   # prints the build's id
      cnet image status BUILD_ID --follow
      cnet submit --container-image=mpi -N2 -n4 job.sh
    """
    wanted = [p.strip() for p in packages.split(",") if p.strip()]
    client = get_client()
    started = client.build_image(name, wanted, suite=suite)
    if no_wait:
        if as_json:
            print_json(started)
        else:
            print(started["id"])
        return
    if not as_json:
        print(f"building image {name} (build {started['id']})", file=sys.stderr)
    _follow(started["id"], as_json)


@image_app.command("status")
def status(
    build_id: str = typer.Argument(..., help="The build's id (from cnet image build --no-wait)."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Follow the log until it ends."),
    as_json: bool = JSON_OPT,
) -> None:
    """A build's state and log (a failed build keeps its log)."""
    if follow:
        _follow(build_id, as_json)
        return
    record = get_client().image_build(build_id)
    if as_json:
        print_json(record)
        return
    sys.stderr.write(record["log"])
    print(f"build {record['id']} of image {record['name']}: {record['state']}", end="")
    print(f": {record['message']}" if record.get("message") else "")


def _follow(build_id: str, as_json: bool) -> None:
    """Follow a build to its end; a failed one exits with its error (code 14)."""

    def show(text: str) -> None:
        if not as_json:
            sys.stderr.write(text)
            sys.stderr.flush()

    done = get_client().follow_build(build_id, show)
    image = done.get("image") or {}
    if as_json:
        print_json(done)
        return
    print(f"built image {done['name']} {str(image.get('digest', done['digest']))[:19]}", end="")
    print(f" ({_mib(image)} MiB)" if image else "")


@image_app.command("ls")
def ls(site: str | None = SITE_OPT, as_json: bool = JSON_OPT) -> None:
    """List a site's images."""
    body = get_client().get("/images", {"site": site} if site else None)
    if as_json:
        print_json(body)
        return
    print_images(body["images"], body.get("builds") or [])


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
    if "digest" in record:
        print(f"removed image {record['name']} from site {record['site']}")
    if record.get("builds_forgotten"):
        print(f"forgot {record['builds_forgotten']} ended build(s) of {record['name']}")


def _mib(record: dict[str, Any]) -> str:
    return f"{int(record['size_bytes']) / 2**20:.0f}"


def print_images(rows: list[dict[str, Any]], builds: list[dict[str, Any]]) -> None:
    from rich.table import Table

    console = out_console()
    if not rows and not builds:
        console.print("no images (build one: cnet image build NAME --packages ...)")
        return
    table = Table()
    for col in ("name", "site", "state", "digest", "MiB", "packages", "suite", "built"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["name"],
            r["site"],
            "ready",
            r["digest"][:19],
            _mib(r),
            ",".join(r.get("packages") or []) or "-",
            r.get("suite") or "-",
            fmt_time(r.get("created_at")),
        )
    for b in builds:
        table.add_row(
            b["name"],
            b["site"],
            b["state"],
            f"build {b['id']}",
            "-",
            ",".join(b.get("packages") or []) or "-",
            b.get("suite") or "-",
            fmt_time(b.get("started_at")),
        )
    console.print(table)
    failed = [b for b in builds if b["state"] == "failed"]
    for b in failed:
        console.print(f"build {b['id']} of {b['name']} failed: {b.get('message') or '?'}")
    if failed:
        console.print("its log: cnet image status BUILD_ID; forget it: cnet image rm NAME")


def register(app: typer.Typer) -> None:
    app.add_typer(image_app, name="image")
