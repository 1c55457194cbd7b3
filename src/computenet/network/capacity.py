"""How big the network is, and how much of it a job could get soon.

- Total scale: nodes, physical cores, hardware threads, GPUs by model and
  memory, per partition, cluster and network (``total_scale``).
- Callable scale: for a job shape (CPUs or GPUs per node, memory per node,
  time limit) and a horizon T, the largest job of that shape that would
  start within T (``callable_scale``). It asks the same queue forecasts the
  broker asks when it places a job (``estimates.partition_forecast`` over
  the cluster's snapshot, or the simulator's start model), so "callable" is
  what the broker would predict for a job of that size submitted now.

How a shape meets a partition: a job of N nodes of the shape needs N
distinct nodes whose node type holds the shape, and the queue forecast
counts CPUs, so each node of the job is charged the larger of its CPUs and
its share of the node's memory and GPUs in CPUs (a 1-GPU shape on 4-GPU,
32-CPU nodes counts 8 CPUs per node). Like the broker's start estimates,
this ignores fragmentation: free CPUs scattered over nodes count as if a
node held them together.

Elastic pools: a partition backed by a pool has its up nodes now and, once
the pool's boot delay has passed (and it is not blocked after a failed
boot), up to its maximum node count. A job needing grown nodes starts at
the earliest when they are up.

Pure: functions of (cluster info, snapshot, pools, shape, horizons, now).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial

from computenet.errors import SpecError
from computenet.model import ClusterInfo, PartitionInfo
from computenet.network.bursting import UP, PoolView
from computenet.network.estimates import partition_forecast
from computenet.network.feasibility import DEFAULT_TIME_LIMIT_S, fmt_bytes, fmt_duration
from computenet.network.view import ClusterView
from computenet.spec.units import parse_mem_bytes, parse_time_s

MAX_HORIZON_S = 7 * 86400
#: the horizons a table shows by default, and the points of the JSON curve
DEFAULT_HORIZONS_S: tuple[float, ...] = (600.0, 3600.0, 86400.0)
CURVE_HORIZONS_S: tuple[float, ...] = (
    0.0,
    300.0,
    600.0,
    1800.0,
    3600.0,
    7200.0,
    14400.0,
    28800.0,
    43200.0,
    86400.0,
)
_UNAVAILABLE = ("down", "drained", "powered_down", "powering_up", "powering_down")
_SHAPE_HELP = "use node, cpus=N or gpus=N, with optional mem=SIZE and time=LIMIT, comma-separated"
_HORIZON = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?", re.IGNORECASE)
_HORIZON_UNIT = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


# ----- shapes and horizons --------------------------------------------------------------
@dataclass(frozen=True)
class Shape:
    """What one node of the job holds; ``whole_node`` takes every CPU and GPU."""

    text: str
    cpus: int = 0
    gpus: int = 0
    mem_bytes: int = 0
    whole_node: bool = False
    time_limit_s: int = DEFAULT_TIME_LIMIT_S


def parse_shape(text: str) -> Shape:
    """``node``, ``cpus=4``, ``gpus=1,mem=32G``, ``cpus=8,time=4:00:00``.

    Raises SpecError naming the part at fault (unknown key, bad number, no
    CPUs, GPUs or whole node)."""
    raw = text.strip()
    if not raw or len(raw) > 200:
        raise SpecError(f"unknown shape {text[:200]!r} ({_SHAPE_HELP})")
    values: dict[str, str] = {}
    whole = False
    for item in raw.split(","):
        key, eq, value = item.strip().partition("=")
        key = key.strip().lower()
        if key == "node" and not eq:
            whole = True
            continue
        if not eq or key not in ("cpus", "gpus", "mem", "time") or key in values:
            why = "repeated" if key in values else "unknown"
            raise SpecError(f"{why} shape part {item.strip()!r} in {raw!r} ({_SHAPE_HELP})")
        values[key] = value.strip()
    cpus = _count(values.get("cpus"), "cpus", raw)
    gpus = _count(values.get("gpus"), "gpus", raw)
    if whole and (cpus or gpus):
        raise SpecError(f"shape {raw!r}: node takes whole nodes; leave out cpus and gpus")
    if not (whole or cpus or gpus):
        raise SpecError(f"shape {raw!r} asks for nothing ({_SHAPE_HELP})")
    mem = parse_mem_bytes(values["mem"]) if "mem" in values else 0
    limit = DEFAULT_TIME_LIMIT_S
    if "time" in values:
        parsed = parse_time_s(values["time"])
        if parsed is None:
            raise SpecError(f"shape {raw!r}: time must be a finite limit")
        limit = parsed
    return Shape(raw, cpus, gpus, mem, whole, limit)


def _count(value: str | None, key: str, raw: str) -> int:
    if value is None:
        return 0
    if not value.isdigit() or not 1 <= int(value) <= 100_000:
        raise SpecError(f"shape {raw!r}: {key} must be a whole number from 1 to 100000")
    return int(value)


def parse_horizon(text: str) -> float:
    """Seconds in ``30s``, ``10m``, ``1h``, ``24h``, ``2d`` or plain seconds,
    from 0 to 7 days. Raises SpecError otherwise."""
    m = _HORIZON.fullmatch(text.strip()) if len(text) <= 40 else None
    if m is None:
        raise SpecError(f"invalid horizon {text[:40]!r} (use 10m, 1h, 24h, 2d or seconds)")
    seconds = float(m.group(1)) * _HORIZON_UNIT[(m.group(2) or "s").lower()]
    return check_horizon(seconds)


def check_horizon(seconds: float) -> float:
    if not math.isfinite(seconds) or not 0 <= seconds <= MAX_HORIZON_S:
        raise SpecError(f"horizon {seconds:g} s is out of range (0 to {MAX_HORIZON_S} s, 7 days)")
    return seconds


# ----- total scale ------------------------------------------------------------------------
@dataclass(frozen=True)
class Scale:
    nodes: int = 0
    cores: int = 0
    threads: int = 0
    mem_bytes: int = 0
    gpus: dict[str, int] = field(default_factory=dict)  # model -> count

    def __add__(self, other: Scale) -> Scale:
        gpus = dict(self.gpus)
        for model, count in other.gpus.items():
            gpus[model] = gpus.get(model, 0) + count
        return Scale(
            self.nodes + other.nodes,
            self.cores + other.cores,
            self.threads + other.threads,
            self.mem_bytes + other.mem_bytes,
            gpus,
        )


def partition_scale(p: PartitionInfo) -> Scale:
    nt = p.node_type
    gpus = {(nt.gpu_model or "unnamed"): p.nodes * nt.gpus} if nt.gpus else {}
    return Scale(p.nodes, p.total_cores, p.total_cpus, p.nodes * nt.mem_bytes, gpus)


def total_scale(infos: Iterable[ClusterInfo]) -> Scale:
    out = Scale()
    for info in infos:
        for p in info.partitions:
            out = out + partition_scale(p)
    return out


# ----- callable scale ---------------------------------------------------------------------
@dataclass(frozen=True)
class CallableScale:
    """The largest job of ``shape`` predicted to start within ``horizon_s``
    on one partition: ``nodes`` of it (0: none), starting at ``start``."""

    cluster: str
    partition: str
    horizon_s: float
    nodes: int
    cpus: int
    gpus: int
    mem_bytes: int
    start: float | None
    pool: bool = False  # needs nodes the pool grows
    reason: str | None = None  # why nothing of this shape can start here

    def as_dict(self, now: float) -> dict[str, object]:
        return {
            "cluster": self.cluster,
            "partition": self.partition,
            "horizon_s": self.horizon_s,
            "nodes": self.nodes,
            "cpus": self.cpus,
            "gpus": self.gpus,
            "mem_bytes": self.mem_bytes,
            "start_in_s": None if self.start is None else max(0.0, self.start - now),
            "pool": self.pool,
            "reason": self.reason,
        }


def charge_per_node(shape: Shape, p: PartitionInfo) -> int | str:
    """CPUs the forecast charges per node of the job, or why the shape does
    not fit this partition's nodes."""
    nt = p.node_type
    if shape.whole_node:
        if shape.mem_bytes > nt.mem_bytes:
            return f"needs {fmt_bytes(shape.mem_bytes)} per node, has {fmt_bytes(nt.mem_bytes)}"
        return nt.cpus
    if shape.cpus > nt.cpus:
        return f"needs {shape.cpus} CPUs per node, has {nt.cpus}"
    if shape.gpus > nt.gpus:
        return f"needs {shape.gpus} GPUs per node, has {nt.gpus}"
    if shape.mem_bytes > nt.mem_bytes:
        return f"needs {fmt_bytes(shape.mem_bytes)} per node, has {fmt_bytes(nt.mem_bytes)}"
    charge = shape.cpus
    if shape.gpus:
        charge = max(charge, math.ceil(shape.gpus / nt.gpus * nt.cpus))
    if shape.mem_bytes and nt.mem_bytes:
        charge = max(charge, math.ceil(shape.mem_bytes / nt.mem_bytes * nt.cpus))
    return max(1, charge)


