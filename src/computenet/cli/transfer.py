"""``cnet cp``, ``cnet transfers``, ``cnet sites`` and ``cnet agent``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from computenet.cli import transfer_follow as follow_mod
from computenet.cli.context import get_client, print_json

JSON_OPT = typer.Option(False, "--json", help="Print JSON.")
sites_app = typer.Typer(
    help="Sites: where data lives (site agents, paths, SFTP).", invoke_without_command=True
)


def cp(
    src: str = typer.Argument(..., help="Local path or SITE:PATH."),
    dst: str = typer.Argument(..., help="Local path or SITE:PATH (ending in / = into)."),
    recursive: bool = typer.Option(False, "-r", "--recursive", help="Copy a directory tree."),
    resume: bool = typer.Option(
        False,
        "--resume",
        help="Keep verified chunks of an interrupted copy and skip "
        "files already there (same size and mtime).",
    ),
    parallel: int = typer.Option(4, "--parallel", min=1, max=64, help="Parallel streams."),
    limit: str | None = typer.Option(None, "--limit", help="Bandwidth cap, e.g. 50M (bytes/s)."),
    compress: bool = typer.Option(False, "--compress", help="zstd-compress chunks in flight."),
    checksum_only: bool = typer.Option(
        False, "--checksum-only", help="Compare both sides by BLAKE3; move nothing."
    ),
    detach: bool = typer.Option(
        False, "--detach", help="Hand the copy to the server and return its id at once."
    ),
    no_encrypt: bool = typer.Option(
        False,
        "--no-encrypt",
        help="Integrity-only: BLAKE3-checked but NOT encrypted data path to agent sites "
        "whose administrator allows it (trusted networks).",
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """Copy files or trees between this machine and sites, or between two sites.

    \b
    Examples:
      cnet cp data.bin hpc1:inputs/            # into hpc1's inputs/
      cnet cp -r results/ ./local-copy         # a tree (lands at ./local-copy)
      cnet cp -r --resume big-tree hpc1:tree   # go on after an interruption
      cnet cp hpc1:out.h5 hpc2:in.h5           # site to site, hpc2 pulls from hpc1

    The server carries the copy out (the local server, or any server when both
    sides are sites): Ctrl-C leaves it running, `cnet transfers` shows it.
    """
    import sys

    from computenet.errors import IntegrityError
    from computenet.transfer.chunks import parse_rate

    options = {
        "recursive": recursive,
        "resume": resume,
        "parallel": parallel,
        "limit_bytes_per_s": parse_rate(limit) if limit else None,
        "compress": compress,
        "checksum_only": checksum_only,
        "no_encrypt": no_encrypt,
    }
    client = get_client()
    bar = not as_json and sys.stderr.isatty()  # a bar nobody sees costs start-up and redraws
    if follow_mod.server_runs(client, src, dst):
        record = client.post(
            "/transfers",
            {
                "source": follow_mod.absolute(src),
                "dest": follow_mod.absolute(dst),
                "options": options,
                "run": True,
            },
        )
        if detach:
            follow_mod.detached(record["id"], as_json)
            return
        result = follow_mod.follow(client, record, bar)
    else:
        result = _copy_here(client, src, dst, options, bar)
    if as_json:
        print_json(result.to_dict())
    else:
        print(follow_mod.summary(result, checksum_only))
    if checksum_only and not result.verified:
        raise typer.Exit(IntegrityError.exit_code)


def _copy_here(client: Any, src: str, dst: str, options: dict[str, Any], bar: bool) -> Any:
    """This command copies (its server cannot see these files) and reports to it."""
    import asyncio

    from computenet.transfer.engine import CopyOptions
    from computenet.transfer.session import run_copy

    opts = CopyOptions(**options)
    if not bar:
        return asyncio.run(run_copy(client, src, dst, opts))
    return _with_progress(client, src, dst, opts)


def _with_progress(client: Any, src: str, dst: str, opts: Any) -> Any:
    import asyncio

    from computenet.transfer.session import run_copy

    with follow_mod.transfer_progress() as bar:
        task = bar.add_task(f"{src} -> {dst}", total=None)

        def on_total(nbytes: int, files: int) -> None:
            bar.update(task, total=nbytes, description=f"{files} file(s)")

        return asyncio.run(
            run_copy(
                client, src, dst, opts, progress=lambda n: bar.advance(task, n), on_total=on_total
            )
        )


transfers_app = typer.Typer(
    help="Transfers: list, show, follow, cancel and resume copies.", invoke_without_command=True
)


@transfers_app.callback()
def transfers_main(
    ctx: typer.Context,
    as_json: bool = JSON_OPT,
    limit: int = typer.Option(20, "--limit", "-n", min=1, max=1000),
    all_users: bool = typer.Option(False, "--all", help="Everyone's (admins)."),
) -> None:
    """List recent transfers (yours, newest first); same as `cnet transfers list`."""
    if ctx.invoked_subcommand is None:
        transfers_list(as_json, limit, all_users)


@transfers_app.command("list")
def transfers_list(
    as_json: bool = JSON_OPT,
    limit: int = typer.Option(20, "--limit", "-n", min=1, max=1000),
    all_users: bool = typer.Option(False, "--all", help="Everyone's (admins)."),
) -> None:
    """List recent transfers (yours, newest first)."""
    from computenet.cli.context import fmt_time, out_console

    rows = get_client().get("/transfers", params={"limit": limit, "all_users": all_users})[
        "transfers"
    ]
    if as_json:
        print_json(rows)
        return
    from rich.filesize import decimal
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    for col in ("ID", "STATE", "SOURCE", "DEST", "FILES", "SIZE", "DONE", "SENT", "WHEN", "JOB"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["id"][:12],
            r["state"],
            r["source"],
            r["dest"],
            str(r["files"]),
            decimal(r["bytes_total"]),
            decimal(r["bytes_total"] if r["state"] == "completed" else r["bytes_done"]),
            decimal(r["bytes_sent"]),
            fmt_time(r["created_at"]),
            r["job_id"] or "-",
        )
    out_console().print(table)


@transfers_app.command("show")
def transfers_show(
    transfer_id: str = typer.Argument(..., help="The transfer's id."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Follow it to its end."),
    as_json: bool = JSON_OPT,
) -> None:
    """One transfer with its events; --follow waits for its end (Ctrl-C stops following)."""
    import sys

    client = get_client()
    row = client.get(f"/transfers/{transfer_id}")
    if follow and row["state"] == "running":
        try:
            if not as_json and sys.stderr.isatty():
                follow_mod.follow_bar(client, row)
            else:
                follow_mod.wait_end(client, row, lambda _r: None)
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        row = client.get(f"/transfers/{transfer_id}")
    if as_json:
        print_json(row)
        return
    from rich.filesize import decimal

    print(f"{row['id']}  {row['state']}  {row['source']} -> {row['dest']}")
    print(
        f"  {row['files']} file(s), {decimal(row['bytes_done'])} of "
        f"{decimal(row['bytes_total'])} done, {decimal(row['bytes_sent'])} sent, "
        f"{row['chunks_verified']} chunk(s) verified"
        + (f", run by the {row['runner']}" if row["runner"] else "")
    )
    if row["error"]:
        print(f"  error: {row['error']}")
    from computenet.cli.context import fmt_time

    for e in row.get("events", []):
        print(f"  {fmt_time(e['time'])}  {e['state']:10s} {e['message'] or ''}")


@transfers_app.command("cancel")
def transfers_cancel(transfer_id: str = typer.Argument(..., help="The transfer's id.")) -> None:
    """Stop a server-run copy; what arrived stays for `cnet transfers resume`."""
    get_client().post(f"/transfers/{transfer_id}/cancel")
    print(f"transfer {transfer_id}: cancel requested")


@transfers_app.command("resume")
def transfers_resume(
    transfer_id: str = typer.Argument(..., help="The transfer's id."),
    detach: bool = typer.Option(False, "--detach", help="Return at once."),
    as_json: bool = JSON_OPT,
) -> None:
    """Run an interrupted, failed or cancelled server copy again; only what is
    missing or differs is sent."""
    import sys

    client = get_client()
    record = client.post(f"/transfers/{transfer_id}/resume")
    if detach:
        follow_mod.detached(record["id"], as_json)
        return
    result = follow_mod.follow(client, record, not as_json and sys.stderr.isatty())
    if as_json:
        print_json(result.to_dict())
    else:
        print(follow_mod.summary(result, bool(record["options"].get("checksum_only"))))


@sites_app.callback()
def sites_main(ctx: typer.Context, as_json: bool = JSON_OPT) -> None:
    """List sites (same as `cnet sites list`)."""
    if ctx.invoked_subcommand is None:
        sites_list(as_json)


@sites_app.command("list")
def sites_list(as_json: bool = JSON_OPT) -> None:
    """List sites and how they are reached (tokens hidden)."""
    rows = get_client().get("/sites")["sites"]
    if as_json:
        print_json(rows)
        return
    from rich.table import Table

    from computenet.cli.context import out_console

    table = Table(box=None, header_style="bold")
    for col in ("NAME", "KIND", "WHERE"):
        table.add_column(col)
    for r in rows:
        c = r["config"]
        where = {
            "agent": c.get("url"),
            "path": c.get("root"),
            "sftp": f"{c.get('user')}@{c.get('host')}:{c.get('port')}:{c.get('root')}",
        }
        table.add_row(r["name"], r["kind"], str(where.get(r["kind"], "")))
    out_console().print(table)


@sites_app.command("add")
def sites_add(
    name: str = typer.Argument(..., help="Site name (used as NAME:PATH)."),
    agent_info: Path | None = typer.Option(
        None, "--agent-info", help="Info file written by `cnet agent`."
    ),
    path: Path | None = typer.Option(None, "--path", help="A directory this server sees."),
    sftp: str | None = typer.Option(None, "--sftp", help="USER@HOST[:PORT]:DIR"),
    key: Path | None = typer.Option(None, "--key", help="SSH private key (with --sftp)."),
    known_hosts: Path | None = typer.Option(
        None, "--known-hosts", help="known_hosts file to check the host key."
    ),
    allow_no_encrypt: bool = typer.Option(
        False,
        "--allow-no-encrypt",
        help="Let copies to this agent use its plain data listener (cnet cp --no-encrypt): "
        "BLAKE3-checked, not encrypted. For trusted networks only.",
    ),
    as_json: bool = JSON_OPT,
) -> None:
    """Add a site (administrators). Give exactly one of --agent-info, --path, --sftp."""
    import json

    from computenet.errors import ConfigError, SpecError

    if sum(x is not None for x in (agent_info, path, sftp)) != 1:
        raise SpecError("give exactly one of --agent-info, --path, --sftp")
    if allow_no_encrypt and agent_info is None:
        raise SpecError("--allow-no-encrypt applies to agent sites (--agent-info)")
    if agent_info is not None:
        try:
            info = json.loads(agent_info.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read agent info {agent_info}: {exc}") from exc
        kind, config = "agent", {k: info.get(k) for k in ("url", "token", "fingerprint")}
        for optional in ("data_url", "bulk_url"):
            if info.get(optional):
                config[optional] = info[optional]
        if allow_no_encrypt:
            config["allow_no_encrypt"] = True
    elif path is not None:
        kind, config = "path", {"root": str(path.expanduser().resolve())}
    else:
        from computenet.transfer.sftp import SftpAccess

        if key is None:
            raise SpecError("--sftp needs --key PATH")
        access = SftpAccess.parse(
            str(sftp), str(key.expanduser().resolve()), str(known_hosts) if known_hosts else None
        )
        kind, config = "sftp", access.to_dict()
    row = get_client().post("/sites", {"name": name, "kind": kind, "config": config})
    if as_json:
        print_json(row)
    else:
        print(f"site {name} added ({kind})")


@sites_app.command("rm")
def sites_rm(name: str = typer.Argument(...)) -> None:
    """Remove a site (administrators). Data at the site is not touched."""
    get_client().delete(f"/sites/{name}")
    print(f"site {name} removed")


def agent(
    root: Path = typer.Option(..., "--root", help="Directory served (every path stays in it)."),
    listen: str = typer.Option("127.0.0.1:0", "--listen", help="HOST:PORT (port 0: any)."),
    info_file: Path = typer.Option(
        ..., "--info-file", help="Where to write {url, token, fingerprint} (mode 0600)."
    ),
    state_dir: Path | None = typer.Option(
        None, "--state-dir", help="Certificate and secret (default: beside the info file)."
    ),
    data_listen: str | None = typer.Option(
        None,
        "--data-listen",
        help="HOST:PORT of a plain-HTTP data listener for integrity-only copies "
        "(BLAKE3-checked, NOT encrypted; trusted networks only).",
    ),
    bulk_listen: str | None = typer.Option(
        None,
        "--bulk-listen",
        help="HOST:PORT of the TLS listener for chunk and batch bytes "
        "(default: the --listen host, any port).",
    ),
) -> None:
    """Run the site agent: an HTTPS data service next to a site's storage.

    \b
    Then, on the control plane:  cnet sites add NAME --agent-info INFO_FILE
    """
    from computenet.transfer.agent import serve

    serve(root, listen, info_file, state_dir, data_listen, bulk_listen)


def register(app: typer.Typer) -> None:
    app.command("cp")(cp)
    app.add_typer(transfers_app, name="transfers")
    app.add_typer(sites_app, name="sites")
    app.command("agent")(agent)
