"""What the controller knows of each cluster: its description, health and
latest snapshot, refreshed with backoff when a cluster stops answering."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from computenet.clock import Clock
from computenet.errors import ClusterError
from computenet.model import ClusterHealth, ClusterInfo

if TYPE_CHECKING:
    from computenet.clusters.base import ClusterAdapter

log = logging.getLogger("computenet.clusters")

INFO_REFRESH_S = 60.0
DOWN_AFTER = 3  # consecutive failures
MAX_BACKOFF_S = 60.0


@dataclass
class ClusterStatus:
    info: ClusterInfo | None = None
    info_time: float = 0.0
    health: ClusterHealth = ClusterHealth.UP
    failures: int = 0
    last_error: str | None = None
    retry_at: float = 0.0


class ClusterStates:
    def __init__(self, adapters: dict[str, ClusterAdapter], clock: Clock) -> None:
        self.adapters = adapters
        self.clock = clock
        self.status: dict[str, ClusterStatus] = {name: ClusterStatus() for name in adapters}

    def is_down(self, name: str) -> bool:
        st = self.status.get(name)
        return st is None or (st.health == ClusterHealth.DOWN and self.clock.now() < st.retry_at)

    def failed(self, name: str, exc: ClusterError) -> None:
        st = self.status[name]
        st.failures += 1
        st.last_error = str(exc)
        if not exc.transient:
            return  # the cluster answered; it refused one request
        st.health = ClusterHealth.DOWN if st.failures >= DOWN_AFTER else ClusterHealth.DEGRADED
        st.retry_at = self.clock.now() + min(MAX_BACKOFF_S, 2.0**st.failures)
        log.warning("cluster %s %s: %s", name, st.health.value, exc)

    def succeeded(self, name: str) -> None:
        st = self.status[name]
        if st.health != ClusterHealth.UP:
            log.info("cluster %s is UP again", name)
        st.health, st.failures, st.last_error, st.retry_at = ClusterHealth.UP, 0, None, 0.0

    async def refresh(self) -> None:
        now = self.clock.now()
        for name, adapter in self.adapters.items():
            st = self.status[name]
            if st.info is not None and now - st.info_time < INFO_REFRESH_S:
                continue
            if self.is_down(name):
                continue
            try:
                st.info, st.info_time = await adapter.info(), now
                self.succeeded(name)
            except ClusterError as exc:
                self.failed(name, exc)

    def infos(self) -> list[ClusterInfo]:
        return [st.info for st in self.status.values() if st.info is not None]

    async def views(self, *, with_snapshots: bool) -> dict[str, Any]:
        from computenet.network import ClusterView

        out: dict[str, Any] = {}
        for name, adapter in self.adapters.items():
            st = self.status[name]
            if st.info is None:
                continue
            snap = None
            if with_snapshots and not self.is_down(name):
                try:
                    snap = await adapter.snapshot()
                    self.succeeded(name)
                except ClusterError as exc:
                    self.failed(name, exc)
            out[name] = ClusterView(info=st.info, snapshot=snap, health=st.health)
        return out

    def describe(self) -> list[dict[str, Any]]:
        rows = []
        for name, st in self.status.items():
            info = st.info
            rows.append(
                {
                    "name": name,
                    "kind": info.kind if info else None,
                    "site": info.site if info else None,
                    "region": info.region if info else None,
                    "scheduler": info.scheduler if info else None,
                    "health": st.health.value,
                    "last_error": st.last_error,
                    "features": self.adapters[name].features(),
                    "partitions": [
                        {
                            "name": p.name,
                            "nodes": p.nodes,
                            "cores_per_node": p.node_type.cores,
                            "threads_per_core": p.node_type.threads_per_core,
                            "cpus": p.total_cpus,
                            "mem_per_node_bytes": p.node_type.mem_bytes,
                            "gpus_per_node": p.node_type.gpus,
                            "gpu_model": p.node_type.gpu_model,
                            "speed": p.node_type.speed,
                            "max_time_s": p.max_time_s,
                            "default": p.default,
                            "price_per_core_hour": p.price_per_core_hour,
                            "price_per_gpu_hour": p.price_per_gpu_hour,
                        }
                        for p in (info.partitions if info else ())
                    ],
                }
            )
        return rows
