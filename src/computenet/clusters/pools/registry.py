"""The providers by name: a plain registry (entries are added by import, not found)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from computenet.errors import ConfigError

if TYPE_CHECKING:
    from computenet.clock import Clock
    from computenet.clusters.base import ClusterAdapter
    from computenet.clusters.pools.base import NodeProvider
    from computenet.config import ClusterConfig, PoolConfig


@dataclass(frozen=True)
class PoolContext:
    """What a provider is built from."""

    pool: PoolConfig
    cluster: ClusterConfig
    adapter: ClusterAdapter | None
    clock: Clock


def _local(ctx: PoolContext) -> NodeProvider:
    if ctx.cluster.kind == "slurm":
        from computenet.clusters.pools.local_slurm import SlurmdNodes

        return SlurmdNodes.for_cluster(ctx.pool, ctx.cluster)
    from computenet.clusters.pools.local_embedded import EmbeddedNodes

    return EmbeddedNodes(ctx.pool, ctx.adapter)


def _libcloud(ctx: PoolContext) -> NodeProvider:
    from computenet.clusters.pools.cloud import LibcloudNodes

    return LibcloudNodes.from_config(ctx.pool)


PROVIDERS: dict[str, Callable[[PoolContext], NodeProvider]] = {
    "local": _local,
    "libcloud": _libcloud,
}


def make_provider(ctx: PoolContext, **_: Any) -> NodeProvider:
    """The provider of ``ctx.pool``; ``ConfigError`` for an unknown one or a bad setup."""
    factory = PROVIDERS.get(ctx.pool.provider)
    if factory is None:
        known = ", ".join(sorted(PROVIDERS))
        raise ConfigError(f"pool {ctx.pool.name}: unknown provider {ctx.pool.provider!r} ({known})")
    return factory(ctx)
