"""Prices per partition, read as Slurm-style billing weights.

A partition's ``price_per_core_hour`` and ``price_per_gpu_hour`` are the
weights of ``TRESBillingWeights="CPU=w1,GRES/gpu=w2"`` with a unit price of
one: an allocation of c CPUs and g GPUs for h hours costs
``(c * w1 + g * w2) * h``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from computenet.config import ClusterConfig
from computenet.model import JobSpec

#: Run time assumed for a job without a time limit on a partition without one.
DEFAULT_TIME_S = 3600


@dataclass(frozen=True)
class Price:
    core_hour: float = 0.0
    gpu_hour: float = 0.0

    def cost(self, core_seconds: float, gpu_seconds: float) -> float:
        return (core_seconds * self.core_hour + gpu_seconds * self.gpu_hour) / 3600.0

    def billing_weights(self) -> str:
        """The partition's price in slurm.conf's words."""
        return f"CPU={self.core_hour:g},GRES/gpu={self.gpu_hour:g}"


@dataclass(frozen=True)
class _Partition:
    cluster: str
    name: str
    price: Price
    max_time_s: int | None


class PriceTable:
    """Prices of every configured partition; unknown ones cost their
    cluster's price, or nothing."""

    def __init__(self, clusters: Iterable[ClusterConfig], default_time_s: int = DEFAULT_TIME_S):
        self.default_time_s = default_time_s
        self._parts: dict[tuple[str, str], _Partition] = {}
        self._cluster: dict[str, Price] = {}
        for c in clusters:
            self._cluster[c.name] = Price(c.price_per_core_hour or 0.0, c.price_per_gpu_hour or 0.0)
            for p in c.partitions:
                price = Price(
                    p.price_per_core_hour or (c.price_per_core_hour or 0.0),
                    p.price_per_gpu_hour or (c.price_per_gpu_hour or 0.0),
                )
                self._parts[(c.name, p.name)] = _Partition(c.name, p.name, price, p.max_time_s)

    def price(self, cluster: str, partition: str | None) -> Price:
        part = self._parts.get((cluster, partition or ""))
        if part is not None:
            return part.price
        return self._cluster.get(cluster, Price())

    def estimate(self, spec: JobSpec) -> float:
        """An upper bound of what one job (one array element) may cost.

        The job is not placed yet, so this takes the dearest partition it may
        go to (restricted by ``--clusters`` and ``--partition``) for its whole
        time limit; the real cost replaces it once the attempt has run.
        """
        worst = 0.0
        for part in self._parts.values():
            if spec.clusters and part.cluster not in spec.clusters:
                continue
            if spec.partition and part.name not in spec.partition.split(","):
                continue
            time_s = spec.time_limit_s or part.max_time_s or self.default_time_s
            cost = part.price.cost(spec.cpus * time_s, spec.total_gpus * time_s)
            worst = max(worst, cost)
        return worst if math.isfinite(worst) else 0.0
