"""``cn-container``: run one command in an image, inside an embedded-cluster job.

    cn-container --container-image=IMAGE [--container-mounts=...]
                 [--container-workdir=PATH] [--] COMMAND [ARGS...]

It replaces itself with bubblewrap, so the process a launcher started *is*
the containerised command: ``srun --container-image`` starts one per task,
and ``mpirun -np N cn-container ... ./app`` one per MPI rank (the host's
launcher, a container per rank). The image comes from the job's site store
(``CN_IMAGE_STORE``); mounts must lie under ``CN_CONTAINER_MOUNT_ROOTS``.
Exit status 125 when the container could not be started, with one line on
standard error saying why.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from computenet.containers.runtime import bwrap_argv, bwrap_path, check_mounts, check_starts
from computenet.containers.store import ImageStore
from computenet.errors import ComputeNetError
from computenet.model import Mount

CANNOT_START = 125
_OPTIONS = ("--container-image", "--container-mounts", "--container-workdir")


def parse(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    """(the container options given, the command)."""
    given: dict[str, str] = {}
    i = 0
    while i < len(argv) and argv[i].startswith("--"):
        arg = argv[i]
        if arg == "--":
            i += 1
            break
        name, eq, value = arg.partition("=")
        if name not in _OPTIONS:
            raise ValueError(f"unknown option {name}")
        if not eq:
            i += 1
            if i >= len(argv):
                raise ValueError(f"{name} needs a value")
            value = argv[i]
        given[name[2:]] = value
        i += 1
    return given, argv[i:]


def container_command(
    given: dict[str, str], command: list[str], environ: dict[str, str]
) -> list[str]:
    """The bwrap argv for ``command`` (raises ComputeNetError, ValueError)."""
    from computenet.spec.values import parse_container_path, parse_image, parse_mounts

    image = given.get("container-image")
    if not image:
        raise ValueError("--container-image is required")
    parse_image(image)
    mounts: tuple[Mount, ...] = ()
    if given.get("container-mounts"):
        mounts = parse_mounts(given["container-mounts"])
    roots = [r for r in environ.get("CN_CONTAINER_MOUNT_ROOTS", "").split(os.pathsep) if r]
    check_mounts(mounts, roots)
    store_dir = environ.get("CN_IMAGE_STORE")
    if not store_dir:
        raise ValueError("not inside an embedded-cluster job (no CN_IMAGE_STORE)")
    bwrap = bwrap_path()
    if bwrap is None:
        raise ValueError("bubblewrap (bwrap) is not installed here")
    rootfs = ImageStore(Path(store_dir)).rootfs(image)
    check_starts(rootfs, command[0], image)
    cwd = os.getcwd()
    workdir = given.get("container-workdir")
    chdir = parse_container_path(workdir) if workdir else cwd
    binds = [p for p in (environ.get("CN_JOB_DIR"), cwd) if p]
    return bwrap_argv(rootfs, command, mounts=mounts, binds=binds, chdir=chdir, bwrap=bwrap)


def _rank_identity(environ: os._Environ[str]) -> None:
    """Under ``srun --mpi`` (mpirun starts the ranks), give each rank the
    virtual node and Slurm ids srun's block layout assigns it."""
    nodes = [n for n in environ.get("CN_RANK_NODES", "").split(",") if n]
    rank = environ.get("OMPI_COMM_WORLD_RANK")
    if not nodes or rank is None or not rank.isdigit() or int(rank) >= len(nodes):
        return
    node = nodes[int(rank)]
    order = list(dict.fromkeys(nodes))
    environ["SLURMD_NODENAME"] = environ["CN_RANK_NODE"] = node
    environ["SLURM_PROCID"] = rank
    environ["SLURM_NODEID"] = str(order.index(node))
    environ["SLURM_LOCALID"] = str(nodes[: int(rank)].count(node))


def main(argv: list[str]) -> int:
    try:
        given, command = parse(argv)
        if not command:
            raise ValueError("no command given")
        full = container_command(given, command, dict(os.environ))
    except ComputeNetError as exc:
        print(f"cn-container: error: {exc.message}", file=sys.stderr)
        return CANNOT_START
    except ValueError as exc:
        print(f"cn-container: error: {exc}", file=sys.stderr)
        return CANNOT_START
    _rank_identity(os.environ)
    try:
        os.execv(full[0], full)
    except OSError as exc:
        print(f"cn-container: error: cannot run bwrap: {exc}", file=sys.stderr)
    return CANNOT_START
