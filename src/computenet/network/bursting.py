"""Bursting: when is growing a node pool worth it, and how far may it grow.

Pure functions of (pool views, demand, caps, now); the live controller
(``core/pool_steps.py``) and the simulator (``sim/pools.py``) call the same
ones.

- ``offer``: what a pool can do for one job: start now on nodes that are up,
  start when booting nodes are up, or grow new nodes (start after the boot
  delay); with the marginal cost of that choice (node-hours bought), or why
  it cannot (at its maximum, blocked after a failed boot, over the network's
  hard spending cap).
- ``plan``: what a pool should do now: how many nodes to grow for the work
  queued on it, which idle nodes to release (idle past ``idle_release_s``,
  never below ``min_nodes``), which booting nodes failed (not up within
  ``resume_timeout_s``).

Hysteresis: a pool grows only for queued work, a node is released only after
it has idled ``idle_release_s`` (so a pause between two jobs keeps it), and
the local-first policy keeps sending jobs to nodes that are already up while
home's wait is above a fraction of its threshold (``Context.hysteresis``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from computenet.network.feasibility import fmt_duration

BOOTING, UP = "booting", "up"


@dataclass(frozen=True)
class PoolNode:
    name: str
    state: str  # booting | up
    since: float  # booting: when it was asked for; up: when it came up
    cpus_free: int = 0  # up nodes only
    idle_since: float | None = None  # up and running nothing since then; None when busy


@dataclass(frozen=True)
class PoolView:
    """One pool as the broker sees it at decision time."""

    name: str
    cluster: str
    partition: str
    cpus_per_node: int
    max_nodes: int
    price_per_node_hour: float
    boot_delay_s: float = 0.0
    idle_release_s: float = 300.0
    resume_timeout_s: float = 600.0
    min_nodes: int = 0
    nodes: tuple[PoolNode, ...] = ()
    #: CPUs asked for by jobs already sent to the pool and not started
    queued_cpus: int = 0
    #: no growth before this time (a node failed to boot), and why
    blocked_until: float | None = None
    blocked_why: str | None = None

    @property
    def live(self) -> int:
        return len(self.nodes)

    @property
    def spend_per_hour(self) -> float:
        return self.live * self.price_per_node_hour


@dataclass(frozen=True)
class Caps:
    """The network's spending per hour on pools, and its caps."""

    spend_per_hour: float = 0.0  # nodes booting or up, summed over every pool
    hard_per_hour: float | None = None
    soft_per_hour: float | None = None

    def room(self, price_per_node_hour: float) -> int | None:
        """Nodes of this price the hard cap still allows (None: no limit)."""
        if self.hard_per_hour is None or price_per_node_hour <= 0:
            return None
        return max(0, math.floor((self.hard_per_hour - self.spend_per_hour) / price_per_node_hour))

    def soft_note(self, adding_per_hour: float) -> str | None:
        if self.soft_per_hour is None:
            return None
        total = self.spend_per_hour + adding_per_hour
        if total <= self.soft_per_hour:
            return None
        return f"pool spending {total:.2f}/h passes the soft cap of {self.soft_per_hour:.2f}/h"


def caps_of(pools: Sequence[PoolView], hard: float | None, soft: float | None) -> Caps:
    return Caps(sum(p.spend_per_hour for p in pools), hard, soft)


@dataclass(frozen=True)
class Offer:
    start: float
    grow: int  # nodes to grow for this job (0: nodes up or booting suffice)
    cost: float  # node-hours bought for the job, times the price
    reason: str  # one phrase: "2 nodes up", "grows 1 node (boot 2 min)"
    warning: str | None = None  # the soft cap is passed


def _supply(pool: PoolView, now: float) -> tuple[int, int, float]:
    """(CPUs free on nodes up, CPUs of booting nodes, when the last booting one is up)."""
    up = sum(n.cpus_free for n in pool.nodes if n.state == UP)
    booting = [n for n in pool.nodes if n.state == BOOTING]
    ready = max((n.since + pool.boot_delay_s for n in booting), default=now)
    return up, len(booting) * pool.cpus_per_node, max(now, ready)


