"""The pools of a server: their providers, their nodes in the store, and
what the broker sees of them.

``PoolManager`` owns one ``PoolState`` per configured pool. It answers the
broker (``views``: a ``network.bursting.PoolView`` per pool, from the store's
live nodes and the cluster's snapshot), records events, and carries out:

- on embedded clusters, the controller's pool step (``core.pool_steps``):
  grow for queued work, release idle nodes, fail nodes that do not boot;
- on Slurm clusters, slurmctld's requests (``resume`` / ``suspend``, from
  ``cnet pool resume|suspend HOSTLIST``): Slurm's power saving decides when,
  the provider starts or stops the node.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from computenet.clusters.pools.base import NodeProvider
from computenet.config import ClusterConfig, PoolConfig
from computenet.errors import ComputeNetError, NotFoundError
from computenet.model import Snapshot
from computenet.network.bursting import BOOTING, UP, Caps, PoolNode, PoolView, caps_of
from computenet.store.tables_pools import LIVE_NODE_STATES, PoolEventRow, PoolNodeRow

if TYPE_CHECKING:
    from computenet.core.controller import Controller

log = logging.getLogger("computenet.pools")


@dataclass
class PoolState:
    config: PoolConfig
    cluster: ClusterConfig
    provider: NodeProvider | None = None
    error: str | None = None  # the provider could not be built
    blocked_until: float | None = None
    blocked_why: str | None = None
    warned_at: float = 0.0  # last soft-cap warning event
    last_step: float = 0.0
    names: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def key(self) -> tuple[str, str]:
        return (self.cluster.name, self.config.partition)

    @property
    def cpus_per_node(self) -> int:
        part = next((p for p in self.cluster.partitions if p.name == self.config.partition), None)
        return part.cores * part.threads_per_core if part is not None else 1


def node_names(pool: PoolConfig, cluster: ClusterConfig) -> list[str]:
    """Every name the pool's nodes may take, in the order they are used."""
    if pool.nodes:
        from computenet.shims.hostlist import expand

        return expand(pool.nodes, limit=10_000)
    count = pool.max_nodes or 0
    if cluster.kind == "embedded":
        return [f"{cluster.name}-{pool.partition}-n{i}" for i in range(1, count + 1)]
    return [f"{pool.name}-{i}" for i in range(1, count + 1)]


def add_event(
    s: Session,
    now: float,
    st: PoolState,
    kind: str,
    message: str,
    node: str | None = None,
    **details: Any,
) -> None:
    s.add(
        PoolEventRow(
            time=now,
            pool=st.name,
            cluster=st.cluster.name,
            node=node,
            kind=kind,
            message=message[:2000],
            details=details or None,
        )
    )
    log.info("pool %s: %s", st.name, message)


def live_rows(s: Session, pool: str) -> list[PoolNodeRow]:
    return list(
        s.scalars(
            select(PoolNodeRow)
            .where(PoolNodeRow.pool == pool, PoolNodeRow.state.in_(LIVE_NODE_STATES))
            .order_by(PoolNodeRow.id)
        )
    )


