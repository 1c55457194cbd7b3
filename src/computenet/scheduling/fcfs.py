"""First come, first served: start jobs in order while the head fits."""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable

from computenet.scheduling.base import KeyFits


class FcfsScheduler:
    """Never skips the head: a blocked head blocks everyone behind it."""

    name = "fcfs"

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.free = capacity
        self._queue: deque[tuple[int, Hashable]] = deque()  # (procs, key), priority order
        self._running: dict[Hashable, int] = {}

    def add_running(self, key: Hashable, procs: int, end_estimate: float) -> None:
        self._running[key] = procs
        self.free -= procs

    def submit(self, key: Hashable, procs: int, estimate_s: float, now: float) -> None:
        if procs <= self.capacity:  # a wider job can never run; it must not block
            self._queue.append((procs, key))

    def finish(self, key: Hashable, now: float) -> None:
        self.free += self._running.pop(key)

    def schedule(self, now: float, fits: KeyFits | None = None) -> list[Hashable]:
        queue = self._queue
        free = self.free
        started: list[Hashable] = []
        while queue:
            procs, key = queue[0]
            if procs > free or (fits is not None and not fits(key)):
                break
            queue.popleft()
            free -= procs
            self._running[key] = procs
            started.append(key)
        self.free = free
        return started

    def queued(self) -> int:
        return len(self._queue)
