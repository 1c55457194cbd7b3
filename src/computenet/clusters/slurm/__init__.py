"""Real Slurm clusters, driven through Slurm's own commands over a transport."""

from __future__ import annotations

from computenet.clusters.slurm.adapter import SlurmCluster

__all__ = ["SlurmCluster"]
