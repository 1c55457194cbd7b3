"""The collector: one sample of every cluster per interval.

Each cluster is asked in its own task with its own timeout, so a cluster that
hangs or answers garbage costs only its own sample (recorded as an error on
its status row). A cluster whose clock is ahead of ours has its sample time
clamped to ours and its skew recorded. Job samples are of our running
attempts: allocation from the adapter's ``usage``, live numbers from the
adapter's optional ``live_stats(native_ids)`` (for example ``sstat`` on
Slurm) or, for embedded clusters, from the job's process tree.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from computenet.clock import Clock
from computenet.model import Snapshot, Usage
from computenet.store.db import Store
from computenet.store.tables import AttemptRow
from computenet.store.tables_telemetry import (
    CollectorStatusRow,
    JobSampleRow,
    JobStatRow,
    NodeSampleRow,
    PartitionSampleRow,
)
from computenet.telemetry import procs
from computenet.telemetry.samples import (
    LiveStats,
    PreviousStat,
    check_snapshot,
    clamp_time,
    job_point,
    live_stats_from,
    node_rows,
    partition_rows,
)
from computenet.telemetry.settings import TelemetrySettings

if TYPE_CHECKING:
    from computenet.clusters.base import ClusterAdapter

log = logging.getLogger("computenet.telemetry")


@runtime_checkable
class LiveStatsSource(Protocol):
    """Optional adapter method: live numbers of running jobs (``sstat`` and the like).

    Returns per native id a mapping with any of ``cpu_time_s`` (cumulative),
    ``rss_bytes``, ``threads``, ``read_bytes``, ``write_bytes``, ``gpu_util``
    (0..1). Ids it cannot answer for are left out.
    """

    async def live_stats(self, native_ids: Sequence[str]) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class RunningAttempt:
    job_id: int
    attempt: int
    native_id: str


@dataclass
class ClusterResult:
    cluster: str
    ok: bool
    error: str | None = None
    time: float = 0.0
    skew_s: float = 0.0
    clamped: bool = False
    snapshot: Snapshot | None = None
    usage: dict[str, Usage] = field(default_factory=dict)
    live: dict[str, LiveStats] = field(default_factory=dict)


class Collector:
    def __init__(
        self,
        store: Store,
        adapters: Mapping[str, ClusterAdapter],
        clock: Clock,
        settings: TelemetrySettings,
        *,
        job_dirs: Callable[[str], Path | None] | None = None,
    ) -> None:
        self.store = store
        self.adapters = adapters
        self.clock = clock
        self.settings = settings
        self.job_dirs = job_dirs or (lambda _name: None)
        self.consecutive_errors: dict[str, int] = defaultdict(int)

    async def collect(self) -> list[ClusterResult]:
        """One collection of every cluster, written to the store."""
        now = self.clock.now()
        running = await asyncio.to_thread(self._running_attempts)
        tasks = [
            self._guarded(name, adapter, running.get(name, []), now)
            for name, adapter in self.adapters.items()
        ]
        results = list(await asyncio.gather(*tasks))
        await asyncio.to_thread(self.write, results, running, now)
        return results

    async def _guarded(
        self, name: str, adapter: ClusterAdapter, running: list[RunningAttempt], now: float
    ) -> ClusterResult:
        try:
            return await asyncio.wait_for(
                self._sample(name, adapter, running, now), self.settings.timeout_s
            )
        except TimeoutError:
            return ClusterResult(
                name, False, f"no answer within {self.settings.timeout_s:g} s", time=now
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a broken adapter must not stop the others
            return ClusterResult(name, False, f"{type(exc).__name__}: {exc}"[:500], time=now)

    async def _sample(
        self, name: str, adapter: ClusterAdapter, running: list[RunningAttempt], now: float
    ) -> ClusterResult:
        snap = check_snapshot(await adapter.snapshot())
        stamp = clamp_time(snap.time, now, self.settings.skew_tolerance_s)
        result = ClusterResult(
            name, True, time=stamp.time, skew_s=stamp.skew_s, clamped=stamp.clamped, snapshot=snap
        )
        ids = [r.native_id for r in running]
        if not ids:
            return result
        usage = await adapter.usage(ids)
        result.usage = {k: v for k, v in usage.items() if isinstance(v, Usage)}
        if isinstance(adapter, LiveStatsSource):
            raw = await adapter.live_stats(ids)
            for nid, data in raw.items():
                parsed = live_stats_from(data)
                if parsed is not None:
                    result.live[nid] = parsed
        elif self.settings.process_sampler:
            jobs_dir = self.job_dirs(name)
            if jobs_dir is not None:
                result.live = await asyncio.to_thread(procs.sample_jobs, jobs_dir, ids)
        return result

    def _running_attempts(self) -> dict[str, list[RunningAttempt]]:
        out: dict[str, list[RunningAttempt]] = defaultdict(list)
        with self.store.session() as s:
            for cluster, job_id, number, native in s.execute(
                select(
                    AttemptRow.cluster, AttemptRow.job_id, AttemptRow.number, AttemptRow.native_id
                ).where(AttemptRow.state == "RUNNING", AttemptRow.native_id.is_not(None))
            ):
                if native is not None:
                    out[cluster].append(RunningAttempt(job_id, number, native))
        return out

    # ----- writing ---------------------------------------------------------
    def write(
        self,
        results: list[ClusterResult],
        running: Mapping[str, list[RunningAttempt]],
        now: float,
    ) -> None:
        with self.store.session() as s:
            node_batch: list[dict[str, Any]] = []
            part_batch: list[dict[str, Any]] = []
            for r in results:
                if r.ok and r.snapshot is not None:
                    node_batch.extend(node_rows(r.cluster, r.snapshot, r.time))
                    part_batch.extend(partition_rows(r.cluster, r.snapshot, r.time))
            if node_batch:
                s.execute(insert(NodeSampleRow), node_batch)
            if part_batch:
                s.execute(insert(PartitionSampleRow), part_batch)
            self._write_jobs(s, results, running)
            self._write_status(s, results, now)

    def _write_jobs(
        self, s: Session, results: list[ClusterResult], running: Mapping[str, list[RunningAttempt]]
    ) -> None:
        cfg = self.settings
        open_stats = {
            row.job_id: row
            for row in s.scalars(select(JobStatRow).where(JobStatRow.ended.is_(False)))
        }
        samples: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        inserts: list[dict[str, Any]] = []
        seen: set[int] = set()
        answered: set[str] = set()
        for r in results:
            if not r.ok:
                continue
            answered.add(r.cluster)
            for att in running.get(r.cluster, []):
                usage = r.usage.get(att.native_id)
                live = r.live.get(att.native_id)
                cpus = usage.cpus if usage else 0
                gpus = usage.gpus if usage else 0
                mem_limit = usage.mem_bytes if usage and usage.mem_bytes else None
                if live is None and usage is not None and usage.cpu_time_s is not None:
                    live = LiveStats(cpu_time_s=usage.cpu_time_s, rss_bytes=usage.max_rss_bytes)
                row = open_stats.get(att.job_id)
                prev = None
                if row is not None and row.attempt == att.attempt:
                    prev = PreviousStat(
                        row.last_time,
                        row.cpu_time_s,
                        row.low_cpu_since,
                        row.gpu_idle_since,
                        row.peak_rss_bytes,
                        row.peak_threads,
                        row.samples,
                        row.first_time,
                    )
                point = job_point(
                    prev,
                    live,
                    time=r.time,
                    cpus=cpus,
                    gpus=gpus,
                    hung_fraction=cfg.hung_cpu_fraction,
                    gpu_idle_fraction=cfg.gpu_idle_fraction,
                )
                seen.add(att.job_id)
                samples.append(
                    {
                        "time": r.time,
                        "job_id": att.job_id,
                        "cluster": r.cluster,
                        "cpus": cpus,
                        "cpu_time_s": live.cpu_time_s if live else None,
                        "cpu_rate": point.cpu_rate,
                        "rss_bytes": live.rss_bytes if live else None,
                        "mem_limit_bytes": mem_limit,
                        "threads": live.threads if live else None,
                        "read_bytes": live.read_bytes if live else None,
                        "write_bytes": live.write_bytes if live else None,
                        "gpus": gpus,
                        "gpu_util": live.gpu_util if live else None,
                    }
                )
                stat = {
                    "job_id": att.job_id,
                    "attempt": att.attempt,
                    "cluster": r.cluster,
                    "native_id": att.native_id,
                    "last_time": r.time,
                    "cpus": cpus,
                    "gpus": gpus,
                    "cpu_time_s": live.cpu_time_s
                    if live and live.cpu_time_s is not None
                    else (prev.cpu_time_s if prev else None),
                    "last_cpu_rate": point.cpu_rate,
                    "last_rss_bytes": live.rss_bytes if live else None,
                    "peak_rss_bytes": _peak(
                        prev.peak_rss_bytes if prev else None, live.rss_bytes if live else None
                    ),
                    "peak_threads": _peak(
                        prev.peak_threads if prev else None, live.threads if live else None
                    ),
                    "mem_limit_bytes": mem_limit,
                    "low_cpu_since": point.low_cpu_since,
                    "gpu_idle_since": point.gpu_idle_since,
                    "samples": (prev.samples if prev else 0) + 1,
                    "first_time": prev.first_time if prev else r.time,
                    "ended": False,
                }
                (updates if row is not None else inserts).append(stat)
        if samples:
            s.execute(insert(JobSampleRow), samples)
        if inserts:
            s.execute(insert(JobStatRow), inserts)
        if updates:
            s.execute(update(JobStatRow), updates)
        # jobs that stopped running since the last sample (on clusters that answered)
        ended = [
            {"job_id": job_id, "ended": True}
            for job_id, row in open_stats.items()
            if job_id not in seen and row.cluster in answered
        ]
        if ended:
            s.execute(update(JobStatRow), ended)

    def _write_status(self, s: Session, results: list[ClusterResult], now: float) -> None:
        for r in results:
            row = s.get(CollectorStatusRow, r.cluster)
            if row is None:
                row = CollectorStatusRow(
                    cluster=r.cluster,
                    errors=0,
                    skew_s=0.0,
                    cpus=0,
                    cpus_alloc=0,
                    gpus=0,
                    gpus_alloc=0,
                    nodes_down=0,
                )
                s.add(row)
            row.updated_at = now
            if not r.ok:
                self.consecutive_errors[r.cluster] += 1
                row.errors = (row.errors or 0) + 1
                row.last_error = r.error
                log.warning("telemetry: cluster %s: %s", r.cluster, r.error)
                continue
            self.consecutive_errors[r.cluster] = 0
            row.last_ok, row.last_error, row.skew_s = now, None, r.skew_s
            assert r.snapshot is not None
            parts = partition_rows(r.cluster, r.snapshot, r.time)
            row.cpus = sum(p["cpus"] for p in parts)
            row.cpus_alloc = sum(p["cpus_alloc"] for p in parts)
            row.gpus = sum(p["gpus"] for p in parts)
            row.gpus_alloc = sum(p["gpus_alloc"] for p in parts)
            row.nodes_down = sum(p["nodes_down"] for p in parts)


def _peak(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)
