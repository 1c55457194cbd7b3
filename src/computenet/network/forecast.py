"""A queue forecast: replay a cluster's queue once, answer many start queries.

``scheduling.planner.predict_start`` replays the whole queue for every job
it is asked about. The broker asks about every candidate cluster for every
job, against the same snapshot, so it replays each snapshot's queue once
here and keeps, for every scheduling pass of the replay, what a job
appended at the tail of the queue would meet at that pass:

- FCFS: the tail starts at the first pass where everyone ahead has started
  and enough processors are free.
- EASY: jobs ahead of the tail come first in the pass, and the tail changes
  nothing ahead of it until it starts. So it starts at the first pass where
  it fits in the processors left free and either nobody is ahead (it is the
  head), or it ends by the head's shadow time, or it fits in the
  processors the head leaves spare ("extra") after earlier backfills.

For these two policies the answer is the planner's (a property test checks
it on random queues); other policies (``conservative``, ``easy-sjf``, whose
backfill order is not queue order) call the planner per query.

``valid_until``: the same running and pending jobs seen again at a later
time before it give the same answers, so a caller may keep the forecast
for an unchanged queue (``estimates.partition_forecast`` does; a property
test checks it).
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, insort
from collections.abc import Hashable, Sequence

import numpy as np

from computenet.scheduling import QueuedJob, RunningJob, make_scheduler, predict_start
from computenet.scheduling.policies import expected_end

_INF = float("inf")
FORECAST_POLICIES = ("fcfs", "easy")


class QueueForecast:
    """Start predictions for jobs appended to one queue at ``now``."""

    def __init__(
        self,
        policy: str,
        pending: Sequence[QueuedJob],
        running: Sequence[RunningJob],
        capacity: int,
        now: float,
    ) -> None:
        self.policy = policy
        self.capacity = capacity
        self.now = now
        self._pending = pending
        self._running = running
        self._passes: tuple[np.ndarray, ...] | None = None
        #: until when (exclusive) this forecast answers for the same queue seen later
        self.valid_until = _INF
        if policy in FORECAST_POLICIES:
            self._passes = self._replay()

    def predict_start(self, procs: int, estimate_s: float, at: float | None = None) -> float:
        """When a job of ``procs`` and ``estimate_s`` submitted at ``at`` (default
        and at the earliest: the forecast's ``now``) starts; ``inf`` if wider
        than the capacity.

        A later ``at`` is exact too: nothing ahead depends on the new job, so
        at ``at`` it meets the state left by the last pass before it.
        """
        at = self.now if at is None else max(at, self.now)
        if procs > self.capacity:
            return _INF
        if self._passes is None:
            job = QueuedJob(object(), procs, estimate_s, at)
            return predict_start(self.policy, self._pending, self._running, self.capacity, at, job)
        times, free, alone, shadow, extra = self._passes
        first = int(np.searchsorted(times, at, side="right")) - 1
        t = times[first:].copy()
        t[0] = at
        fits = free[first:] >= procs
        if self.policy == "easy":
            later = t + estimate_s <= shadow[first:]
            ok = fits & (alone[first:] | later | (extra[first:] >= procs))
        else:
            ok = fits & alone[first:]
        hit = int(np.argmax(ok))
        return float(t[hit]) if ok[hit] else _INF

    def _replay(self) -> tuple[np.ndarray, ...]:
        now = self.now
        scheduler = make_scheduler(self.policy, self.capacity)
        seq = 0
        free = self.capacity
        heap: list[tuple[float, int, Hashable]] = []
        ends: list[tuple[float, int, int]] = []  # (estimated end, seq, procs), sorted
        entry: dict[Hashable, tuple[float, int, int]] = {}
        for run in self._running:
            seq += 1
            end = expected_end(run, now)
            scheduler.add_running(run.id, run.procs, end)
            heap.append((end, seq, run.id))
            entry[run.id] = (end, seq, run.procs)
            ends.append((end, seq, run.procs))
            free -= run.procs
        heapq.heapify(heap)
        ends.sort()
        queue: dict[Hashable, tuple[int, float, int]] = {}  # priority order
        for job in self._pending:
            if job.procs > self.capacity:
                continue  # never starts, blocks nobody (as the schedulers do)
            seq += 1
            queue[job.id] = (job.procs, job.estimate_s, seq)
            scheduler.submit(job.id, job.procs, job.estimate_s, now)
        times: list[float] = []
        frees: list[int] = []
        alones: list[bool] = []
        shadows: list[float] = []
        extras: list[int] = []
        clock = now
        # Seen again later with nothing changed, the queue replays the same way
        # as long as nothing started at the first pass (a later clock starts
        # no more) and no running job is due (its expected end would move).
        self.valid_until = min((run.end for run in self._running), default=_INF)
        while True:
            started = scheduler.schedule(clock)
            if clock == now and started:
                self.valid_until = now
            i = 0
            # heads first: the started prefix that was at the front of the queue
            while i < len(started) and queue and started[i] == next(iter(queue)):
                free = self._start(started[i], clock, queue, heap, ends, entry, free)
                i += 1
            shadow, extra = self._shadow(queue, ends, free, clock)
            for key in started[i:]:  # backfills: a long one uses up extra
                if clock + queue[key][1] > shadow:
                    extra -= queue[key][0]
                free = self._start(key, clock, queue, heap, ends, entry, free)
            times.append(clock)
            frees.append(free)
            alones.append(not queue)
            shadows.append(shadow)
            extras.append(extra)
            if not heap:
                break
            clock = heap[0][0]
            while heap and heap[0][0] <= clock:
                key = heapq.heappop(heap)[2]
                scheduler.finish(key, clock)
                e = entry.pop(key)
                del ends[bisect_left(ends, e)]
                free += e[2]
        return (
            np.array(times),
            np.array(frees),
            np.array(alones, dtype=bool),
            np.array(shadows),
            np.array(extras),
        )

    @staticmethod
    def _start(
        key: Hashable,
        clock: float,
        queue: dict[Hashable, tuple[int, float, int]],
        heap: list[tuple[float, int, Hashable]],
        ends: list[tuple[float, int, int]],
        entry: dict[Hashable, tuple[float, int, int]],
        free: int,
    ) -> int:
        procs, estimate_s, seq = queue.pop(key)
        end = clock + estimate_s
        heapq.heappush(heap, (end, seq, key))
        e = (end, seq, procs)
        entry[key] = e
        insort(ends, e)
        return free - procs

    @staticmethod
    def _shadow(
        queue: dict[Hashable, tuple[int, float, int]],
        ends: list[tuple[float, int, int]],
        free: int,
        clock: float,
    ) -> tuple[float, int]:
        """The head's shadow time and spare processors then (EASY's walk)."""
        if not queue:
            return _INF, 0
        need = next(iter(queue.values()))[0] - free
        if need <= 0:
            return clock, -need
        for index, (end, _seq, procs) in enumerate(ends):
            need -= procs
            if need <= 0:
                # every job ending at the shadow time frees its processors then
                for later_end, _later_seq, later_procs in ends[index + 1 :]:
                    if later_end != end:
                        break
                    need -= later_procs
                return end, -need
        return _INF, 0
