"""The local provider for an embedded cluster: virtual nodes that join the
pool's partition after the boot delay and leave it when released."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from computenet.clusters.pools.base import BOOTING, RUNNING, NodeProvider, ProviderNode
from computenet.errors import ClusterError, ConfigError

if TYPE_CHECKING:
    from computenet.config import PoolConfig

log = logging.getLogger("computenet.pools")


class EmbeddedNodes(NodeProvider):
    kind = "local"

    def __init__(self, pool: PoolConfig, adapter: Any) -> None:
        if adapter is None or not hasattr(adapter, "attach_node"):
            raise ConfigError(
                f"pool {pool.name}: the local provider needs an embedded or Slurm cluster"
            )
        self.pool = pool
        self.adapter = adapter
        self._boots: dict[str, asyncio.Task[None]] = {}
        self._running: set[str] = set()

    async def create(self, names: Sequence[str]) -> list[ProviderNode]:
        out = []
        for name in names:
            if name not in self._running and name not in self._boots:
                self._boots[name] = asyncio.create_task(self._boot(name), name=f"boot {name}")
            out.append(ProviderNode(name, RUNNING if name in self._running else BOOTING))
        return out

    async def _boot(self, name: str) -> None:
        try:
            await asyncio.sleep(self.pool.boot_delay_s)
            self.adapter.attach_node(self.pool.partition, name)
            self._running.add(name)
        except ClusterError as exc:
            log.warning("pool %s: node %s did not attach: %s", self.pool.name, name, exc)
        finally:
            self._boots.pop(name, None)

    async def restore(self, names: Sequence[str]) -> None:
        for name in names:
            self.adapter.attach_node(self.pool.partition, name)
            self._running.add(name)

    async def delete(self, names: Sequence[str]) -> None:
        busy = []
        for name in names:
            task = self._boots.pop(name, None)
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if not self.adapter.detach_node(name):
                busy.append(name)
                continue
            self._running.discard(name)
        if busy:
            raise ClusterError(f"pool {self.pool.name}: node(s) {', '.join(busy)} run jobs")

    async def list(self) -> list[ProviderNode]:
        nodes = [ProviderNode(n, BOOTING) for n in sorted(self._boots)]
        return nodes + [ProviderNode(n, RUNNING) for n in sorted(self._running)]

    async def close(self) -> None:
        for task in list(self._boots.values()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._boots.clear()
