"""``cnet shims``: install the Slurm-compatible commands into a directory."""

from __future__ import annotations

from pathlib import Path

import typer

shims_app = typer.Typer(
    help="Slurm-compatible sbatch, srun, squeue, scancel, sacct, sinfo and scontrol "
    "for this network.\n\n"
    "Put the directory first on PATH and tools that drive Slurm work unchanged.",
    no_args_is_help=True,
)


@shims_app.command("install")
def install(
    directory: Path = typer.Argument(..., help="Where to write the commands (created if missing)."),
    force: bool = typer.Option(False, "--force", help="Replace files that are not shims."),
) -> None:
    """Write sbatch, srun, squeue, scancel, sacct, sinfo and scontrol into DIRECTORY.

    \b
    Example:
      cnet shims install ~/.local/cnet-slurm/bin
      export PATH=~/.local/cnet-slurm/bin:$PATH
      sbatch --parsable job.sh
    """
    from computenet.shims.install import install as write

    for path in write(directory.expanduser(), force=force):
        typer.echo(str(path))


@shims_app.command("uninstall")
def uninstall(directory: Path = typer.Argument(..., help="Where they were installed.")) -> None:
    """Remove the commands from DIRECTORY (other files stay)."""
    from computenet.shims.install import uninstall as remove

    for path in remove(directory.expanduser()):
        typer.echo(f"removed {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(shims_app, name="shims")
