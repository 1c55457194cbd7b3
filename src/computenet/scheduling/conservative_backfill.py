"""Conservative backfilling: every queued job holds a reservation.

On arrival a job is given the earliest slot in the free-processor profile
where it fits for its whole estimate, behind all reservations already made;
it starts when its slot begins. Since nothing is ever placed over a
reservation, backfilling delays no queued job.

When a job ends before its estimate, the freed time is released and the
queue is *compressed* (Mu'alem & Feitelson): in priority order, each job's
reservation is taken out and put back at its earliest fit. Its old slot is
still free at that moment, so a reservation can only move earlier, never
later.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable

from computenet.scheduling.base import KeyFits
from computenet.scheduling.profile import Profile


class ConservativeBackfillScheduler:
    name = "conservative"

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.profile = Profile(capacity)
        self._seq = 0
        # queued jobs in priority order: key -> [procs, estimate_s, reserved start, seq]
        self._queue: dict[Hashable, list[float]] = {}
        self._starts: list[tuple[float, int, Hashable]] = []  # lazy heap of reservations
        self._running: dict[Hashable, tuple[float, int]] = {}  # key -> (estimated end, procs)
        self._compress = False

    def add_running(self, key: Hashable, procs: int, end_estimate: float) -> None:
        self._running[key] = (end_estimate, procs)
        self.profile.reserve(self.profile.origin, end_estimate, procs)

    def submit(self, key: Hashable, procs: int, estimate_s: float, now: float) -> None:
        if procs > self.capacity:  # can never run; holds no reservation
            return
        self._seq += 1
        profile = self.profile
        start = profile.earliest_fit(procs, estimate_s, now)
        profile.reserve(start, start + estimate_s, procs)
        self._queue[key] = [procs, estimate_s, start, self._seq]
        heapq.heappush(self._starts, (start, self._seq, key))

    def finish(self, key: Hashable, now: float) -> None:
        end, procs = self._running.pop(key)
        if now < end:
            self.profile.release(now, end, procs)
            self._compress = True

    def reservation(self, key: Hashable) -> float:
        """The reserved start of a queued job."""
        return self._queue[key][2]

    def reservations(self) -> dict[Hashable, float]:
        return {key: entry[2] for key, entry in self._queue.items()}

    def queued(self) -> int:
        return len(self._queue)

    def schedule(self, now: float, fits: KeyFits | None = None) -> list[Hashable]:
        profile = self.profile
        profile.advance(now)
        if self._compress:
            self._compress = False
            self._compress_queue(now)
        starts = self._starts
        queue = self._queue
        started: list[Hashable] = []
        refused: list[tuple[float, int, Hashable]] = []
        while starts and starts[0][0] <= now:
            item = heapq.heappop(starts)
            entry = queue.get(item[2])
            if entry is None or entry[3] != item[1] or entry[2] != item[0]:
                continue  # stale: the job started or its reservation moved
            key = item[2]
            if fits is not None and not fits(key):
                refused.append(item)
                continue
            del queue[key]
            # the profile already holds [start, start + estimate) for it
            self._running[key] = (entry[2] + entry[1], int(entry[0]))
            started.append(key)
        for item in refused:
            heapq.heappush(starts, item)
        return started

    def _compress_queue(self, now: float) -> None:
        # One pass in priority order can leave a hole: a job examined early
        # may be able to move again once a later job has moved out of its
        # way. Repeat until nothing moves; every move is strictly earlier,
        # so this ends (in practice after two or three passes).
        profile = self.profile
        moved_any = False
        moved = True
        while moved:
            moved = False
            for entry in self._queue.values():
                procs = int(entry[0])
                estimate_s = entry[1]
                old = entry[2]
                profile.release(old, old + estimate_s, procs)
                start = profile.earliest_fit(procs, estimate_s, now)
                profile.reserve(start, start + estimate_s, procs)
                if start != old:
                    entry[2] = start
                    moved = moved or start < old
            moved_any = moved_any or moved
        if moved_any:
            self._starts = [(entry[2], int(entry[3]), key) for key, entry in self._queue.items()]
            heapq.heapify(self._starts)