def _largest(limit: int, ok: Callable[[int], bool]) -> int:
    """The largest n in [0, limit] with ok(n), for ok true up to a point."""
    lo, hi = 0, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def callable_scale(
    view: ClusterView,
    shape: Shape,
    horizons: Sequence[float],
    now: float,
    pools: Sequence[PoolView] = (),
) -> list[CallableScale]:
    """Per partition of ``view`` and per horizon: the largest job of
    ``shape`` the broker's forecast starts by ``now + horizon`` (``now`` is
    the snapshot's time when that is later: the queue is known as of then)."""
    out: list[CallableScale] = []
    info = view.info
    if view.snapshot is not None:
        now = max(now, view.snapshot.time)
    for p in info.partitions:
        pool = next((x for x in pools if x.partition == p.name), None)
        out.extend(_partition(view, p, shape, horizons, now, pool))
    return out


def _partition(
    view: ClusterView,
    p: PartitionInfo,
    shape: Shape,
    horizons: Sequence[float],
    now: float,
    pool: PoolView | None,
) -> list[CallableScale]:
    name = view.info.name

    def none(reason: str) -> list[CallableScale]:
        return [CallableScale(name, p.name, h, 0, 0, 0, 0, None, False, reason) for h in horizons]

    charge = charge_per_node(shape, p)
    if isinstance(charge, str):
        return none(charge)
    if p.max_time_s is not None and shape.time_limit_s > p.max_time_s:
        return none(f"time limit {fmt_duration(shape.time_limit_s)} over the partition's")
    snap = view.snapshot
    if view.start_model is None and snap is None:
        return none(f"{name} gave no snapshot ({view.health.value.lower()})")
    nt = p.node_type
    per_cpus = nt.cpus if shape.whole_node else shape.cpus
    per_gpus = nt.gpus if shape.whole_node else shape.gpus
    per_mem = shape.mem_bytes or (nt.mem_bytes if shape.whole_node else 0)
    limit_s = float(shape.time_limit_s)

    if pool is not None:
        up = sum(1 for n in pool.nodes if n.state == UP)
        now_nodes = up
        now_capacity: int | None = up * nt.cpus
    else:
        now_capacity = None
        now_nodes = p.nodes
        if snap is not None:
            members = [n for n in snap.nodes if n.partition == p.name]
            if members:
                now_nodes = sum(1 for n in members if n.state not in _UNAVAILABLE)

    def start(n: int, capacity: int | None) -> float:
        cpus = n * charge
        if view.start_model is not None:
            return view.start_model.predict_start(p.name, cpus, limit_s, now)
        assert snap is not None
        forecast = partition_forecast(view, snap, p, capacity)
        return max(now, forecast.predict_start(cpus, limit_s, now))

    grows = (
        pool is not None
        and (pool.blocked_until is None or pool.blocked_until <= now)
        and pool.max_nodes > now_nodes
    )
    boot_s = pool.boot_delay_s if pool is not None else 0.0
    full = pool.max_nodes * nt.cpus if pool is not None else 0

    def by(deadline: float, k: int, capacity: int | None, boot: float) -> bool:
        return k == 0 or max(start(k, capacity), now + boot) <= deadline

    rows: list[CallableScale] = []
    for h in horizons:
        deadline = now + h
        n = _largest(now_nodes, partial(by, deadline, capacity=now_capacity, boot=0.0))
        at = start(n, now_capacity) if n else None
        via_pool = False
        if grows and pool is not None and now + boot_s <= deadline:
            m = _largest(pool.max_nodes, partial(by, deadline, capacity=full, boot=boot_s))
            if m > n:
                n, at, via_pool = m, max(start(m, full), now + boot_s), True
        reason = None if n else f"nothing of this shape starts within {fmt_duration(h)}"
        rows.append(
            CallableScale(
                name, p.name, h, n, n * per_cpus, n * per_gpus, n * per_mem, at, via_pool, reason
            )
        )
    return rows


def largest(rows: Iterable[CallableScale], horizon_s: float) -> CallableScale | None:
    """The network's answer at one horizon: the partition where the largest
    job (most nodes of the shape, then most CPUs) starts; None when none does."""
    best: CallableScale | None = None
    for r in rows:
        if r.horizon_s != horizon_s or not r.nodes:
            continue
        if best is None or (r.nodes, r.cpus) > (best.nodes, best.cpus):
            best = r
    return best
