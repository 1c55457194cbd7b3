"""Network replay: K centres, each with its own users' trace, one broker.

Every job arrives at its trace time and is routed: by a baseline (``home``,
``round-robin``, ``random``, ``weighted-random``, ``load``) or by the
broker's ``network.place`` with a placement policy (``fastest``,
``cheapest``, ``balanced``, ``local-first``), the same code the live
controller calls. Each centre then runs its own queue policy (EASY by
default) through ``scheduling.make_scheduler``. ``pooled`` replays all jobs
on one machine with every processor: the bound a network aims at.

A job moved away from home may pay ``move_delay_s`` (staging) before it is
queued there; a centre with speed factor ``s`` runs a job in
``runtime * s_home / s``. Wider jobs than a centre never go there.

With ``pools`` each centre also has a pool of nodes that exist only while
needed (``sim.pools``); the broker weighs growing it against the other
centres (or, with ``remote=False``, against staying home alone).
"""

from __future__ import annotations

import heapq
import math
import random
import time
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import cast

from computenet.model import ClusterInfo, JobSpec, NodeType, PartitionInfo
from computenet.network import POLICIES, ClusterView, place
from computenet.scheduling import QueuedJob, RunningJob, make_scheduler
from computenet.sim.errors import SimError
from computenet.sim.network_result import (
    ClusterResult,
    NetworkResult,
    ScheduledJob,
    network_result,
)
from computenet.sim.network_start import FastStart, PlannerStart, add_end
from computenet.sim.network_trace import Centre
from computenet.sim.pools import PARTITION, PoolSettings, SimPools

BASELINES = ("home", "round-robin", "random", "weighted-random", "load")
ROUTING = (*BASELINES, *POLICIES)
ESTIMATORS = ("fast", "planner")


@dataclass(frozen=True)
class NetworkConfig:
    policy: str = "home"
    speeds: tuple[float, ...] | None = None  # per centre, default 1.0
    prices: tuple[float, ...] | None = None  # per core-hour, default 0.0
    move_delay_s: float = 0.0
    seed: int = 0
    queue_policy: str = "easy"
    estimator: str = "fast"  # the broker's start model: fast | planner
    record_schedule: bool = False
    pools: PoolSettings | None = None  # one elastic pool per centre
    remote: bool = True  # False: each centre alone (with its pool, if any)
    wait_threshold_s: float = 300.0  # local-first: home's wait that starts a burst
    hysteresis: float = 1.0  # local-first: pool nodes up keep working above this x threshold
    extra_capacity: tuple[int, ...] | None = None  # static processors added per centre


class SimCluster:
    """One centre's live queue: the scheduler plus what start models read."""

    def __init__(
        self, name: str, capacity: int, speed: float, price: float, queue_policy: str
    ) -> None:
        self.name = name
        self.capacity = capacity
        self.speed = speed
        self.price = price
        self.queue_policy = queue_policy
        self.scheduler = make_scheduler(queue_policy, capacity)
        self.pending: dict[int, QueuedJob] = {}  # priority (arrival) order
        self.running: dict[int, RunningJob] = {}  # expected ends
        self.ends: list[tuple[float, int]] = []  # sorted (expected end, procs)
        self.busy = 0
        self.pending_procs = 0
        self.pending_work = 0.0  # sum procs * estimate of the queue
        self.busy_end_work = 0.0  # sum procs * expected end of running jobs

    def submit(self, key: int, procs: int, estimate_s: float, now: float) -> None:
        self.pending[key] = QueuedJob(key, procs, estimate_s, now)
        self.pending_procs += procs
        self.pending_work += procs * estimate_s
        self.scheduler.submit(key, procs, estimate_s, now)

    def start(self, key: int, now: float) -> QueuedJob:
        q = self.pending.pop(key)
        end = now + q.estimate_s
        self.running[key] = RunningJob(key, q.procs, end)
        add_end(self.ends, end, q.procs)
        self.busy += q.procs
        self.pending_procs -= q.procs
        self.pending_work -= q.procs * q.estimate_s
        self.busy_end_work += q.procs * end
        return q

    def finish(self, key: int, now: float) -> None:
        r = self.running.pop(key)
        ends = self.ends
        del ends[bisect_left(ends, (r.end, r.procs))]
        self.busy -= r.procs
        self.busy_end_work -= r.procs * r.end
        self.scheduler.finish(key, now)

    def info(self) -> ClusterInfo:
        part = PartitionInfo(
            "batch",
            NodeType(cores=1, speed=self.speed),
            self.capacity,
            default=True,
            price_per_core_hour=self.price,
        )
        return ClusterInfo(self.name, "sim", (part,), scheduler=self.queue_policy)


