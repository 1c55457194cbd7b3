"""Prometheus metrics of node pools (``cn_pool_*``), read from the pool tables.

Nodes by state, the most a pool may have, node-seconds and cost of every
node a pool grew (live ones up to now), events by kind, and the network's
pool spending per hour.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

STATES = ("booting", "up")


def pool_metrics(s: Session, now: float, max_nodes: dict[str, int]) -> Iterator[Metric]:
    if not inspect(s.get_bind()).has_table("pool_nodes"):
        return
    from computenet.store.tables_pools import PoolEventRow, PoolNodeRow

    nodes = GaugeMetricFamily("cn_pool_nodes", "Pool nodes by state", labels=["pool", "state"])
    top = GaugeMetricFamily("cn_pool_max_nodes", "The most nodes a pool may have", labels=["pool"])
    secs = CounterMetricFamily(
        "cn_pool_node_seconds", "Seconds of pool nodes, from request to release", labels=["pool"]
    )
    cost = CounterMetricFamily(
        "cn_pool_cost", "Cost of pool nodes (billing units)", labels=["pool"]
    )
    spend = GaugeMetricFamily(
        "cn_pool_spend_per_hour", "What the pools' live nodes cost per hour, all pools"
    )
    counts: dict[tuple[str, str], int] = defaultdict(int)
    seconds: dict[str, float] = defaultdict(float)
    money: dict[str, float] = defaultdict(float)
    rate = 0.0
    for row in s.scalars(select(PoolNodeRow)):
        end = row.released_at if row.released_at is not None else now
        seconds[row.pool] += max(0.0, end - row.requested_at)
        money[row.pool] += row.cost(now)
        if row.state in STATES:
            counts[(row.pool, row.state)] += 1
            rate += row.price_per_node_hour
    for pool in sorted(set(max_nodes) | set(seconds)):
        for state in STATES:
            nodes.add_metric([pool, state], counts[(pool, state)])
        if pool in max_nodes:
            top.add_metric([pool], max_nodes[pool])
        secs.add_metric([pool], seconds[pool])
        cost.add_metric([pool], money[pool])
    spend.add_metric([], rate)
    events = CounterMetricFamily("cn_pool_events", "Pool events by kind", labels=["pool", "kind"])
    for pool, kind, n in s.execute(
        select(PoolEventRow.pool, PoolEventRow.kind, func.count()).group_by(
            PoolEventRow.pool, PoolEventRow.kind
        )
    ):
        events.add_metric([pool, kind], n)
    yield from (nodes, top, secs, cost, spend, events)
