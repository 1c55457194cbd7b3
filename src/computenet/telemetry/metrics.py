"""Prometheus metrics, read from the store on each scrape.

A custom collector answers from small tables and indexed queries only: live
job counts (state index), the accounting roll-ups (daily usage, wait
buckets), collector status and open alerts. Names start with ``cn_`` and use
base units (seconds, bytes). No job ids or user names are ever labels.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from sqlalchemy import func, inspect, select

from computenet.accounting.records import WAIT_BUCKETS_S
from computenet.store.tables import JobRow
from computenet.store.tables_accounting import UsageDailyRow, WaitBucketRow
from computenet.store.tables_telemetry import AlertRow, CollectorStatusRow

if TYPE_CHECKING:
    from computenet.core.runtime import Runtime

LIVE_STATES = ("PENDING", "STAGING_IN", "QUEUED", "RUNNING", "STAGING_OUT")
HEALTH = ("UP", "DEGRADED", "DOWN")


class StoreCollector:
    """prometheus_client collector over one runtime's store and cluster states."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def describe(self) -> list[Metric]:
        return []  # metrics are only known at scrape time

    def collect(self) -> Iterator[Metric]:
        rt = self.runtime
        with rt.store.session() as s:
            jobs = GaugeMetricFamily(
                "cn_jobs", "Jobs not yet ended, by cluster and state", labels=["cluster", "state"]
            )
            for cluster, state, n in s.execute(
                select(JobRow.cluster, JobRow.state, func.count())
                .where(JobRow.state.in_(LIVE_STATES))
                .group_by(JobRow.cluster, JobRow.state)
            ):
                jobs.add_metric([cluster or "", state], n)
            yield jobs

            core = CounterMetricFamily(
                "cn_core_seconds",
                "Allocated core-seconds of ended attempts",
                labels=["cluster", "project"],
            )
            gpu = CounterMetricFamily(
                "cn_gpu_seconds",
                "Allocated GPU-seconds of ended attempts",
                labels=["cluster", "project"],
            )
            cost = CounterMetricFamily(
                "cn_cost", "Cost of ended attempts (billing units)", labels=["cluster", "project"]
            )
            attempts = CounterMetricFamily(
                "cn_attempts_ended", "Attempts ended", labels=["cluster", "project"]
            )
            t = UsageDailyRow
            for cluster, project, cs, gs, c, n in s.execute(
                select(
                    t.cluster,
                    t.project,
                    func.sum(t.core_seconds),
                    func.sum(t.gpu_seconds),
                    func.sum(t.cost),
                    func.sum(t.attempts),
                ).group_by(t.cluster, t.project)
            ):
                core.add_metric([cluster, project], float(cs or 0))
                gpu.add_metric([cluster, project], float(gs or 0))
                cost.add_metric([cluster, project], float(c or 0))
                attempts.add_metric([cluster, project], float(n or 0))
            yield from (core, gpu, cost, attempts)

            waits = HistogramMetricFamily(
                "cn_queue_wait_seconds",
                "Time from submission to start of attempts that ran",
                labels=["cluster"],
            )
            by_cluster: dict[str, dict[int, tuple[int, float]]] = {}
            for bucket_row in s.scalars(select(WaitBucketRow)):
                by_cluster.setdefault(bucket_row.cluster, {})[bucket_row.bucket] = (
                    bucket_row.count,
                    bucket_row.sum_s,
                )
            for cluster, buckets in sorted(by_cluster.items()):
                running, total_s, out = 0, 0.0, []
                for i, bound in enumerate([*WAIT_BUCKETS_S, float("inf")]):
                    n, s_sum = buckets.get(i, (0, 0.0))
                    running += n
                    total_s += s_sum
                    out.append(("+Inf" if bound == float("inf") else f"{bound:g}", running))
                waits.add_metric([cluster], out, total_s)
            yield waits

            cpus = GaugeMetricFamily(
                "cn_cluster_cpus", "CPUs on nodes that are up (last sample)", labels=["cluster"]
            )
            alloc = GaugeMetricFamily(
                "cn_cluster_cpus_allocated", "Allocated CPUs (last sample)", labels=["cluster"]
            )
            down = GaugeMetricFamily(
                "cn_cluster_nodes_down", "Nodes down or drained (last sample)", labels=["cluster"]
            )
            skew = GaugeMetricFamily(
                "cn_cluster_clock_skew_seconds",
                "Cluster clock minus the server's",
                labels=["cluster"],
            )
            errors = CounterMetricFamily(
                "cn_telemetry_errors", "Failed collections", labels=["cluster"]
            )
            for row in s.scalars(select(CollectorStatusRow)):
                cpus.add_metric([row.cluster], row.cpus)
                alloc.add_metric([row.cluster], row.cpus_alloc)
                down.add_metric([row.cluster], row.nodes_down)
                skew.add_metric([row.cluster], row.skew_s)
                errors.add_metric([row.cluster], row.errors)
            yield from (cpus, alloc, down, skew, errors)

            alerts = GaugeMetricFamily("cn_alerts_open", "Open alerts by kind", labels=["kind"])
            for kind, n in s.execute(
                select(AlertRow.kind, func.count())
                .where(AlertRow.resolved_at.is_(None))
                .group_by(AlertRow.kind)
            ):
                alerts.add_metric([kind], n)
            yield alerts
            yield from _transfers(s)
            from computenet.telemetry.pool_metrics import pool_metrics

            limits = {n: st.config.max_nodes or 0 for n, st in rt.controller.pools.pools.items()}
            yield from pool_metrics(s, rt.clock.now(), limits)

        health = GaugeMetricFamily(
            "cn_cluster_up", "1 when the cluster answers (health UP)", labels=["cluster"]
        )
        health_set = GaugeMetricFamily(
            "cn_cluster_health", "Cluster health as a state set", labels=["cluster", "health"]
        )
        for name, st in rt.controller.clusters.status.items():
            value = st.health.value
            health.add_metric([name], 1.0 if value == "UP" else 0.0)
            for h in HEALTH:
                health_set.add_metric([name, h], 1.0 if h == value else 0.0)
        yield health
        yield health_set


def _transfers(s: object) -> Iterator[Metric]:
    """Bytes moved by data transfers, when the transfer tables exist."""
    from sqlalchemy.orm import Session

    assert isinstance(s, Session)
    if not inspect(s.get_bind()).has_table("transfers"):
        return
    try:
        from computenet.store.tables_transfer import TransferRow
    except ImportError:
        return
    total = CounterMetricFamily(
        "cn_transfer_bytes", "Bytes sent by data transfers", labels=["direction", "state"]
    )
    for direction, state, n in s.execute(
        select(TransferRow.direction, TransferRow.state, func.sum(TransferRow.bytes_sent)).group_by(
            TransferRow.direction, TransferRow.state
        )
    ):
        total.add_metric([direction or "none", state], float(n or 0))
    yield total


def render(runtime: Runtime) -> bytes:
    """The exposition text of this runtime's metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(runtime))  # type: ignore[arg-type, unused-ignore]
    return generate_latest(registry)
