"""Containerised jobs on Slurm: handed to pyxis, or wrapped in bubblewrap.

A cluster whose ``sbatch`` knows ``--container-image`` has pyxis (0.12 or
later runs the batch script in the image): the options go to sbatch as
given and the script passes unchanged. Any other cluster on this machine
gets a wrapper batch script: the user's ``#SBATCH`` lines (less the
container ones, which plain sbatch refuses), then the user's script written
to /tmp at the job's start and run there with bubblewrap in the image from
the cluster's site store. A Slurm cluster reached over SSH without pyxis
cannot run containers: the image store and bubblewrap would have to be on
its nodes, which computenet does not manage.
"""

from __future__ import annotations

import re
import secrets
import shlex
from collections.abc import Sequence

from computenet.containers.runtime import bwrap_argv, check_mounts, check_starts
from computenet.containers.store import ImageStore
from computenet.model import JobSpec

_DIRECTIVE = re.compile(r"^\s*#SBATCH\s+(--container-(?:image|mounts|workdir))\b")
_PWD = "__CN_PWD__"  # nosec B105


def pyxis_args(spec: JobSpec) -> list[str]:
    """The container options as pyxis reads them."""
    out = [f"--container-image={spec.container_image}"]
    if spec.container_mounts:
        out.append("--container-mounts=" + ",".join(m.text() for m in spec.container_mounts))
    if spec.container_workdir:
        out.append(f"--container-workdir={spec.container_workdir}")
    return out


def without_container_directives(script: str) -> str:
    return "".join(line for line in script.splitlines(keepends=True) if not _DIRECTIVE.match(line))


def wrapped_script(spec: JobSpec, store: ImageStore, mount_roots: Sequence[str]) -> str:
    """A batch script that runs ``spec``'s script (or ``--wrap`` command) in
    its image. Raises ComputeNetError (an unknown image, a mount outside
    ``mount_roots``, an image that cannot start it); nothing is submitted."""
    assert spec.container_image is not None
    check_mounts(spec.container_mounts, mount_roots)
    rootfs = store.rootfs(spec.container_image)
    if spec.script is not None:
        body = spec.script
        directives = [ln for ln in body.splitlines() if ln.startswith("#SBATCH")]
        directives = [ln for ln in directives if not _DIRECTIVE.match(ln)]
        first = body.splitlines()[0] if body else ""
        program = (
            first[2:].split()[0] if first.startswith("#!") and first[2:].split() else "/bin/sh"
        )
    else:
        body = f"#!/bin/sh\n{spec.command}\n"
        directives, program = [], "/bin/sh"
    check_starts(rootfs, program, spec.container_image)
    argv = bwrap_argv(
        rootfs,
        ["__CN_SCRIPT__"],
        mounts=spec.container_mounts,
        binds=[_PWD],
        chdir=spec.container_workdir or _PWD,
    )
    command = shlex.join(argv)
    command = command.replace(_PWD, '"$PWD"').replace("__CN_SCRIPT__", '"$cn_script" "$@"')
    end = f"CN_SCRIPT_{secrets.token_hex(8)}"
    return "\n".join(
        [
            "#!/bin/sh",
            *directives,
            f"# computenet: the job's script runs in image {spec.container_image} (bubblewrap)",
            'cn_script="/tmp/cn-batch-${SLURM_JOB_ID:-$$}.sh"',
            f"cat > \"$cn_script\" <<'{end}'",
            body.rstrip("\n"),
            end,
            'chmod 700 "$cn_script"',
            command,
            'cn_status=$?; rm -f "$cn_script"; exit $cn_status',
            "",
        ]
    )
