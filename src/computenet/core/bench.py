"""Benchmark runs: HPL and STREAM as ordinary catalogue jobs, settled into
``bench_runs`` once they end.

``cnet bench run hpl|stream`` submits the catalogue application of that name
through the path every catalogue run takes (``api/routes/bench.py``) and
records a ``submitted`` row here. ``settle`` turns a run whose job has ended
into ``completed`` (its figure from ``app_figures``, where it ran, the node
type and the allocation's derived peak) or ``failed`` (the job's end state,
or the figure reader's note, as ``error``; never a value). Reading the runs
or the capacity settles first, so nothing else has to watch them.

The allocation's peak is its physical cores (CPUs / threads per core) x
clock x FLOPs per cycle, plus its GPUs' table peak; on an embedded cluster
never more than the host's, which every virtual node shares.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from computenet.clusters.embedded.host_cpu import host_cpu
from computenet.errors import NotFoundError, SpecError
from computenet.model import ClusterInfo, JobState, NodeType
from computenet.network.bench_speed import BenchSample, BenchSpeed, bench_speeds
from computenet.network.peak import GPU_FP64_TFLOPS
from computenet.store import app_figures
from computenet.store.db import Store
from computenet.store.tables import JobRow
from computenet.store.tables_bench import BenchRunRow

#: benchmark -> the figure's unit (the catalogue application has the same name)
BENCHMARKS = {"hpl": "GFLOPS", "stream": "GB/s"}
SUBMITTED, COMPLETED, FAILED = "submitted", "completed", "failed"
#: completed runs the broker's speeds are taken from (newest first)
SPEED_RUNS = 500


def check_benchmark(name: str) -> str:
    if name not in BENCHMARKS:
        raise SpecError(f"unknown benchmark {name!r} (known: {', '.join(BENCHMARKS)})")
    return name


def check_cluster(name: str | None, infos: Sequence[ClusterInfo]) -> None:
    if name is not None and name not in {i.name for i in infos}:
        known = ", ".join(sorted(i.name for i in infos)) or "none"
        raise NotFoundError(f"no cluster {name!r} (clusters: {known})")


def record(
    s: Session, benchmark: str, job_id: int, owner: str, cluster: str | None, now: float
) -> BenchRunRow:
    row = BenchRunRow(
        benchmark=benchmark,
        job_id=job_id,
        owner=owner,
        requested_cluster=cluster,
        state=SUBMITTED,
        submitted_at=now,
        unit=BENCHMARKS[benchmark],
    )
    s.add(row)
    s.flush()
    return row


def allocation_peak(info: ClusterInfo, nt: NodeType, cpus: int, gpus: int) -> float | None:
    """Derived peak GFLOPS of ``cpus`` CPUs and ``gpus`` GPUs of node type ``nt``."""
    gflops: float | None = None
    if nt.clock_ghz and nt.flops_per_cycle:
        cores = cpus / max(1, nt.threads_per_core)
        gflops = cores * nt.clock_ghz * nt.flops_per_cycle
        if info.kind == "embedded":
            host = host_cpu()
            if host.clock_ghz:
                gflops = min(gflops, host.cores * host.clock_ghz * host.flops_per_cycle)
    if gpus and nt.gpu_model and nt.gpu_model.lower() in GPU_FP64_TFLOPS:
        gflops = (gflops or 0.0) + gpus * GPU_FP64_TFLOPS[nt.gpu_model.lower()] * 1000.0
    return gflops


def settle(s: Session, infos: Sequence[ClusterInfo], now: float) -> int:
    """Settle every submitted run whose job has ended; how many were settled."""
    by_name = {i.name: i for i in infos}
    done = 0
    for row in s.scalars(select(BenchRunRow).where(BenchRunRow.state == SUBMITTED)):
        job = s.get(JobRow, row.job_id)
        if job is None:
            _fail(row, "its job is gone", now)
            done += 1
            continue
        state = JobState(job.state)
        if not state.terminal:
            continue
        row.cluster, row.partition = job.cluster, job.partition
        if state is not JobState.COMPLETED:
            why = f": {job.reason}" if job.reason else ""
            _fail(row, f"job {job.id} ended {state.value}{why}", job.end_time or now)
            done += 1
            continue
        figures = app_figures.for_job(s, job.id)
        if not figures:
            continue  # the controller reads the figure right after the end
        fig = figures[-1]
        row.cluster, row.partition = fig.cluster, fig.partition
        row.nodes, row.cpus = fig.nodes, fig.cpus
        row.finished_at = job.end_time or now
        info = by_name.get(fig.cluster)
        part = info.partition(fig.partition) if info is not None else None
        if part is not None and info is not None:
            nt = part.node_type
            row.node_type = json.dumps(_node_type(nt), sort_keys=True)
            row.peak_gflops = allocation_peak(info, nt, fig.cpus, fig.gpus)
        if fig.value is None or fig.value <= 0:
            _fail(row, fig.note or "the output held no figure", row.finished_at)
        else:
            row.value = fig.value
            row.state = COMPLETED
        done += 1
    return done


def _fail(row: BenchRunRow, why: str, at: float) -> None:
    row.state = FAILED
    row.value = None
    row.error = why
    row.finished_at = at


def _node_type(nt: NodeType) -> dict[str, Any]:
    return {
        "cores": nt.cores,
        "threads_per_core": nt.threads_per_core,
        "mem_bytes": nt.mem_bytes,
        "gpus": nt.gpus,
        "gpu_model": nt.gpu_model,
        "clock_ghz": nt.clock_ghz,
        "flops_per_cycle": nt.flops_per_cycle,
    }


def to_dict(row: BenchRunRow) -> dict[str, Any]:
    efficiency = None
    if row.benchmark == "hpl" and row.value is not None and row.peak_gflops:
        efficiency = row.value / row.peak_gflops
    when = row.finished_at or row.submitted_at
    from datetime import UTC, datetime

    return {
        "id": row.id,
        "benchmark": row.benchmark,
        "job_id": row.job_id,
        "owner": row.owner,
        "state": row.state,
        "requested_cluster": row.requested_cluster,
        "cluster": row.cluster,
        "partition": row.partition,
        "submitted_at": row.submitted_at,
        "finished_at": row.finished_at,
        "date": datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%d %H:%M"),
        "node_type": json.loads(row.node_type) if row.node_type else None,
        "nodes": row.nodes,
        "cpus": row.cpus,
        "value": row.value,
        "unit": row.unit,
        "figure_text": "failed" if row.value is None else f"{row.value:.4g} {row.unit}",
        "peak_gflops": row.peak_gflops,
        "efficiency": efficiency,
        "error": row.error,
    }


def runs(s: Session, limit: int = 100) -> list[dict[str, Any]]:
    rows = s.scalars(select(BenchRunRow).order_by(BenchRunRow.id.desc()).limit(limit))
    return [to_dict(r) for r in rows]


def latest(s: Session) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Per (cluster, partition) and benchmark: the newest completed run and,
    when a run failed after it, that failure too (shown as failed, never
    hidden behind the older figure)."""
    done: dict[tuple[str, str, str], dict[str, Any]] = {}
    failed: dict[tuple[str, str, str], dict[str, Any]] = {}
    stmt = (
        select(BenchRunRow)
        .where(BenchRunRow.state != SUBMITTED, BenchRunRow.cluster.is_not(None))
        .order_by(BenchRunRow.finished_at, BenchRunRow.id)
    )
    for row in s.scalars(stmt):
        key = (row.cluster or "", row.partition or "", row.benchmark)
        if row.state == COMPLETED:
            done[key] = to_dict(row)
            failed.pop(key, None)
        else:
            failed[key] = to_dict(row)
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for key in sorted({*done, *failed}):
        for table in (done, failed):
            if key in table:
                out.setdefault((key[0], key[1]), []).append(table[key])
    return out


def broker_speeds(
    store: Store, infos: Sequence[ClusterInfo], now: float
) -> dict[tuple[str, str], BenchSpeed]:
    """Settle ended runs, then each partition's benchmark speed for the broker."""
    configured = {(i.name, p.name): p.node_type.speed for i in infos for p in i.partitions}
    with store.session() as s:
        settle(s, infos, now)
        stmt = (
            select(BenchRunRow)
            .where(BenchRunRow.state == COMPLETED)
            .order_by(BenchRunRow.finished_at.desc(), BenchRunRow.id.desc())
            .limit(SPEED_RUNS)
        )
        rows = list(s.scalars(stmt))
    samples = [
        BenchSample(
            r.cluster or "", r.partition or "", r.benchmark, r.value or 0.0, r.unit, r.cpus or 0
        )
        for r in reversed(rows)
    ]
    return bench_speeds(samples, configured)
