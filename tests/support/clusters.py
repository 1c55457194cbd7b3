"""The fake clusters most tests run on."""

from __future__ import annotations

from computenet.config import ClusterConfig, PartitionConfig


def fake_configs() -> list[ClusterConfig]:
    """``alpha`` (2 nodes x 4 cores, faster, dearer) and ``beta`` (1 node x 4
    cores, half speed, cheaper)."""
    return [
        ClusterConfig(
            name="alpha",
            kind="fake",
            partitions=[
                PartitionConfig(
                    name="cpu",
                    nodes=2,
                    cores=4,
                    default=True,
                    max_time_s=7200,
                    price_per_core_hour=0.04,
                )
            ],
        ),
        ClusterConfig(
            name="beta",
            kind="fake",
            partitions=[
                PartitionConfig(
                    name="cheap",
                    nodes=1,
                    cores=4,
                    default=True,
                    speed=0.5,
                    price_per_core_hour=0.01,
                )
            ],
        ),
    ]


def embedded_here() -> ClusterConfig:
    """``here``: this machine's embedded cluster, one node of 2 cores and 4 GiB."""
    return ClusterConfig(
        name="here",
        kind="embedded",
        partitions=[
            PartitionConfig(
                name="cpu",
                nodes=1,
                cores=2,
                mem_bytes=4 * 2**30,
                default=True,
                price_per_core_hour=0.04,
            )
        ],
    )
