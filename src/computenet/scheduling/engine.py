"""The event-driven engine: run a job stream through a scheduler on a virtual clock.

Events at one instant are taken in a fixed order: every completion first,
then every arrival, then one ``schedule`` call. Jobs run for their true
runtime; the scheduler only ever sees their estimates. The simulator and
the planner drive the same ``Scheduler`` objects the live cluster uses.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from typing import NamedTuple, cast

from computenet.scheduling.base import Scheduler


class EngineJob(NamedTuple):
    """One job of a stream, ordered by ``submit``."""

    job_id: int
    submit: float
    procs: int
    runtime_s: float
    estimate_s: float


class Started(NamedTuple):
    job_id: int
    submit: float
    start: float
    end: float
    procs: int


def run(scheduler: Scheduler, jobs: Iterable[EngineJob]) -> Iterator[Started]:
    """Yield each job as it starts, in start order.

    ``jobs`` must come in non-decreasing ``submit`` order (a trace does).
    Jobs the scheduler never starts (wider than the machine) are not
    yielded. The stream is read lazily: memory holds only queued and
    running jobs.
    """
    heappush = heapq.heappush
    heappop = heapq.heappop
    submit = scheduler.submit
    finish = scheduler.finish
    schedule = scheduler.schedule
    waiting: dict[int, EngineJob] = {}  # by stream index, the scheduler's key
    ends: list[tuple[float, int]] = []  # (end, key)
    stream = iter(jobs)
    arrival = next(stream, None)
    index = 0
    inf = float("inf")
    while True:
        next_end = ends[0][0] if ends else inf
        if arrival is None:
            if not ends:
                return
            now = next_end
        else:
            now = arrival.submit if arrival.submit < next_end else next_end
        while ends and ends[0][0] <= now:
            finish(heappop(ends)[1], now)
        while arrival is not None and arrival.submit <= now:
            waiting[index] = arrival
            submit(index, arrival.procs, arrival.estimate_s, now)
            index += 1
            arrival = next(stream, None)
        for key in schedule(now):
            job = waiting.pop(key)  # type: ignore[call-overload]
            end = now + job.runtime_s
            heappush(ends, (end, cast(int, key)))
            yield Started(job.job_id, job.submit, now, end, job.procs)
