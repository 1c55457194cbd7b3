"""Entry point of ``cnet``. Commands live in modules by area; each registers
itself on the app. Errors print one line and exit with the error's code."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import typer

from computenet import __version__
from computenet.cli.quick import fail as _fail

app = typer.Typer(
    name="cnet",
    help="computenet: one way in to many compute clusters.\n\n"
    "Submit like sbatch (cnet submit job.sh -N 2 --time=10), watch with cnet ls, "
    "and ask cnet why JOB where it went and why. With no server configured, "
    "cnet starts a local one with two embedded clusters.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

#: Command modules; each has ``register(app)``. Optional ones may be absent.
MODULES = (
    "jobs",
    "server",
    "demo",
    "sim",
    "sim_network",
    "transfer",
    "reports",
    "accounting",
    "shims",
    "clusters",
    "apps",
    "users",
    "projects",
    "tokens",
    "pools",
    "capacity",
    "bench",
    "images",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cnet {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False,
        "--version",
        "-V",
        callback=_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    pass


def _register() -> None:
    for name in MODULES:
        try:
            module = importlib.import_module(f"computenet.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"computenet.cli.{name}":
                raise
            continue
        module.register(app)


_register()


def _plain(code: str, message: str, transient: bool = False) -> dict[str, Any]:
    return {"code": code, "message": message, "transient": transient, "details": {}}


def run() -> None:
    """Console-script entry: never a traceback, unless CN_DEBUG=1.

    With ``--json`` anywhere on the command line every error, usage errors
    included, is one JSON object on standard output.
    """
    from typer.exceptions import Abort, TyperException

    from computenet.errors import ComputeNetError

    as_json = "--json" in sys.argv[1:]
    debug = bool(os.environ.get("CN_DEBUG"))
    try:
        if not as_json:
            app()
            return
        # Outside standalone mode Typer raises its usage errors instead of
        # printing them, and returns the code of a ``typer.Exit``.
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except ComputeNetError as exc:
        if debug:
            raise
        _fail(as_json, exc.to_dict(), exc.exit_code, f"cnet: error: {exc.message}")
    except TyperException as exc:  # usage errors; only reached with --json
        _fail(as_json, _plain("usage", exc.format_message()), exc.exit_code, exc.format_message())
    except (KeyboardInterrupt, Abort):
        _fail(as_json, _plain("interrupted", "interrupted"), 130, "cnet: interrupted")
    except Exception as exc:  # a bug: say so in one line, keep the trace for CN_DEBUG
        if debug:
            raise
        message = f"internal error: {type(exc).__name__}: {exc}"
        _fail(
            as_json,
            _plain("internal", message),
            70,
            f"cnet: {message} (set CN_DEBUG=1 for a traceback)",
        )


if __name__ == "__main__":
    run()
