"""What a network replay reports: per centre, per pool and in total."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from computenet.network.predictions import ErrorStats, error_stats
from computenet.sim.network_trace import Centre
from computenet.sim.pools import PoolResult

if TYPE_CHECKING:
    from computenet.sim.network import NetworkConfig, SimCluster

BSLD_TAU_S = 10.0


@dataclass(frozen=True)
class ClusterResult:
    name: str
    capacity: int
    jobs: int
    moved_in: int
    mean_wait_s: float
    mean_bsld: float
    utilization: float
    cost: float


@dataclass(frozen=True)
class ScheduledJob:
    job_id: int
    submit: float
    start: float
    end: float
    procs: int
    cluster: str


@dataclass(frozen=True)
class NetworkResult:
    policy: str
    jobs: int
    mean_wait_s: float
    mean_bsld: float
    utilization: float
    makespan_s: float
    wall_s: float
    moved_fraction: float
    cost: float
    clusters: tuple[ClusterResult, ...]
    predictions: ErrorStats | None = None  # broker start predictions vs actual
    schedule: tuple[ScheduledJob, ...] = field(default=(), repr=False)
    pools: tuple[PoolResult, ...] = ()

    @property
    def jobs_per_s(self) -> float:
        return self.jobs / self.wall_s if self.wall_s > 0 else 0.0


def network_result(
    config: NetworkConfig,
    clusters: list[SimCluster],
    centres: Sequence[Centre],
    submit: list[float],
    procs: list[int],
    start: list[float],
    end: list[float],
    home: list[int],
    where: list[int],
    predicted: list[float | None],
    job_ids: list[int],
    wall: float,
) -> NetworkResult:
    n = len(submit)
    k = len(clusters)
    makespan = (max(end) - min(submit)) if n else 0.0
    waits = [0.0] * k
    bslds = [0.0] * k
    counts = [0] * k
    moved_in = [0] * k
    area = [0.0] * k
    pool_wait = pool_bsld = 0.0
    pool_jobs = 0
    for key in range(n):
        ci = where[key]
        run = end[key] - start[key]
        wait = start[key] - submit[key]
        bsld = max(1.0, (wait + run) / max(run, BSLD_TAU_S))
        if ci >= k:  # a pool's job: counted in the totals only
            pool_wait += wait
            pool_bsld += bsld
            pool_jobs += 1
            continue
        waits[ci] += wait
        bslds[ci] += bsld
        counts[ci] += 1
        area[ci] += procs[key] * run
        if ci != home[key]:
            moved_in[ci] += 1
    per = tuple(
        ClusterResult(
            name=c.name,
            capacity=c.capacity,
            jobs=counts[i],
            moved_in=moved_in[i],
            mean_wait_s=waits[i] / counts[i] if counts[i] else 0.0,
            mean_bsld=bslds[i] / counts[i] if counts[i] else 0.0,
            utilization=area[i] / (c.capacity * makespan) if makespan > 0 else 0.0,
            cost=c.price * area[i] / 3600.0,
        )
        for i, c in enumerate(clusters)
    )
    pairs = [(p, start[key]) for key, p in enumerate(predicted) if p is not None]
    schedule: tuple[ScheduledJob, ...] = ()
    if config.record_schedule:
        schedule = tuple(
            ScheduledJob(
                job_ids[key],
                submit[key],
                start[key],
                end[key],
                procs[key],
                clusters[where[key]].name if where[key] < k else f"{clusters[home[key]].name}-pool",
            )
            for key in sorted(range(n), key=lambda x: (start[x], x))
        )
    total_cap = sum(c.capacity for c in clusters)
    return NetworkResult(
        policy=config.policy,
        jobs=n,
        mean_wait_s=(sum(waits) + pool_wait) / n if n else 0.0,
        mean_bsld=(sum(bslds) + pool_bsld) / n if n else 0.0,
        utilization=sum(area) / (total_cap * makespan) if makespan > 0 else 0.0,
        makespan_s=makespan,
        wall_s=wall,
        moved_fraction=(sum(moved_in) + pool_jobs) / n if n else 0.0,
        cost=sum(r.cost for r in per),
        clusters=per,
        predictions=error_stats([p for p, _ in pairs], [a for _, a in pairs]),
        schedule=schedule,
    )
