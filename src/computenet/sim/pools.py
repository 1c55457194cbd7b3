"""Node pools in the network replay: each centre may burst into its own pool
of nodes that exist only while needed, through the same broker code as the
live controller (``network.place`` with ``network.bursting`` offers, and
``network.bursting.plan`` for growth and release).

A pool node is asked for when the plan says so, is up ``boot_delay_s``
later, takes queued jobs first-fit by CPUs (a job may span nodes), and is
released once it has idled ``idle_release_s``. It is paid from the request
to the release, at ``price_per_node_hour``: what a cloud bills.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from computenet.model import ClusterInfo, NodeType, PartitionInfo
from computenet.network import ClusterView
from computenet.network.bursting import BOOTING, UP, Caps, PoolNode, PoolView, plan
from computenet.sim.errors import SimError

PARTITION = "cloud"
_READY, _IDLE = 0, 1  # event kinds


@dataclass(frozen=True)
class PoolSettings:
    """One pool per centre, all alike."""

    cpus_per_node: int = 32
    #: nodes per pool; None: as many as the centre has processors (it can double)
    max_nodes: int | None = None
    boot_delay_s: float = 120.0
    price_per_node_hour: float = 3.2
    idle_release_s: float = 300.0
    hard_cap_per_hour: float | None = None

    def check(self) -> None:
        if self.cpus_per_node < 1 or (self.max_nodes is not None and self.max_nodes < 1):
            raise SimError("pools need at least one CPU per node and one node")
        if self.boot_delay_s < 0 or self.idle_release_s < 0 or self.price_per_node_hour < 0:
            raise SimError("pool boot delay, idle time and price must be >= 0")


@dataclass(frozen=True)
class PoolResult:
    name: str
    jobs: int
    node_hours: float
    cost: float
    peak_nodes: int
    grown: int  # nodes asked for over the replay


@dataclass
class _Node:
    name: str
    requested: float
    ready: float
    cpus: int
    free: int
    idle_since: float | None = None
    up: bool = False


@dataclass
class _Pool:
    name: str
    max_nodes: int
    nodes: dict[str, _Node] = field(default_factory=dict)
    queue: dict[int, int] = field(default_factory=dict)  # key -> procs, arrival order
    running: dict[int, list[tuple[str, int]]] = field(default_factory=dict)
    jobs: int = 0
    node_seconds: float = 0.0
    peak: int = 0
    grown: int = 0


class SimPools:
    """The pools of one replay; ``start`` is called back as (key, time) for
    each job a pool starts, and the replay then owns its end."""

    def __init__(
        self,
        settings: PoolSettings,
        capacities: list[int],
        names: list[str],
        start: Callable[[int, float], float],
    ) -> None:
        settings.check()
        self.s = settings
        self._start = start
        self._ids = itertools.count(1)
        self.pools = [
            _Pool(
                f"{n}-pool",
                settings.max_nodes or max(1, math.ceil(cap / settings.cpus_per_node)),
            )
            for n, cap in zip(names, capacities, strict=True)
        ]
        self.infos = [
            ClusterInfo(
                p.name,
                "sim",
                (
                    PartitionInfo(
                        PARTITION,
                        NodeType(cores=settings.cpus_per_node),
                        p.max_nodes,
                        default=True,
                        price_per_core_hour=settings.price_per_node_hour / settings.cpus_per_node,
                    ),
                ),
            )
            for p in self.pools
        ]
        self.cluster_views = [ClusterView(info, None) for info in self.infos]
        self._events: list[tuple[float, int, int, str]] = []  # (time, kind, pool, node)
        self.spend_per_hour = 0.0

    # ----- what the broker sees ----------------------------------------------------
    def view(self, i: int) -> PoolView:
        p, s = self.pools[i], self.s
        nodes = tuple(
            PoolNode(n.name, UP, n.ready, n.free, n.idle_since)
            if n.up
            else PoolNode(n.name, BOOTING, n.requested)
            for n in p.nodes.values()
        )
        return PoolView(
            name=p.name,
            cluster=p.name,
            partition=PARTITION,
            cpus_per_node=s.cpus_per_node,
            max_nodes=p.max_nodes,
            price_per_node_hour=s.price_per_node_hour,
            boot_delay_s=s.boot_delay_s,
            idle_release_s=s.idle_release_s,
            resume_timeout_s=math.inf,
            nodes=nodes,
            queued_cpus=sum(p.queue.values()),
        )

    def caps(self) -> Caps:
        return Caps(self.spend_per_hour, self.s.hard_cap_per_hour, None)

    # ----- events ------------------------------------------------------------------
    def next_time(self) -> float:
        return self._events[0][0] if self._events else math.inf

    def submit(self, i: int, key: int, procs: int, now: float) -> None:
        p = self.pools[i]
        p.queue[key] = procs
        p.jobs += 1
        self._plan(i, now)
        self._schedule(i, now)

    def finish(self, i: int, key: int, now: float) -> None:
        p = self.pools[i]
        for name, cpus in p.running.pop(key):
            node = p.nodes[name]
            node.free += cpus
            if node.free == node.cpus:
                node.idle_since = now
                heapq.heappush(self._events, (now + self.s.idle_release_s, _IDLE, i, name))
        self._schedule(i, now)

    def advance(self, now: float) -> None:
        touched = set()
        while self._events and self._events[0][0] <= now:
            _, kind, i, name = heapq.heappop(self._events)
            node = self.pools[i].nodes.get(name)
            if kind == _READY and node is not None:
                node.up, node.idle_since = True, now
                heapq.heappush(self._events, (now + self.s.idle_release_s, _IDLE, i, name))
            touched.add(i)
        for i in sorted(touched):
            self._schedule(i, now)
            self._plan(i, now)

    def _plan(self, i: int, now: float) -> None:
        p = self.pools[i]
        decided = plan(self.view(i), sum(p.queue.values()), now, self.caps())
        for name in decided.release:
            node = p.nodes.pop(name)
            p.node_seconds += now - node.requested
            self.spend_per_hour -= self.s.price_per_node_hour
        for _ in range(decided.grow):
            name = f"{p.name}-{next(self._ids)}"
            ready = now + self.s.boot_delay_s
            p.nodes[name] = _Node(name, now, ready, self.s.cpus_per_node, self.s.cpus_per_node)
            heapq.heappush(self._events, (ready, _READY, i, name))
            self.spend_per_hour += self.s.price_per_node_hour
            p.grown += 1
        p.peak = max(p.peak, len(p.nodes))

    def _schedule(self, i: int, now: float) -> None:
        """Start queued jobs in arrival order wherever they fit (first fit by CPUs)."""
        p = self.pools[i]
        up = [n for n in p.nodes.values() if n.up]
        free = sum(n.free for n in up)
        for key, procs in list(p.queue.items()):
            if procs > free:
                continue
            left, taken = procs, []
            for node in sorted(up, key=lambda n: (-min(n.free, left), n.name)):
                if left == 0:
                    break
                use = min(node.free, left)
                if use:
                    node.free -= use
                    node.idle_since = None
                    taken.append((node.name, use))
                    left -= use
            free -= procs
            del p.queue[key]
            p.running[key] = taken
            self._start(key, now)

    def results(self, end: float) -> tuple[PoolResult, ...]:
        out = []
        for p in self.pools:
            seconds = p.node_seconds + sum(end - n.requested for n in p.nodes.values())
            hours = seconds / 3600.0
            out.append(
                PoolResult(
                    p.name, p.jobs, hours, hours * self.s.price_per_node_hour, p.peak, p.grown
                )
            )
        return tuple(out)
