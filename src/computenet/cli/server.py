"""``cnet server start|stop|status``."""

from __future__ import annotations

import typer

from computenet.cli.context import print_json

server_app = typer.Typer(
    help="Run the local computenet server in the background.", no_args_is_help=True
)
JSON_OPT = typer.Option(False, "--json", help="Print JSON.")


@server_app.command("start")
def start(as_json: bool = JSON_OPT) -> None:
    """Start the local server (a no-op if it runs). cnet does this by itself when needed."""
    from computenet.client.local import start_local
    from computenet.config import load_settings

    info = start_local(load_settings())
    if as_json:
        print_json(info)
    else:
        print(f"computenet server running at {info['url']} (pid {info['pid']})")


@server_app.command("stop")
def stop(as_json: bool = JSON_OPT) -> None:
    """Stop the local server. Running jobs on embedded clusters keep running."""
    from computenet.client.local import stop_local
    from computenet.config import load_settings

    stopped = stop_local(load_settings())
    if as_json:
        print_json({"stopped": stopped})
    else:
        print("stopped" if stopped else "no local server was running")


@server_app.command("status")
def status(as_json: bool = JSON_OPT) -> None:
    """Show whether the local server runs, where, and its files.

    \b
    Example:
      cnet server status --json    # {"running": true, "url": ..., "pid": ...}
    """
    from computenet.client.local import healthy, local_status
    from computenet.config import load_settings

    settings = load_settings()
    info = local_status(settings)
    if settings.server_url:
        body = {
            "running": healthy(settings.server_url),
            "url": settings.server_url,
            "pid": None,
            "remote": True,
        }
    elif info is None:
        body = {"running": False, "url": None, "pid": None}
    else:
        body = {**info, "running": healthy(info["url"])}
    body.update(
        {
            "log": str(settings.state_dir / "server.log"),
            "token_file": str(settings.token_file),
            "data_dir": str(settings.data_dir),
        }
    )
    if as_json:
        print_json(body)
        return
    if body["running"]:
        print(f"running at {body['url']} (pid {body['pid']}); log {body['log']}")
    else:
        print("not running (cnet starts it when needed, or: cnet server start)")
    if not body["running"]:
        raise typer.Exit(3)


def register(app: typer.Typer) -> None:
    app.add_typer(server_app, name="server")
