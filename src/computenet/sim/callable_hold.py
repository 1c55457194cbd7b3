"""Does callable scale hold? Ask it during a trace replay, then find out.

A trace is replayed on one machine under its queue policy (EASY by
default). At random times the replay stops, and the queue as it stands
(running jobs with their requested ends, pending jobs in order) becomes a
snapshot, exactly what a live cluster reports. ``network.capacity``
answers, for each shape and horizon, the largest job that would start
within the horizon. That job is then injected at the tail of the queue, and
the replay continues from that moment with the trace's real run times and
later arrivals until the injected job starts: the answer held if it started
within the horizon. The same run also injects one node more, to see whether
the answer was tight (a larger job would have missed) rather than merely
cautious.

The machine is modelled as 1-CPU nodes (traces record processors, not
nodes), so a shape here is CPUs and a time limit; the time limit matters,
since under EASY a short job may backfill where a long one may not.
Answers of zero (nothing of the shape starts within the horizon) are
counted apart: they hold trivially.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from computenet.model import ClusterInfo, NodeSnapshot, NodeType, PartitionInfo, Snapshot
from computenet.model import SnapshotJob as SJ
from computenet.network import ClusterView
from computenet.network.capacity import Shape, callable_scale
from computenet.scheduling import make_scheduler
from computenet.scheduling.engine import EngineJob
from computenet.sim.errors import SimError

PARTITION = "batch"
_PROBE = "probe"


@dataclass(frozen=True)
class Probe:
    time: float
    shape: str
    horizon_s: float
    nodes: int  # the answer (CPUs, on 1-CPU nodes)
    start: float | None  # when the injected job really started (None: not within the check)
    held: bool
    tight: bool | None  # one more would have missed the horizon (None: answer was the machine)


@dataclass
class _Running:
    procs: int
    start: float
    estimate_s: float
    end: float  # real end


@dataclass
class _State:
    now: float
    running: dict[int, _Running]
    pending: list[tuple[int, EngineJob]]  # queue order
    next_arrival: int  # index into the trace of the next job to arrive


def probe_trace(
    jobs: Sequence[EngineJob],
    capacity: int,
    shapes: Sequence[Shape],
    horizons: Sequence[float],
    *,
    probes: int = 100,
    seed: int = 0,
    policy: str = "easy",
    warmup: float = 0.05,
    naive: bool = False,
    at: Sequence[float] | None = None,
) -> list[Probe]:
    """Probe the replay of ``jobs`` on ``capacity`` processors at ``probes``
    random times (after the first ``warmup`` of the trace's span, and a
    longest horizon before its last arrival). ``naive`` answers with the
    baseline instead: free CPUs plus those of running jobs due to end
    within the horizon, ignoring the queue. ``at`` gives the times instead."""
    if not jobs:
        raise SimError("the trace has no jobs")
    if policy not in ("fcfs", "easy"):
        raise SimError(f"policy {policy!r}: the check covers fcfs and easy")
    if at is not None:
        times = sorted(at)
    else:
        first, last = jobs[0].submit, jobs[-1].submit
        span = last - first - max(horizons, default=0.0)
        if span <= 0:
            raise SimError("the trace is shorter than the longest horizon")
        rng = random.Random(seed)  # nosec B311
        times = sorted(first + span * rng.uniform(warmup, 1.0) for _ in range(probes))
    info = ClusterInfo(
        "sim",
        "fake",
        (PartitionInfo(PARTITION, NodeType(cores=1, mem_bytes=0), capacity, default=True),),
        scheduler=policy,
    )
    out: list[Probe] = []
    for state in _states(jobs, capacity, policy, times):
        view = ClusterView(info, _snapshot(state, capacity))
        for shape in shapes:
            if naive:
                answers = [(h, _naive(state, capacity, h)) for h in horizons]
            else:
                rows = callable_scale(view, shape, horizons, state.now)
                answers = [(r.horizon_s, r.nodes) for r in rows]
            for h, nodes in answers:
                if not nodes:
                    out.append(Probe(state.now, shape.text, h, 0, None, True, None))
                    continue
                deadline = state.now + h
                start = _start_of(state, jobs, capacity, policy, nodes, shape, deadline)
                tight: bool | None = None
                if nodes < capacity:
                    more = _start_of(state, jobs, capacity, policy, nodes + 1, shape, deadline)
                    tight = more is None
                out.append(Probe(state.now, shape.text, h, nodes, start, start is not None, tight))
    return out


def _naive(state: _State, capacity: int, horizon_s: float) -> int:
    """The baseline: CPUs free now plus those of running jobs due to end
    (by their requests) within the horizon, as if nobody were queued."""
    deadline = state.now + horizon_s
    used = sum(r.procs for r in state.running.values())
    ending = sum(r.procs for r in state.running.values() if r.start + r.estimate_s <= deadline)
    return min(capacity, capacity - used + ending)


def _states(
    jobs: Sequence[EngineJob], capacity: int, policy: str, times: Sequence[float]
) -> list[_State]:
    """The queue at each of ``times`` (sorted), replaying with real run times."""
    scheduler = make_scheduler(policy, capacity)
    running: dict[int, _Running] = {}
    waiting: dict[int, EngineJob] = {}
    ends: list[tuple[float, int]] = []
    states: list[_State] = []
    index = 0
    inf = float("inf")
    for t in times:
        while True:
            next_end = ends[0][0] if ends else inf
            arrival = jobs[index].submit if index < len(jobs) else inf
            now = min(next_end, arrival)
            if now > t:
                break
            while ends and ends[0][0] <= now:
                key = heapq.heappop(ends)[1]
                scheduler.finish(key, now)
                del running[key]
            while index < len(jobs) and jobs[index].submit <= now:
                job = jobs[index]
                waiting[index] = job
                scheduler.submit(index, job.procs, job.estimate_s, now)
                index += 1
            for started in scheduler.schedule(now):
                number = cast(int, started)
                job = waiting.pop(number)
                end = now + job.runtime_s
                running[number] = _Running(job.procs, now, job.estimate_s, end)
                heapq.heappush(ends, (end, number))
        states.append(
            _State(
                t,
                {k: _Running(r.procs, r.start, r.estimate_s, r.end) for k, r in running.items()},
                list(waiting.items()),
                index,
            )
        )
    return states


def _snapshot(state: _State, capacity: int) -> Snapshot:
    used = sum(r.procs for r in state.running.values())
    nodes = tuple(
        NodeSnapshot(f"n{i}", PARTITION, 1, 1 if i < used else 0) for i in range(capacity)
    )
    running = tuple(
        SJ(str(k), PARTITION, r.procs, r.procs, max(1, round(r.estimate_s)), r.start, r.start)
        for k, r in state.running.items()
    )
    pending = tuple(
        SJ(str(k), PARTITION, j.procs, j.procs, max(1, round(j.estimate_s)), j.submit)
        for k, j in state.pending
    )
    return Snapshot(state.now, nodes, running, pending)


def _start_of(
    state: _State,
    jobs: Sequence[EngineJob],
    capacity: int,
    policy: str,
    procs: int,
    shape: Shape,
    deadline: float,
) -> float | None:
    """When a job of ``procs`` injected at ``state.now`` starts, continuing
    the replay; None if not by ``deadline``."""
    scheduler = make_scheduler(policy, capacity)
    ends: list[tuple[float, int]] = []
    for key, r in state.running.items():
        scheduler.add_running(key, r.procs, r.start + r.estimate_s)
        ends.append((r.end, key))
    heapq.heapify(ends)
    now = state.now
    for key, job in state.pending:
        scheduler.submit(key, job.procs, job.estimate_s, job.submit)
    scheduler.submit(_PROBE, procs, float(shape.time_limit_s), now)
    waiting = {key: job for key, job in state.pending}
    index = state.next_arrival
    inf = float("inf")
    while now <= deadline:
        for started in scheduler.schedule(now):
            if started == _PROBE:
                return now
            number = cast(int, started)
            job = waiting.pop(number)
            heapq.heappush(ends, (now + job.runtime_s, number))
        next_end = ends[0][0] if ends else inf
        arrival = jobs[index].submit if index < len(jobs) else inf
        now = min(next_end, arrival)
        if now == inf:
            return None
        while ends and ends[0][0] <= now:
            scheduler.finish(heapq.heappop(ends)[1], now)
        while index < len(jobs) and jobs[index].submit <= now:
            job = jobs[index]
            waiting[index] = job
            scheduler.submit(index, job.procs, job.estimate_s, now)
            index += 1
    return None


@dataclass(frozen=True)
class HoldSummary:
    horizon_s: float
    probes: int  # answers of more than zero
    held: int
    tight: int  # of those with a larger job possible: how many a larger job would miss
    tight_of: int
    zero: int  # answers of zero

    @property
    def fraction(self) -> float | None:
        return self.held / self.probes if self.probes else None


def summarise(probes: Sequence[Probe]) -> list[HoldSummary]:
    out = []
    for h in sorted({p.horizon_s for p in probes}):
        mine = [p for p in probes if p.horizon_s == h]
        real = [p for p in mine if p.nodes > 0]
        tights = [p for p in real if p.tight is not None]
        out.append(
            HoldSummary(
                h,
                len(real),
                sum(p.held for p in real),
                sum(bool(p.tight) for p in tights),
                len(tights),
                len(mine) - len(real),
            )
        )
    return out
