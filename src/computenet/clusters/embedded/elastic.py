"""Nodes that join and leave a partition while the cluster runs (a pool's).

A pool's partition starts with no virtual nodes (``admission.build_pools``);
the local pool provider attaches each node once its boot delay has passed
and detaches it when the pool releases it. A node is detached only when
nothing runs on it, under the cluster's lock, so a job that starts at the
same moment keeps its node.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from computenet.clusters.embedded.allocator import VirtualNode
from computenet.errors import ClusterError, ConflictError
from computenet.model import JobState

if TYPE_CHECKING:
    from computenet.clusters.embedded.cluster import EmbeddedCluster


def attach(cluster: EmbeddedCluster, partition: str, name: str) -> None:
    """Add the virtual node ``name`` to ``partition`` (idempotent)."""
    part = next((p for p in cluster._config.partitions if p.name == partition), None)
    if part is None or partition not in cluster._pools:
        raise ClusterError(f"cluster {cluster.name} has no partition {partition!r}")
    with cluster._lock:
        pool = cluster._pools[partition]
        if any(n.name == name for n in pool.nodes):
            return
        if len(pool.nodes) >= part.nodes:
            raise ConflictError(
                f"partition {partition} of {cluster.name} already has its {part.nodes} node(s)"
            )
        gpus = pool.nodes[0].gpus if pool.nodes else part.gpus
        index = len(pool.nodes)
        node = VirtualNode(
            name=name,
            index=index,
            cores=part.cores,
            threads_per_core=part.threads_per_core,
            mem_bytes=part.mem_bytes,
            gpus=gpus,
        )
        offset = sum(n.cpus for p in cluster._pools.values() for n in p.nodes)
        cluster._first_cpu[name] = offset
        pool.nodes.append(node)
        pool._by_name[name] = node
        # jobs still running there from before a restart keep their CPUs
        for job in cluster._jobs.values():
            if job.state is JobState.RUNNING and job.allocation is not None:
                for part_alloc in job.allocation.nodes:
                    if part_alloc.node == name:
                        node.free_cpus.difference_update(part_alloc.cpus)
                        node.free_gpus.difference_update(part_alloc.gpus)
                        node.free_mem_bytes -= part_alloc.mem_bytes
    cluster._dispatcher.wake()


def detach(cluster: EmbeddedCluster, name: str) -> bool:
    """Remove the node if nothing runs on it; False if it is busy. Unknown names: True."""
    with cluster._lock:
        for pool in cluster._pools.values():
            node = pool._by_name.get(name)
            if node is None:
                continue
            if not node.idle:
                return False
            pool.nodes.remove(node)
            del pool._by_name[name]
            for i, other in enumerate(pool.nodes):
                other.index = i
            cluster._first_cpu.pop(name, None)
            return True
    return True


def node_names(cluster: EmbeddedCluster, partition: str) -> list[str]:
    with cluster._lock:
        pool = cluster._pools.get(partition)
        return [n.name for n in pool.nodes] if pool is not None else []
