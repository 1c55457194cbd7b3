"""The planner: when would a job start on a cluster if it were queued now?

``predict_start`` is what the broker calls for every candidate cluster. It
loads the cluster's running jobs and queue into the same scheduler the
cluster runs, appends the job, and plays the queue forward on a virtual
clock taking every estimate as the true runtime, until the job starts.

Contract (stable):

    predict_start(policy_name, pending, running, capacity, now, job) -> float

- ``policy_name``: one of ``POLICY_NAMES`` (``fcfs``, ``easy``,
  ``conservative``, ``easy-sjf``); ``ValueError`` otherwise.
- ``pending``: the queue in priority order; ``running``: jobs with their
  expected ends (a job past its end is taken to end just after ``now``).
- returns the predicted start, ``>= now``; ``inf`` when the job is wider
  than ``capacity`` (it can never start there).

Cost: O(n log n) heap work plus the policy's own passes: FCFS is linear,
EASY re-examines the backfill candidates after each completion (stopping
as soon as no processor is free), conservative places each queued job in a
profile (O(n * steps)). ``benchmarks/sim_planner.py`` measures it.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Sequence

from computenet.scheduling.base import QueuedJob, RunningJob, make_scheduler
from computenet.scheduling.conservative_backfill import ConservativeBackfillScheduler
from computenet.scheduling.policies import expected_end

_INF = float("inf")


class _Target:
    """The key of the job being predicted: equal to nothing in the queue."""

    __slots__ = ()


def predict_start(
    policy_name: str,
    pending: Sequence[QueuedJob],
    running: Sequence[RunningJob],
    capacity: int,
    now: float,
    job: QueuedJob,
) -> float:
    """Predicted start of ``job`` if appended to the queue at ``now``."""
    scheduler = make_scheduler(policy_name, capacity)
    if job.procs > capacity:
        return _INF
    ends: list[tuple[float, int, Hashable]] = []
    for order, run in enumerate(running):
        end = expected_end(run, now)
        scheduler.add_running(run.id, run.procs, end)
        ends.append((end, order, run.id))
    heapq.heapify(ends)
    estimates: dict[Hashable, float] = {}
    for queued in pending:
        estimates[queued.id] = queued.estimate_s
        scheduler.submit(queued.id, queued.procs, queued.estimate_s, now)
    target = _Target()
    scheduler.submit(target, job.procs, job.estimate_s, now)
    if isinstance(scheduler, ConservativeBackfillScheduler):
        # With exact estimates nothing ends early, so no reservation ever
        # moves: the reservation made on arrival is the start.
        return scheduler.reservation(target)
    order = len(running)
    clock = now
    heappush = heapq.heappush
    heappop = heapq.heappop
    schedule = scheduler.schedule
    finish = scheduler.finish
    while True:
        for key in schedule(clock):
            if key is target:
                return clock
            order += 1
            heappush(ends, (clock + estimates[key], order, key))
        if not ends:
            return _INF  # the queue cannot drain: cannot happen while procs fit
        clock = ends[0][0]
        while ends and ends[0][0] <= clock:
            finish(heappop(ends)[2], clock)
