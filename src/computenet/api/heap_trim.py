"""Give the server's freed heap back to the system every so often.

Under load the server's resident memory climbs well past what its live
objects take: C-level buffers of big responses and database rows are freed,
but glibc's allocator keeps the pages for reuse, so the high-water mark of
the busiest moment stays resident (docs/reliability.md, "Where the server's
memory goes"). ``malloc_trim(0)`` hands those free pages back. It exists
only in glibc; elsewhere (musl, macOS) there is nothing to call and the
task does not start.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import platform
import time
from collections.abc import Callable

log = logging.getLogger("computenet.api.heap_trim")

Trim = Callable[[], int]


def glibc_trim() -> Trim | None:
    """glibc's ``malloc_trim(0)``, or None where the C library is not glibc."""
    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        fn = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_size_t]
    fn.restype = ctypes.c_int

    def trim() -> int:
        return int(fn(0))

    return trim


class HeapTrimmer:
    """Calls ``trim`` every ``interval_s`` seconds until cancelled.

    ``interval_s`` 0 turns it off: ``start`` then returns None. The call
    runs in a worker thread (ctypes lets go of the GIL), so the event loop
    keeps serving while the allocator walks its free lists.
    """

    def __init__(self, interval_s: float, trim: Trim | None) -> None:
        if interval_s < 0:
            raise ValueError(f"heap trim interval {interval_s} s must be >= 0")
        self.interval_s = interval_s
        self.trim = trim
        self.runs = 0

    @property
    def enabled(self) -> bool:
        return self.interval_s > 0 and self.trim is not None

    def start(self) -> asyncio.Task[None] | None:
        if not self.enabled:
            return None
        return asyncio.create_task(self._loop(), name="heap-trim")

    async def _loop(self) -> None:
        assert self.trim is not None
        while True:
            await asyncio.sleep(self.interval_s)
            started = time.perf_counter()
            await asyncio.to_thread(self.trim)
            self.runs += 1
            log.debug("malloc_trim took %.1f ms", (time.perf_counter() - started) * 1e3)
