"""Queue-policy interface and the two policies the embedded cluster needs.

A policy sees the pending queue in priority order, the running jobs with
their expected ends, and the capacity; it returns the ids to start now.
``fits`` (the match policy) may refuse a job that fits by count but not by
shape (fragmented nodes, GPUs); then the job is treated as not fitting.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(slots=True, frozen=True)
class QueuedJob:
    id: Hashable
    procs: int
    estimate_s: float  # requested wall time, the scheduler's only knowledge of length
    submit: float = 0.0


@dataclass(slots=True, frozen=True)
class RunningJob:
    id: Hashable
    procs: int
    end: float  # start + estimate


Fits = Callable[[QueuedJob], bool]


class QueuePolicy(Protocol):
    name: str

    def select(self, pending: Sequence[QueuedJob], running: Sequence[RunningJob],
               capacity: int, now: float, fits: Fits | None = None) -> list[Hashable]: ...


class Fcfs:
    """Start jobs in order while the head fits; never skip the head."""

    name = "fcfs"

    def select(self, pending: Sequence[QueuedJob], running: Sequence[RunningJob],
               capacity: int, now: float, fits: Fits | None = None) -> list[Hashable]:
        free = capacity - sum(r.procs for r in running)
        chosen: list[Hashable] = []
        for job in pending:
            if job.procs > free or (fits is not None and not fits(job)):
                break
            chosen.append(job.id)
            free -= job.procs
        return chosen


class EasyBackfill:
    """EASY (Mu'alem & Feitelson): FCFS, plus backfill of later jobs that do
    not delay the first blocked job's reservation (the "shadow time")."""

    name = "easy"

    def select(self, pending: Sequence[QueuedJob], running: Sequence[RunningJob],
               capacity: int, now: float, fits: Fits | None = None) -> list[Hashable]:
        free = capacity - sum(r.procs for r in running)
        chosen: list[Hashable] = []
        ends = [(r.end, r.procs) for r in running]
        i = 0
        while i < len(pending):
            job = pending[i]
            if job.procs > free or (fits is not None and not fits(job)):
                break
            chosen.append(job.id)
            free -= job.procs
            ends.append((now + job.estimate_s, job.procs))
            i += 1
        if i >= len(pending):
            return chosen
        head = pending[i]
        if head.procs > capacity:
            return chosen  # can never run here; do not let it block forever
        # shadow time: when enough procs free up for the head; extra: procs spare then
        ends.sort()
        avail = free
        shadow = float("inf")
        for end, procs in ends:
            avail += procs
            if avail >= head.procs:
                shadow = end
                break
        extra = avail - head.procs
        for job in pending[i + 1:]:
            if job.procs > free or (fits is not None and not fits(job)):
                continue
            if now + job.estimate_s <= shadow:
                ok = True
            elif job.procs <= extra:
                ok = True
                extra -= job.procs
            else:
                ok = False
            if ok:
                chosen.append(job.id)
                free -= job.procs
        return chosen


POLICIES: dict[str, Callable[[], QueuePolicy]] = {"fcfs": Fcfs, "easy": EasyBackfill}


def get_policy(name: str) -> QueuePolicy:
    try:
        return POLICIES[name]()
    except KeyError:
        raise ValueError(f"unknown queue policy {name!r}; known: {', '.join(POLICIES)}") from None
