"""Pure arithmetic of usage records: allocation x time, split over days.

A record describes one ended attempt. Elapsed time comes from the attempt's
own start and end (or the cluster's usage report), never from counting
samples, so a job that ends between two samples is billed to the second.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from computenet.accounting.prices import Price

DAY_S = 86400.0
#: Upper bounds of the queue-wait histogram (seconds); the last bucket is +Inf.
WAIT_BUCKETS_S = (10.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 12 * 3600.0, 86400.0, 4 * 86400.0)


@dataclass(frozen=True)
class Allocation:
    elapsed_s: float
    cpus: int
    gpus: int
    nodes: int
    mem_bytes: int
    cpu_time_s: float | None
    max_rss_bytes: int | None

    @property
    def core_seconds(self) -> float:
        return self.elapsed_s * self.cpus

    @property
    def gpu_seconds(self) -> float:
        return self.elapsed_s * self.gpus


def allocation(
    usage: Mapping[str, Any] | None,
    spec: Mapping[str, Any],
    start_time: float | None,
    end_time: float,
) -> Allocation:
    """What an attempt held, from the cluster's usage report or else its spec.

    Elapsed time is the attempt's end minus start when both are known (the
    cluster's own clock), which stays right however rarely it was sampled.
    """
    from computenet.model import JobSpec

    parsed = JobSpec.from_dict(dict(spec))
    elapsed = max(0.0, end_time - start_time) if start_time is not None else 0.0
    if usage:
        reported = float(usage.get("elapsed_s") or 0.0)
        if start_time is None:
            elapsed = reported
        return Allocation(
            elapsed_s=elapsed,
            cpus=int(usage.get("cpus") or parsed.cpus),
            gpus=int(usage.get("gpus") or 0),
            nodes=int(usage.get("nodes") or parsed.node_count),
            mem_bytes=int(usage.get("mem_bytes") or parsed.mem_bytes_total()),
            cpu_time_s=_opt_float(usage.get("cpu_time_s")),
            max_rss_bytes=_opt_int(usage.get("max_rss_bytes")),
        )
    return Allocation(
        elapsed_s=elapsed,
        cpus=parsed.cpus,
        gpus=parsed.total_gpus,
        nodes=parsed.node_count,
        mem_bytes=parsed.mem_bytes_total(),
        cpu_time_s=None,
        max_rss_bytes=None,
    )


def cost(alloc: Allocation, price: Price) -> float:
    return price.cost(alloc.core_seconds, alloc.gpu_seconds)


def day_of(epoch: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(epoch))


def split_by_day(start: float, end: float) -> list[tuple[str, float]]:
    """(UTC day, seconds in it) for the interval; empty intervals give nothing."""
    out: list[tuple[str, float]] = []
    t = start
    while t < end:
        next_day = (t // DAY_S + 1) * DAY_S
        stop = min(end, next_day)
        out.append((day_of(t), stop - t))
        t = stop
    return out


def fraction_after(start: float | None, end: float, boundary: float) -> float:
    """Share of [start, end] that lies at or after ``boundary`` (1 or 0 for instants)."""
    if start is None or end <= start:
        return 1.0 if end >= boundary else 0.0
    if start >= boundary:
        return 1.0
    if end <= boundary:
        return 0.0
    return (end - boundary) / (end - start)


def wait_bucket(wait_s: float) -> int:
    """Index of the histogram bucket (``le``) the wait falls in."""
    return bisect.bisect_left(WAIT_BUCKETS_S, wait_s)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)
