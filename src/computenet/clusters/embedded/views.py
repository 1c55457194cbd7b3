"""How the cluster's records look from outside: statuses, usage, snapshots."""

from __future__ import annotations

from collections.abc import Iterable

from computenet.clusters.embedded.allocator import NodePool
from computenet.clusters.embedded.hostlist import compress_hostlist
from computenet.clusters.embedded.records import Job
from computenet.model import AttemptStatus, JobState, NodeSnapshot, Snapshot, SnapshotJob, Usage

UNLIMITED_S = 365 * 86400  # what "no time limit" counts as for backfill and snapshots


def status_of(job: Job, pending_reason: str) -> AttemptStatus:
    nodes = compress_hostlist([n.node for n in job.allocation.nodes]) if job.allocation else None
    return AttemptStatus(
        native_id=job.native_id,
        state=job.state,
        exit_code=job.exit_code,
        reason=pending_reason if job.state is JobState.QUEUED else job.reason,
        start_time=job.start_time,
        end_time=job.end_time,
        node_list=nodes,
    )


def usage_of(job: Job, now: float) -> Usage:
    alloc = job.allocation
    elapsed = 0.0
    if job.start_time is not None:
        elapsed = max(0.0, (job.end_time or now) - job.start_time)
    return Usage(
        native_id=job.native_id,
        elapsed_s=elapsed,
        cpus=alloc.cpus if alloc else job.procs,
        gpus=alloc.gpus if alloc else job.gpus,
        nodes=len(alloc.nodes) if alloc else (job.shape.nodes or 1),
        mem_bytes=alloc.mem_bytes if alloc else 0,
        cpu_time_s=job.cpu_time_s,
        max_rss_bytes=job.max_rss_bytes,
    )


def snapshot_of(pools: dict[str, NodePool], jobs: Iterable[Job], now: float) -> Snapshot:
    nodes = []
    for part_name, pool in pools.items():
        for n in pool.nodes:
            used = n.cpus - len(n.free_cpus)
            gpus_used = n.gpus - len(n.free_gpus)
            state = (
                "idle"
                if used == 0 and gpus_used == 0
                else ("allocated" if used == n.cpus else "mixed")
            )
            nodes.append(
                NodeSnapshot(
                    name=n.name,
                    partition=part_name,
                    cpus=n.cpus,
                    cpus_alloc=used,
                    gpus=n.gpus,
                    gpus_alloc=gpus_used,
                    mem_bytes=n.mem_bytes,
                    mem_alloc_bytes=n.mem_bytes - n.free_mem_bytes,
                    state=state,
                )
            )
    running, pending = [], []
    for job in sorted(jobs, key=lambda j: j.sort_key):
        limit_s = job.time_limit_s or UNLIMITED_S
        if job.state is JobState.RUNNING and job.allocation is not None:
            running.append(
                SnapshotJob(
                    native_id=job.native_id,
                    partition=job.partition,
                    cpus=job.allocation.cpus,
                    nodes=len(job.allocation.nodes),
                    time_limit_s=limit_s,
                    submit_time=job.submit_time,
                    start_time=job.start_time,
                    gpus=job.allocation.gpus,
                )
            )
        elif job.state is JobState.QUEUED:
            pending.append(
                SnapshotJob(
                    native_id=job.native_id,
                    partition=job.partition,
                    cpus=job.procs,
                    nodes=job.shape.nodes or 1,
                    time_limit_s=limit_s,
                    submit_time=job.submit_time,
                    gpus=job.gpus,
                )
            )
    return Snapshot(time=now, nodes=tuple(nodes), running=tuple(running), pending=tuple(pending))
