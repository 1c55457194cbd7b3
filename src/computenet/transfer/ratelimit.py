"""A shared bandwidth cap for all streams of one copy."""

from __future__ import annotations

import asyncio
import time


class RateLimiter:
    """Paces callers to ``bytes_per_s`` overall, allowing a short burst."""

    def __init__(self, bytes_per_s: int, burst_s: float = 0.1) -> None:
        self.bytes_per_s = bytes_per_s
        self.burst_s = burst_s
        self._free_at = time.monotonic()

    async def acquire(self, nbytes: int) -> None:
        now = time.monotonic()
        start = max(self._free_at, now - self.burst_s)
        self._free_at = start + nbytes / self.bytes_per_s
        delay = self._free_at - now - self.burst_s
        if delay > 0:
            await asyncio.sleep(delay)
