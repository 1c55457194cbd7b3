"""Entry point of ``cnet``. Commands live in modules by area; each registers
itself on the app. Errors print one line and exit with the error's code."""

from __future__ import annotations

import importlib
import os
import sys

import typer

from computenet import __version__

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
    "pools",
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


def run() -> None:
    """Console-script entry: never a traceback, unless CN_DEBUG=1."""
    from computenet.errors import ComputeNetError

    try:
        app()
    except ComputeNetError as exc:
        if os.environ.get("CN_DEBUG"):
            raise
        sys.stderr.write(f"cnet: error: {exc.message}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("cnet: interrupted\n")
        sys.exit(130)
    except Exception as exc:  # a bug: say so in one line, keep the trace for CN_DEBUG
        if os.environ.get("CN_DEBUG"):
            raise
        sys.stderr.write(
            f"cnet: internal error: {type(exc).__name__}: {exc} (set CN_DEBUG=1 for a traceback)\n"
        )
        sys.exit(70)


if __name__ == "__main__":
    run()
