"""Slurm-compatible front ends: ``sbatch``, ``srun``, ``squeue``, ``scancel``,
``sacct`` and ``sinfo`` that speak to the computenet network, and the part of
``scontrol`` that batch scripts use (hostlists).

``cnet shims install DIR`` writes one small executable per command into DIR;
with DIR first on PATH, tools that drive Slurm through its commands work
unchanged. Each module here has ``main(argv) -> int``. They import only the
SDK (``computenet.client``) and the standard library, so they start fast.
"""

from __future__ import annotations

COMMANDS: tuple[str, ...] = ("sbatch", "srun", "squeue", "scancel", "sacct", "sinfo", "scontrol")
