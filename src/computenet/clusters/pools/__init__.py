"""Node pools: nodes of one type that exist only while needed.

A pool backs one partition of an embedded or Slurm cluster (``PoolConfig``
in the cluster's configuration). Its nodes come from a provider behind one
small interface (``NodeProvider``: create, delete, list):

- ``local``: on this machine. For an embedded cluster it adds and removes
  virtual nodes of the partition; for a Slurm cluster it starts and stops
  the slurmd of the partition's ``State=CLOUD`` nodes (slurmctld asks for
  them through ``cnet pool resume|suspend``). Both wait the boot delay.
- ``libcloud``: cloud instances through Apache libcloud's drivers.

When a pool grows is the broker's decision (``network.bursting``); the
controller carries it out (``core.pool_steps``).
"""

from __future__ import annotations

from computenet.clusters.pools.base import NodeProvider, ProviderNode
from computenet.clusters.pools.registry import PROVIDERS, make_provider

__all__ = ["PROVIDERS", "NodeProvider", "ProviderNode", "make_provider"]
