"""How the server's C allocator holds memory: glibc malloc, tuned at start.

Under load the server's resident memory climbed far past what it had in
use: glibc kept tens of MiB of freed heap (docs/reliability.md, "Where the
server's memory goes"). Two of its defaults did that in this workload:

- an arena per thread, up to eight per core: request threads free memory
  into their own arenas, each keeping its own free chunks;
- a mmap threshold that rises with each large block freed (up to 32 MiB),
  so after the first big listing every response buffer and row batch comes
  from the heap, and the heap's free chunks stay resident between bursts.

``tune_malloc`` caps the arenas and fixes the threshold, so large blocks
are mapped and unmapped whole. ``malloc_trim`` was tried and does not help
here: it found almost nothing to hand back, since the free memory sat in
chunks smaller than a page between live ones.

Only glibc has these knobs; elsewhere (musl, macOS) nothing is changed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import platform

log = logging.getLogger("computenet.api.heap")

#: glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8


def tune_malloc(arena_max: int, mmap_threshold_bytes: int) -> list[str]:
    """Set glibc's arena cap and fixed mmap threshold; 0 leaves that one at
    glibc's default. Returns what was set (empty where nothing was: not
    glibc, or both 0). Call it before the server starts its threads: arenas
    already made stay."""
    if arena_max < 0 or mmap_threshold_bytes < 0:
        raise ValueError("malloc arena max and mmap threshold must be >= 0")
    wanted = [
        (name, param, value)
        for name, param, value in (
            ("arena_max", M_ARENA_MAX, arena_max),
            ("mmap_threshold_bytes", M_MMAP_THRESHOLD, mmap_threshold_bytes),
        )
        if value > 0
    ]
    if not wanted or platform.libc_ver()[0] != "glibc":
        return []
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.mallopt.restype = ctypes.c_int
    done = []
    for name, param, value in wanted:
        if libc.mallopt(param, value) == 1:
            done.append(f"{name}={value}")
        else:  # glibc refused the value (a threshold over its maximum)
            log.warning("glibc refused malloc %s=%d; its default stays", name, value)
    return done
