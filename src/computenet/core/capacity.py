"""The network's yardsticks in one answer: what ``cnet capacity`` and
``GET /api/v1/capacity`` return.

Per partition, cluster and network: total scale, derived peak FLOPS,
callable scale per shape and horizon (``network.capacity``), and the latest
sustained figures measured by benchmark jobs (``core.bench``) beside the
peak as efficiency.

Embedded clusters carve virtual nodes out of this one machine, so their
summed peak is capped at the host's: however many virtual cores they
declare, the host has only its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from computenet.clusters.embedded.host_cpu import host_cpu
from computenet.core import bench, speeds
from computenet.network.capacity import (
    CURVE_HORIZONS_S,
    DEFAULT_HORIZONS_S,
    CallableScale,
    Scale,
    Shape,
    callable_scale,
    largest,
    parse_horizon,
    parse_shape,
    partition_scale,
)
from computenet.network.peak import node_peak

if TYPE_CHECKING:
    from computenet.core.controller import Controller

DEFAULT_SHAPES = ("node", "cpus=1")
MAX_SHAPES = 8
MAX_HORIZONS = 24


def scale_dict(s: Scale) -> dict[str, Any]:
    return {
        "nodes": s.nodes,
        "cores": s.cores,
        "threads": s.threads,
        "mem_bytes": s.mem_bytes,
        "gpus": dict(sorted(s.gpus.items())),
    }


def parse_request(
    shapes: Sequence[str], horizons: Sequence[str], curve: bool
) -> tuple[list[Shape], list[float]]:
    """Shapes and horizons checked (SpecError for the first bad one), with
    the defaults for none given and the curve's points added with ``curve``."""
    from computenet.errors import SpecError

    if len(shapes) > MAX_SHAPES or len(horizons) > MAX_HORIZONS:
        raise SpecError(f"at most {MAX_SHAPES} shapes and {MAX_HORIZONS} horizons per request")
    parsed: dict[str, Shape] = {}
    for text in shapes or DEFAULT_SHAPES:
        shape = parse_shape(text)
        parsed.setdefault(shape.text, shape)
    chosen = [parse_horizon(h) for h in horizons] or list(DEFAULT_HORIZONS_S)
    if curve:
        chosen = [*chosen, *CURVE_HORIZONS_S]
    return list(parsed.values()), sorted(set(chosen))


async def report(
    ctrl: Controller,
    shapes: Sequence[Shape],
    horizons: Sequence[float],
    sustained: dict[tuple[str, str], list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """The whole answer; ``sustained`` maps (cluster, partition) to its
    latest benchmark results (``core.bench.latest``)."""
    views = await ctrl.clusters.views(with_snapshots=True)
    now = ctrl.clock.now()
    benched = bench.broker_speeds(ctrl.store, ctrl.clusters.infos(), now)
    views = speeds.with_speed(views, ctrl.speed, ctrl.app_speed, benched)
    snapshots = {name: v.snapshot for name, v in views.items()}
    pool_views = ctrl.pools.views(snapshots) if ctrl.pools else {}
    sustained = sustained or {}
    host = host_cpu()
    host_peak = (host.clock_ghz or 0.0) * host.flops_per_cycle * host.cores or None
    clusters: list[dict[str, Any]] = []
    every: dict[str, list[CallableScale]] = {}
    total = Scale()
    peak_remote = 0.0
    peak_embedded = 0.0
    for name in sorted(views):
        view = views[name]
        info = view.info
        pools = [pv for (c, _), pv in pool_views.items() if c == name]
        rows: dict[tuple[str, str], list[CallableScale]] = {}
        for shape in shapes:
            for row in callable_scale(view, shape, horizons, now, pools):
                rows.setdefault((row.partition, shape.text), []).append(row)
                every.setdefault(shape.text, []).append(row)
        parts = []
        cluster_scale = Scale()
        cluster_peak = 0.0
        for p in info.partitions:
            s = partition_scale(p)
            cluster_scale = cluster_scale + s
            peak = node_peak(p.node_type)
            gflops = peak.gflops * p.nodes if peak.gflops is not None else None
            cluster_peak += gflops or 0.0
            parts.append(
                {
                    "name": p.name,
                    "scale": scale_dict(s),
                    "node_type": {
                        "cores": p.node_type.cores,
                        "threads_per_core": p.node_type.threads_per_core,
                        "mem_bytes": p.node_type.mem_bytes,
                        "gpus": p.node_type.gpus,
                        "gpu_model": p.node_type.gpu_model,
                        "clock_ghz": p.node_type.clock_ghz,
                        "flops_per_cycle": p.node_type.flops_per_cycle,
                    },
                    "peak": {
                        "gflops_per_node": peak.gflops,
                        "gflops": gflops,
                        "derivation": peak.derivation,
                    },
                    "sustained": sustained.get((name, p.name), []),
                    "callable": [
                        {"shape": shape.text, **r.as_dict(now)}
                        for shape in shapes
                        for r in rows.get((p.name, shape.text), [])
                    ],
                }
            )
        note = None
        if info.kind == "embedded":
            peak_embedded += cluster_peak
            if host_peak is not None and cluster_peak > host_peak:
                note = (
                    f"virtual nodes share this host's {host.cores} cores: "
                    f"peak capped at {host_peak:.4g} GFLOPS"
                )
                cluster_peak = host_peak
        else:
            peak_remote += cluster_peak
        total = total + cluster_scale
        clusters.append(
            {
                "name": name,
                "kind": info.kind,
                "health": view.health.value,
                "scale": scale_dict(cluster_scale),
                "peak_gflops": cluster_peak or None,
                "peak_note": note,
                "partitions": parts,
            }
        )
    if host_peak is not None:
        peak_embedded = min(peak_embedded, host_peak)
    network_callable = []
    for shape in shapes:
        mine = every.get(shape.text, [])
        for h in horizons:
            at_h = [r for r in mine if r.horizon_s == h]
            best = largest(at_h, h)
            network_callable.append(
                {
                    "shape": shape.text,
                    "horizon_s": h,
                    "largest": None if best is None else best.as_dict(now),
                    "total_nodes": sum(r.nodes for r in at_h),
                    "total_cpus": sum(r.cpus for r in at_h),
                    "total_gpus": sum(r.gpus for r in at_h),
                }
            )
    return {
        "time": now,
        "shapes": [s.text for s in shapes],
        "horizons_s": list(horizons),
        "network": {
            "scale": scale_dict(total),
            "peak_gflops": (peak_remote + peak_embedded) or None,
            "callable": network_callable,
        },
        "host": {
            "model": host.model,
            "cores": host.cores,
            "clock_ghz": host.clock_ghz,
            "vector": host.vector,
            "flops_per_cycle": host.flops_per_cycle,
            "peak_gflops": host_peak,
        },
        "clusters": clusters,
    }
