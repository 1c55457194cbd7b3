"""A time profile of free processors: the planner's picture of the future.

The profile is a step function: ``free[i]`` processors are free on
``[times[i], times[i + 1])``, and the last step lasts forever. Reservations
subtract from it, releases add back. Conservative backfilling keeps one
reservation per queued job in a profile; ``earliest_fit`` is where a job
would go.
"""

from __future__ import annotations

from bisect import bisect_right

_INF = float("inf")


class Profile:
    def __init__(self, capacity: int, origin: float = -_INF) -> None:
        self.capacity = capacity
        self._times: list[float] = [origin]
        self._free: list[int] = [capacity]

    @property
    def origin(self) -> float:
        return self._times[0]

    def steps(self) -> list[tuple[float, int]]:
        """``(time, free)`` pairs from the origin on (for tests and plots)."""
        return list(zip(self._times, self._free, strict=True))

    def free_at(self, when: float) -> int:
        index = bisect_right(self._times, when) - 1
        return self._free[max(index, 0)]

    def advance(self, now: float) -> None:
        """Forget the past: the profile starts at ``now``."""
        times = self._times
        index = bisect_right(times, now) - 1
        if index > 0:
            del times[:index]
            del self._free[:index]
        if times[0] < now:
            times[0] = now

    def earliest_fit(self, procs: int, duration_s: float, not_before: float) -> float:
        """Earliest start >= ``not_before`` with ``procs`` free for ``duration_s``.

        Returns infinity when ``procs`` exceeds the capacity.
        """
        if procs > self.capacity:
            return _INF
        times = self._times
        free = self._free
        last = len(times) - 1
        index = max(bisect_right(times, not_before) - 1, 0)
        start = max(not_before, times[0])
        while True:
            if free[index] >= procs:
                if index == last or times[index + 1] >= start + duration_s:
                    return start
                index += 1
            else:
                index += 1
                start = times[index]  # the last step is all free: never past it

    def reserve(self, start: float, end: float, procs: int) -> None:
        self._add(start, end, -procs)

    def release(self, start: float, end: float, procs: int) -> None:
        self._add(start, end, procs)

    def _split(self, when: float) -> int:
        """Index of a step beginning exactly at ``when`` (made if needed)."""
        times = self._times
        index = bisect_right(times, when) - 1
        if index < 0:
            times.insert(0, when)
            self._free.insert(0, self.capacity)
            return 0
        if times[index] == when:
            return index
        times.insert(index + 1, when)
        self._free.insert(index + 1, self._free[index])
        return index + 1

    def _add(self, start: float, end: float, delta: int) -> None:
        if end <= start:
            return
        first = self._split(start)
        stop = self._split(end)
        free = self._free
        for index in range(first, stop):
            free[index] += delta
        self._merge(first, stop)

    def _merge(self, first: int, stop: int) -> None:
        """Drop breakpoints in ``[first, stop]`` that do not change the free count."""
        times = self._times
        free = self._free
        index = min(stop, len(times) - 1)
        low = max(first, 1)
        while index >= low:
            if free[index] == free[index - 1]:
                del times[index]
                del free[index]
            index -= 1