def offer(
    pool: PoolView, cpus: int, nodes: int, runtime_s: float, now: float, caps: Caps
) -> Offer | str:
    """What ``pool`` can do for a job of ``cpus`` on ``nodes`` nodes running
    ``runtime_s``, behind the work already queued there; or why it cannot."""
    if cpus > pool.max_nodes * pool.cpus_per_node or nodes > pool.max_nodes:
        return f"pool {pool.name} is at most {pool.max_nodes} node(s) of {pool.cpus_per_node} CPUs"
    up, booting, ready = _supply(pool, now)
    need = cpus + pool.queued_cpus
    share = cpus / pool.cpus_per_node
    hours = runtime_s / 3600.0
    if need <= up:
        return Offer(now, 0, share * pool.price_per_node_hour * hours, "runs on nodes already up")
    if need <= up + booting:
        wait = fmt_duration(ready - now)
        cost = share * pool.price_per_node_hour * (hours + (ready - now) / 3600.0)
        return Offer(ready, 0, cost, f"runs on nodes booting now (up in {wait})")
    grow = max(math.ceil((need - up - booting) / pool.cpus_per_node), nodes - pool.live)
    grow = max(grow, 1)
    if pool.live + grow > pool.max_nodes:
        return f"pool {pool.name} is at its maximum of {pool.max_nodes} node(s) and busy"
    if pool.blocked_until is not None and now < pool.blocked_until:
        why = pool.blocked_why or "a node failed to boot"
        return f"pool {pool.name} does not grow for {fmt_duration(pool.blocked_until - now)}: {why}"
    room = caps.room(pool.price_per_node_hour)
    if room is not None and grow > room:
        assert caps.hard_per_hour is not None
        return (
            f"growing pool {pool.name} by {grow} node(s) would pass the network's hard cap "
            f"of {caps.hard_per_hour:.2f}/h on pool spending (now {caps.spend_per_hour:.2f}/h)"
        )
    # A new node is paid from the moment it is asked for until it idles out.
    bought_h = (pool.boot_delay_s + runtime_s + pool.idle_release_s) / 3600.0
    cost = grow * pool.price_per_node_hour * bought_h
    plural = "s" if grow > 1 else ""
    return Offer(
        now + pool.boot_delay_s,
        grow,
        cost,
        f"grows {grow} node{plural} (boot {fmt_duration(pool.boot_delay_s)})",
        caps.soft_note(grow * pool.price_per_node_hour),
    )


@dataclass(frozen=True)
class Plan:
    grow: int = 0
    release: tuple[str, ...] = ()  # idle past their time
    failed: tuple[str, ...] = ()  # not up within resume_timeout_s
    reason: str = ""
    warning: str | None = None


def plan(pool: PoolView, demand_cpus: int, now: float, caps: Caps) -> Plan:
    """What the pool should do now for ``demand_cpus`` CPUs of jobs queued on
    it (and not yet started). Growth stops at ``max_nodes``, at the hard cap
    and while the pool is blocked; releases keep ``min_nodes``."""
    failed = tuple(
        n.name for n in pool.nodes if n.state == BOOTING and now - n.since > pool.resume_timeout_s
    )
    alive = [n for n in pool.nodes if n.name not in failed]
    up = sum(n.cpus_free for n in alive if n.state == UP)
    booting = sum(pool.cpus_per_node for n in alive if n.state == BOOTING)
    short = max(0, demand_cpus - up - booting)
    want = math.ceil(short / pool.cpus_per_node)
    want = max(want, pool.min_nodes - len(alive))
    grow, reason, warning = 0, "", None
    if want > 0:
        limits = [want, pool.max_nodes - len(alive)]
        room = caps.room(pool.price_per_node_hour)
        if room is not None:
            limits.append(room)
        blocked = pool.blocked_until is not None and now < pool.blocked_until
        grow = 0 if blocked else max(0, min(limits))
        if grow:
            reason = f"{demand_cpus} CPU(s) queued, {up} free and {booting} booting"
            if len(alive) < pool.min_nodes and short == 0:
                reason = f"keeps its minimum of {pool.min_nodes} node(s)"
            warning = caps.soft_note(grow * pool.price_per_node_hour)
        elif blocked:
            reason = f"blocked: {pool.blocked_why or 'a node failed to boot'}"
        elif pool.max_nodes - len(alive) <= 0:
            reason = f"at its maximum of {pool.max_nodes} node(s)"
        else:
            reason = "the network's hard cap on pool spending is reached"
    release: list[str] = []
    if short == 0:
        keep = max(pool.min_nodes, 0)
        spare = up - demand_cpus  # CPUs free beyond what the queue needs
        idle = sorted(
            (n for n in alive if n.state == UP and n.idle_since is not None),
            key=lambda n: (n.idle_since or 0.0, n.name),
        )
        count = len(alive)
        for n in idle:
            if count <= keep:
                break
            assert n.idle_since is not None
            if now - n.idle_since < pool.idle_release_s or spare < n.cpus_free:
                continue
            release.append(n.name)
            spare -= n.cpus_free
            count -= 1
    return Plan(grow, tuple(release), failed, reason, warning)