class PoolManager:
    def __init__(self, ctrl: Controller, clusters: list[ClusterConfig]) -> None:
        self.ctrl = ctrl
        self.pools: dict[str, PoolState] = {}
        #: a job was just placed on a pool: step it in this pass
        self.dirty = False
        for cluster in clusters:
            for pool in cluster.pools:
                self.add(cluster, pool)

    def add(self, cluster: ClusterConfig, pool: PoolConfig) -> None:
        if pool.name in self.pools:
            log.error("pool %s is configured twice; the second is ignored", pool.name)
            return
        self.pools[pool.name] = PoolState(pool, cluster, names=node_names(pool, cluster))

    def __bool__(self) -> bool:
        return bool(self.pools)

    # ----- lifecycle ---------------------------------------------------------------
    async def start(self) -> None:
        """Build the providers (after the adapters started) and bring back nodes
        the store says are up; a pool whose provider cannot be built stays, with
        its error, and never grows."""
        from computenet.clusters.pools.registry import PoolContext, make_provider

        now = self.ctrl.clock.now()
        for st in self.pools.values():
            if st.provider is not None:
                continue
            adapter = self.ctrl.adapters.get(st.cluster.name)
            try:
                st.provider = make_provider(
                    PoolContext(st.config, st.cluster, adapter, self.ctrl.clock)
                )
                st.provider.on_change = self._changed
                with self.ctrl.store.session() as s:
                    rows = live_rows(s, st.name)
                    failed = s.scalar(
                        select(PoolNodeRow.released_at)
                        .where(PoolNodeRow.pool == st.name, PoolNodeRow.state == "failed")
                        .order_by(PoolNodeRow.released_at.desc())
                        .limit(1)
                    )
                    if failed is not None and failed + st.config.resume_timeout_s > now:
                        st.blocked_until = failed + st.config.resume_timeout_s
                        st.blocked_why = "a node failed to boot"
                await st.provider.restore([r.name for r in rows if r.state == UP])
            except ComputeNetError as exc:
                st.provider, st.error = None, exc.message
                log.error("pool %s cannot start: %s", st.name, exc.message)

    def _changed(self) -> None:
        self.dirty = True
        self.ctrl.wake()

    async def close(self) -> None:
        for st in self.pools.values():
            if st.provider is not None:
                await st.provider.close()

    # ----- what the broker sees ----------------------------------------------------
    def get(self, name: str) -> PoolState:
        st = self.pools.get(name)
        if st is None:
            raise NotFoundError(f"no pool named {name!r}")
        return st

    def for_cluster(self, cluster: str) -> list[PoolState]:
        return [st for st in self.pools.values() if st.cluster.name == cluster]

    def view(self, s: Session, st: PoolState, snapshot: Snapshot | None) -> PoolView:
        cpn = st.cpus_per_node
        seen = {n.name: n for n in snapshot.nodes} if snapshot is not None else {}
        nodes = []
        for row in live_rows(s, st.name):
            snap = seen.get(row.name)
            if row.state == UP:
                free = (snap.cpus - snap.cpus_alloc) if snap is not None else 0
                nodes.append(
                    PoolNode(row.name, UP, row.up_at or row.requested_at, free, row.idle_since)
                )
            else:
                nodes.append(PoolNode(row.name, BOOTING, row.requested_at))
        queued = 0
        if snapshot is not None:
            queued = sum(j.cpus for j in snapshot.pending if j.partition == st.config.partition)
        c = st.config
        return PoolView(
            name=st.name,
            cluster=st.cluster.name,
            partition=c.partition,
            cpus_per_node=cpn,
            max_nodes=c.max_nodes or len(st.names),
            price_per_node_hour=c.price_per_node_hour,
            boot_delay_s=c.boot_delay_s,
            idle_release_s=c.idle_release_s,
            resume_timeout_s=c.resume_timeout_s,
            min_nodes=c.min_nodes,
            nodes=tuple(nodes),
            queued_cpus=queued,
            blocked_until=st.blocked_until if st.provider is not None else float("inf"),
            blocked_why=st.blocked_why if st.provider is not None else st.error,
        )

    def views(self, snapshots: dict[str, Snapshot | None]) -> dict[tuple[str, str], PoolView]:
        """A view per pool whose cluster is known, keyed by (cluster, partition)."""
        out = {}
        with self.ctrl.store.session() as s:
            for st in self.pools.values():
                if st.cluster.name in snapshots:
                    out[st.key] = self.view(s, st, snapshots[st.cluster.name])
        return out

    def caps(self, views: dict[tuple[str, str], PoolView] | None = None) -> Caps:
        settings = self.ctrl.settings
        if views is None:
            with self.ctrl.store.session() as s:
                spend = sum(
                    r.price_per_node_hour
                    for r in s.scalars(
                        select(PoolNodeRow).where(PoolNodeRow.state.in_(LIVE_NODE_STATES))
                    )
                )
            return Caps(
                spend, settings.pool_spend_cap_per_hour, settings.pool_spend_soft_cap_per_hour
            )
        return caps_of(
            list(views.values()),
            settings.pool_spend_cap_per_hour,
            settings.pool_spend_soft_cap_per_hour,
        )

    # ----- what people see ---------------------------------------------------------
    def describe(self) -> list[dict[str, Any]]:
        now = self.ctrl.clock.now()
        out = []
        with self.ctrl.store.session() as s:
            for st in self.pools.values():
                rows = list(s.scalars(select(PoolNodeRow).where(PoolNodeRow.pool == st.name)))
                live = [r for r in rows if r.state in LIVE_NODE_STATES]
                grew = s.scalar(
                    select(PoolEventRow.message)
                    .where(PoolEventRow.pool == st.name, PoolEventRow.kind == "grow")
                    .order_by(PoolEventRow.id.desc())
                    .limit(1)
                )
                c = st.config
                out.append(
                    {
                        "name": st.name,
                        "cluster": st.cluster.name,
                        "partition": c.partition,
                        "provider": c.provider,
                        "error": st.error,
                        "max_nodes": c.max_nodes,
                        "min_nodes": c.min_nodes,
                        "boot_delay_s": c.boot_delay_s,
                        "idle_release_s": c.idle_release_s,
                        "resume_timeout_s": c.resume_timeout_s,
                        "price_per_node_hour": c.price_per_node_hour,
                        "nodes": [
                            {
                                "name": r.name,
                                "state": r.state,
                                "idle": r.state == UP and r.idle_since is not None,
                                "requested_at": r.requested_at,
                                "up_at": r.up_at,
                                "cost": round(r.cost(now), 6),
                                "reason": r.reason,
                            }
                            for r in live
                        ],
                        "booting": sum(1 for r in live if r.state == BOOTING),
                        "up": sum(1 for r in live if r.state == UP),
                        "cost": round(sum(r.cost(now) for r in rows), 6),
                        "node_hours": round(
                            sum(max(0.0, (r.released_at or now) - r.requested_at) for r in rows)
                            / 3600.0,
                            6,
                        ),
                        "spend_per_hour": round(len(live) * c.price_per_node_hour, 6),
                        "blocked_until": st.blocked_until,
                        "blocked_why": st.blocked_why,
                        "last_growth": grew,
                    }
                )
        return out

    def events(self, pool: str | None, limit: int) -> list[dict[str, Any]]:
        if pool is not None:
            self.get(pool)
        with self.ctrl.store.session() as s:
            query = select(PoolEventRow).order_by(PoolEventRow.id.desc()).limit(limit)
            if pool is not None:
                query = query.where(PoolEventRow.pool == pool)
            rows = list(s.scalars(query))
            return [
                {
                    "time": r.time,
                    "pool": r.pool,
                    "cluster": r.cluster,
                    "node": r.node,
                    "kind": r.kind,
                    "message": r.message,
                    "details": r.details,
                }
                for r in reversed(rows)
            ]
