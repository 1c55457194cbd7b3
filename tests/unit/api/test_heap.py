"""The server's glibc malloc settings: large blocks are mapped whole once
tuned, glibc's defaults stay when the settings are 0, bad values are refused."""

from __future__ import annotations

import json
import platform
import subprocess
import sys

import pytest

from computenet.api.heap import tune_malloc
from computenet.config import Settings

glibc_only = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")

# Frees a 4 MiB block (which lifts glibc's default, dynamic mmap threshold
# to 4 MiB), then allocates 1 MiB: mapped on its own with a fixed threshold,
# carved from the heap without. mallinfo2 counts the mapped blocks.
PROBE = """
import ctypes, json, sys
from computenet.api.heap import tune_malloc
class Info(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd",
        "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Info
done = tune_malloc(int(sys.argv[1]), int(sys.argv[2]))
big = bytearray(4 << 20)
del big
before = libc.mallinfo2().hblks
block = bytearray(1 << 20)
print(json.dumps({"done": done, "mapped": libc.mallinfo2().hblks - before}))
"""


def probe(arena_max: int, threshold: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(arena_max), str(threshold)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, object] = json.loads(out.stdout)
    return result


@glibc_only
def test_a_fixed_threshold_maps_large_blocks_whole() -> None:
    tuned = probe(2, 128 << 10)
    assert tuned == {"done": ["arena_max=2", "mmap_threshold_bytes=131072"], "mapped": 1}


@glibc_only
def test_zero_leaves_glibc_defaults() -> None:
    assert probe(0, 0) == {"done": [], "mapped": 0}


def test_negative_values_are_refused() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        tune_malloc(-1, 0)
    with pytest.raises(ValueError, match="malloc_mmap_threshold_bytes"):
        Settings(malloc_mmap_threshold_bytes=64 << 20)
    assert Settings().malloc_arena_max == 2
    assert Settings().malloc_mmap_threshold_bytes == 128 << 10
