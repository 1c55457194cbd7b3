"""Start-time models over the simulator's live queues (``StartModel``).

The broker asks every candidate cluster "when would this job start?". The
live system answers by replaying a snapshot through the planner; the
simulator keeps each cluster's queue as it goes and answers from it, without
building a snapshot per decision:

- ``PlannerStart`` hands the live queue to ``scheduling.planner`` (exact under
  the estimates, the same code as live; cost grows with the queue length).
- ``FastStart`` is exact when the queue is empty or the job can backfill now
  (EASY's rule against the head's reservation), and otherwise a fluid
  estimate: the time by which the work ahead (running remainder plus queued
  processor-seconds) would drain at full capacity, but never before enough
  processors are free. O(running) per call, with O(1) running sums.
"""

from __future__ import annotations

from bisect import insort
from typing import TYPE_CHECKING

from computenet.scheduling import QueuedJob, predict_start

if TYPE_CHECKING:
    from computenet.sim.network import SimCluster

_TARGET = -1


class PlannerStart:
    """The planner on the live queue, after two exact short cuts: an empty
    queue (the job is the head: it starts when enough processors are free)
    and, under EASY, a job that backfills now without delaying the head.
    Both give what the planner would; they only skip building its input."""

    def __init__(self, cluster: SimCluster) -> None:
        self.cluster = cluster

    def predict_start(self, partition: str, cpus: int, estimate_s: float, now: float) -> float:
        c = self.cluster
        if cpus > c.capacity:
            return float("inf")
        free = c.capacity - c.busy
        estimate_s /= c.speed
        if not c.pending:
            return now if cpus <= free else _free_by(c.ends, cpus - free, now)
        if c.queue_policy == "easy" and cpus <= free and _backfills(c, cpus, estimate_s, now):
            return now
        job = QueuedJob(_TARGET, cpus, estimate_s, now)
        return predict_start(
            c.queue_policy,
            list(c.pending.values()),
            list(c.running.values()),
            c.capacity,
            now,
            job,
        )


class FastStart:
    def __init__(self, cluster: SimCluster) -> None:
        self.cluster = cluster

    def predict_start(self, partition: str, cpus: int, estimate_s: float, now: float) -> float:
        c = self.cluster
        if cpus > c.capacity:
            return float("inf")
        free = c.capacity - c.busy
        estimate_s /= c.speed
        ends = c.ends
        if not c.pending:
            if cpus <= free:
                return now
            return _free_by(ends, cpus - free, now)
        if cpus <= free and _backfills(c, cpus, estimate_s, now):
            return now  # EASY backfills it now without delaying the head
        work = c.busy_end_work - now * c.busy + c.pending_work
        return max(now + work / c.capacity, _free_by(ends, cpus - free, now))


def _backfills(c: SimCluster, cpus: int, estimate_s: float, now: float) -> bool:
    """EASY's backfill test for a job appended to a blocked queue (``cpus``
    already known to fit in the free processors): it ends by the head's
    shadow time, or it fits in the processors the head leaves spare then."""
    free = c.capacity - c.busy
    need = next(iter(c.pending.values())).procs - free
    if need <= 0:
        return True  # cannot happen after a pass: the head would have started
    shadow = _free_by(c.ends, need, now)
    # the scheduler's walk: every job ending at the shadow time frees its CPUs
    extra = free + sum(procs for end, procs in c.ends if end <= shadow) - (need + free)
    return now + estimate_s <= shadow or cpus <= extra


def _free_by(ends: list[tuple[float, int]], need: int, now: float) -> float:
    """Earliest expected end by which ``need`` more processors are free."""
    if need <= 0:
        return now
    for end, procs in ends:
        need -= procs
        if need <= 0:
            return max(end, now)
    return float("inf")


def add_end(ends: list[tuple[float, int]], end: float, procs: int) -> None:
    insort(ends, (end, procs))


__all__ = ["FastStart", "PlannerStart", "add_end"]
