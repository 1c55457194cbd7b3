"""Samples as the collector makes them, and the pure checks on what a
cluster reported: garbage is refused, a clock ahead of ours is clamped."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from computenet.model import Snapshot


class GarbageError(ValueError):
    """A cluster's report that cannot be true; the sample is dropped."""


@dataclass(frozen=True)
class SampleTime:
    time: float  # what we store: never ahead of our clock
    skew_s: float  # cluster time minus ours (positive: the cluster is ahead)
    clamped: bool


def clamp_time(reported: Any, now: float, tolerance_s: float) -> SampleTime:
    """The time to store for a sample the cluster stamped ``reported``."""
    if not isinstance(reported, int | float) or not math.isfinite(reported):
        return SampleTime(now, 0.0, True)
    skew = float(reported) - now
    if skew > tolerance_s:
        return SampleTime(now, skew, True)
    return SampleTime(min(float(reported), now), skew, False)


def check_snapshot(snap: Any) -> Snapshot:
    """The snapshot if it is plausible, else ``GarbageError`` saying why."""
    if not isinstance(snap, Snapshot):
        raise GarbageError(f"snapshot is a {type(snap).__name__}, not a Snapshot")
    for n in snap.nodes:
        for name in ("cpus", "cpus_alloc", "gpus", "gpus_alloc", "mem_bytes", "mem_alloc_bytes"):
            value = getattr(n, name, None)
            if not isinstance(value, int) or value < 0:
                raise GarbageError(f"node {getattr(n, 'name', '?')}: {name}={value!r}")
        if n.cpus_alloc > n.cpus or n.gpus_alloc > n.gpus:
            raise GarbageError(
                f"node {n.name}: allocated {n.cpus_alloc}/{n.cpus} CPUs, "
                f"{n.gpus_alloc}/{n.gpus} GPUs"
            )
        if n.load is not None and (
            not isinstance(n.load, int | float) or not math.isfinite(n.load)
        ):
            raise GarbageError(f"node {n.name}: load={n.load!r}")
    return snap


DOWN_STATES = ("down", "drained", "drain", "fail")


def partition_rows(cluster: str, snap: Snapshot, time: float) -> list[dict[str, Any]]:
    """One raw partition sample per partition of the snapshot."""
    acc: dict[str, dict[str, Any]] = {}
    for n in snap.nodes:
        row = acc.setdefault(
            n.partition,
            {
                "resolution_s": 0,
                "time": time,
                "cluster": cluster,
                "partition": n.partition,
                "samples": 1,
                "nodes": 0,
                "nodes_down": 0,
                "cpus": 0,
                "cpus_alloc": 0,
                "gpus": 0,
                "gpus_alloc": 0,
                "jobs_running": 0,
                "jobs_pending": 0,
            },
        )
        row["nodes"] += 1
        down = n.state in DOWN_STATES
        row["nodes_down"] += int(down)
        row["cpus"] += 0 if down else n.cpus
        row["cpus_alloc"] += n.cpus_alloc
        row["gpus"] += 0 if down else n.gpus
        row["gpus_alloc"] += n.gpus_alloc
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for j in snap.running:
        counts[(j.partition, "jobs_running")] += 1
    for j in snap.pending:
        counts[(j.partition, "jobs_pending")] += 1
    for (partition, key), count in counts.items():
        if partition in acc:
            acc[partition][key] += count
    return list(acc.values())


def node_rows(cluster: str, snap: Snapshot, time: float) -> list[dict[str, Any]]:
    return [
        {
            "time": time,
            "cluster": cluster,
            "partition": n.partition,
            "node": n.name,
            "state": n.state,
            "cpus": n.cpus,
            "cpus_alloc": n.cpus_alloc,
            "gpus": n.gpus,
            "gpus_alloc": n.gpus_alloc,
            "mem_bytes": n.mem_bytes,
            "mem_alloc_bytes": n.mem_alloc_bytes,
            "load": n.load,
        }
        for n in snap.nodes
    ]


@dataclass(frozen=True)
class LiveStats:
    """What a cluster (or the process sampler) says of a running job now."""

    cpu_time_s: float | None = None  # cumulative
    rss_bytes: int | None = None
    threads: int | None = None
    read_bytes: int | None = None
    write_bytes: int | None = None
    gpu_util: float | None = None  # 0..1


def live_stats_from(data: Any) -> LiveStats | None:
    """Parse an adapter's ``live_stats`` entry; None when it makes no sense."""
    if isinstance(data, LiveStats):
        return data
    if not isinstance(data, dict):
        return None
    out: dict[str, Any] = {}
    for key in ("cpu_time_s", "gpu_util"):
        v = data.get(key)
        if v is not None:
            if not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
                return None
            out[key] = float(v)
    for key in ("rss_bytes", "threads", "read_bytes", "write_bytes"):
        v = data.get(key)
        if v is not None:
            if not isinstance(v, int | float) or v < 0:
                return None
            out[key] = int(v)
    return LiveStats(**out)


@dataclass(frozen=True)
class PreviousStat:
    time: float
    cpu_time_s: float | None
    low_cpu_since: float | None
    gpu_idle_since: float | None
    peak_rss_bytes: int | None
    peak_threads: int | None
    samples: int
    first_time: float


@dataclass(frozen=True)
class JobPoint:
    """One job's sample and the stats it leads to."""

    cpu_rate: float | None
    low_cpu_since: float | None
    gpu_idle_since: float | None


def job_point(
    prev: PreviousStat | None,
    live: LiveStats | None,
    *,
    time: float,
    cpus: int,
    gpus: int,
    hung_fraction: float,
    gpu_idle_fraction: float,
) -> JobPoint:
    """CPU rate since the previous sample and when low use began (pure)."""
    rate = None
    if live is not None and live.cpu_time_s is not None and prev is not None:
        dt = time - prev.time
        if dt > 0 and prev.cpu_time_s is not None and live.cpu_time_s >= prev.cpu_time_s:
            rate = (live.cpu_time_s - prev.cpu_time_s) / dt
    low_since = None
    if rate is not None and cpus > 0 and rate / cpus < hung_fraction:
        low_since = (
            prev.low_cpu_since
            if prev and prev.low_cpu_since is not None
            else prev.time
            if prev
            else time
        )
    idle_since = None
    if (
        gpus > 0
        and live is not None
        and live.gpu_util is not None
        and live.gpu_util < gpu_idle_fraction
    ):
        idle_since = prev.gpu_idle_since if prev and prev.gpu_idle_since is not None else time
    return JobPoint(rate, low_since, idle_since)
