"""Builders for hand-made clusters and snapshots."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from computenet.model import (
    ClusterInfo,
    NodeSnapshot,
    NodeType,
    PartitionInfo,
    Snapshot,
    SnapshotJob,
)


def cluster(
    name: str,
    *,
    cores: int = 4,
    nodes: int = 2,
    price: float = 0.0,
    gpu_price: float = 0.0,
    mem_gib: int = 16,
    gpus: int = 0,
    gpu_model: str | None = None,
    features: tuple[str, ...] = (),
    arch: str = "x86_64",
    speed: float = 1.0,
    max_time_s: int | None = None,
    site: str = "local",
    region: str = "local",
    scheduler: str = "easy",
    partition: str = "batch",
) -> ClusterInfo:
    node = NodeType(
        cores=cores,
        mem_bytes=mem_gib * 2**30,
        gpus=gpus,
        gpu_model=gpu_model,
        arch=arch,
        features=features,
        speed=speed,
    )
    part = PartitionInfo(
        partition,
        node,
        nodes,
        max_time_s=max_time_s,
        default=True,
        price_per_core_hour=price,
        price_per_gpu_hour=gpu_price,
    )
    return ClusterInfo(name, "fake", (part,), site=site, region=region, scheduler=scheduler)


def snapshot(
    info: ClusterInfo,
    now: float,
    running: Sequence[tuple[int, float, int]] = (),
    pending: Sequence[tuple[int, int]] = (),
) -> Snapshot:
    """``running``: (cpus, start, time limit); ``pending``: (cpus, time limit)."""
    part = info.partitions[0]
    cpus = part.node_type.cpus
    nodes = tuple(NodeSnapshot(f"{info.name}-n{i}", part.name, cpus, 0) for i in range(part.nodes))
    run = tuple(
        SnapshotJob(f"r{i}", part.name, c, 1, int(limit), start, start)
        for i, (c, start, limit) in enumerate(running)
    )
    pend = tuple(
        SnapshotJob(f"p{i}", part.name, c, 1, int(limit), now)
        for i, (c, limit) in enumerate(pending)
    )
    return Snapshot(now, nodes, run, pend)


@pytest.fixture
def make_cluster() -> Callable[..., ClusterInfo]:
    return cluster


@pytest.fixture
def make_snapshot() -> Callable[..., Snapshot]:
    return snapshot