def _per_centre(values: tuple[float, ...] | None, k: int, default: float, what: str) -> list[float]:
    if values is None:
        return [default] * k
    if len(values) != k:
        raise SimError(f"{what}: got {len(values)} values for {k} centres")
    return list(values)


def replay_network(centres: Sequence[Centre], config: NetworkConfig) -> NetworkResult:
    """Replay the centres' traces through one network; see the module doc."""
    if config.policy not in ROUTING:
        raise SimError(f"unknown policy {config.policy!r}; known: {', '.join(ROUTING)}")
    if config.estimator not in ESTIMATORS:
        raise SimError(f"unknown estimator {config.estimator!r}; known: fast, planner")
    wall0 = time.perf_counter()
    k = len(centres)
    speeds = _per_centre(config.speeds, k, 1.0, "speeds")
    prices = _per_centre(config.prices, k, 0.0, "prices")
    extra = _per_centre(
        tuple(float(x) for x in config.extra_capacity) if config.extra_capacity else None,
        k,
        0.0,
        "extra capacity",
    )
    clusters = [
        SimCluster(c.name, c.capacity + int(x), s, p, config.queue_policy)
        for c, s, p, x in zip(centres, speeds, prices, extra, strict=True)
    ]
    model = FastStart if config.estimator == "fast" else PlannerStart
    infos = [c.info() for c in clusters]
    # A move's delay is the broker's staging time: ``input_bytes`` of 1 byte per
    # second of delay over a link of 1 byte/s to every centre but home.
    move_bytes = math.ceil(config.move_delay_s)
    link = 1.0 if move_bytes > 0 else None
    views = [
        tuple(
            ClusterView(
                infos[i],
                None,
                home=(i == h),
                start_model=model(clusters[i]),
                bandwidth_bytes_per_s=None if i == h else link,
            )
            for i in range(k)
            if config.remote or i == h
        )
        for h in range(k)
    ]
    by_name = {c.name: i for i, c in enumerate(clusters)}
    if len(by_name) != k:
        raise SimError("centre names must be distinct")
    caps = [c.capacity for c in clusters]

    stream = sorted(((j.submit, h, n) for h, c in enumerate(centres) for n, j in enumerate(c.jobs)))
    n_jobs = len(stream)
    submit = [0.0] * n_jobs
    procs = [0] * n_jobs
    base_run = [0.0] * n_jobs  # run time at home
    base_est = [0.0] * n_jobs
    home = [0] * n_jobs
    where = [0] * n_jobs
    start = [0.0] * n_jobs
    end = [0.0] * n_jobs
    predicted: list[float | None] = [None] * n_jobs
    job_ids = [0] * n_jobs
    for key, (_, h, n) in enumerate(stream):
        j = centres[h].jobs[n]
        submit[key], procs[key], home[key], job_ids[key] = j.submit, j.procs, h, j.job_id
        base_run[key], base_est[key] = j.runtime_s, j.estimate_s

    def pool_start(key: int, now: float) -> float:
        start[key] = now
        stop = now + base_run[key]
        end[key] = stop
        heapq.heappush(ends, (stop, key))
        return stop

    pools = None
    if config.pools is not None:
        pools = SimPools(
            config.pools, [c.capacity for c in clusters], [c.name for c in clusters], pool_start
        )
        by_name.update({info.name: k + i for i, info in enumerate(pools.infos)})
    # bandit B311: a seeded simulation, not a secret
    rng = random.Random(config.seed)  # nosec B311
    policy = config.policy
    broker = policy in POLICIES
    rr = 0
    ends: list[tuple[float, int]] = []  # (actual end, key)
    delayed: list[tuple[float, int]] = []  # (queue time at the target, key)

    def run_scheduler(ci: int, now: float) -> None:
        c = clusters[ci]
        ratio_speed = c.speed
        for started in c.scheduler.schedule(now):
            key = cast(int, started)  # the keys this replay submitted
            c.start(key, now)
            start[key] = now
            stop = now + base_run[key] * speeds[home[key]] / ratio_speed
            end[key] = stop
            heapq.heappush(ends, (stop, key))

    def enqueue(key: int, ci: int, now: float) -> None:
        c = clusters[ci]
        c.submit(key, procs[key], base_est[key] * speeds[home[key]] / c.speed, now)

    def route(key: int, now: float) -> int:
        nonlocal rr
        h = home[key]
        width = procs[key]
        if policy == "home":
            return h
        eligible = [i for i in range(k) if caps[i] >= width]
        if policy == "round-robin":
            for _ in range(k):
                rr = (rr + 1) % k
                if caps[rr] >= width:
                    return rr
            return h
        if policy == "random":
            return rng.choice(eligible)
        if policy == "weighted-random":
            return rng.choices(eligible, weights=[caps[i] for i in eligible])[0]
        if policy == "load":
            return min(
                eligible,
                key=lambda i: ((clusters[i].busy + clusters[i].pending_procs) / caps[i], i != h, i),
            )
        limit = math.ceil(base_est[key] * speeds[h])  # seconds at speed 1
        spec = JobSpec(ntasks=width, time_limit_s=limit)
        if pools is None:
            decision = place(spec, views[h], now=now, policy=policy, input_bytes=move_bytes)
        else:
            decision = place(
                spec,
                (*views[h], pools.cluster_views[h]),
                now=now,
                policy=policy,
                input_bytes=move_bytes,
                pools={(pools.infos[h].name, PARTITION): pools.view(h)},
                caps=pools.caps(),
                wait_threshold_s=config.wait_threshold_s,
                hysteresis=config.hysteresis,
            )
        if decision.chosen is None:
            return h
        target = by_name[decision.chosen]
        for cand in decision.candidates:
            if cand.cluster == decision.chosen:
                predicted[key] = cand.predicted_start
        return target

    inf = float("inf")
    nxt = 0
    while True:
        t_arrival = stream[nxt][0] if nxt < n_jobs else inf
        t_end = ends[0][0] if ends else inf
        t_delayed = delayed[0][0] if delayed else inf
        t_pool = pools.next_time() if pools is not None else inf
        now = min(t_arrival, t_end, t_delayed, t_pool)
        if now == inf:
            break
        touched: set[int] = set()
        while ends and ends[0][0] <= now:
            key = heapq.heappop(ends)[1]
            if where[key] >= k:
                assert pools is not None
                pools.finish(where[key] - k, key, now)
                continue
            clusters[where[key]].finish(key, now)
            touched.add(where[key])
        if pools is not None:
            pools.advance(now)
        while delayed and delayed[0][0] <= now:
            key = heapq.heappop(delayed)[1]
            enqueue(key, where[key], now)
            touched.add(where[key])
        for ci in sorted(touched):
            run_scheduler(ci, now)
        while nxt < n_jobs and stream[nxt][0] <= now:
            key = nxt
            nxt += 1
            ci = route(key, now) if broker or policy != "home" else home[key]
            where[key] = ci
            if ci >= k:
                assert pools is not None
                pools.submit(ci - k, key, procs[key], now)
                continue
            if ci != home[key] and config.move_delay_s > 0:
                heapq.heappush(delayed, (now + config.move_delay_s, key))
                continue
            enqueue(key, ci, now)
            run_scheduler(ci, now)
    wall = time.perf_counter() - wall0
    result = network_result(
        config, clusters, centres, submit, procs, start, end, home, where, predicted, job_ids, wall
    )
    if pools is None:
        return result
    pool_results = pools.results(max(end) if end else 0.0)
    return replace(result, pools=pool_results, cost=result.cost + sum(r.cost for r in pool_results))


def pooled(centres: Sequence[Centre]) -> Centre:
    """All centres' jobs on one machine with every processor."""
    jobs = sorted((j for c in centres for j in c.jobs), key=lambda j: j.submit)
    return Centre("pooled", sum(c.capacity for c in centres), tuple(jobs))


__all__ = [
    "ClusterResult",
    "NetworkConfig",
    "NetworkResult",
    "ScheduledJob",
    "SimCluster",
    "pooled",
    "replay_network",
]
