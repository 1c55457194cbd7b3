"""The agent keeps freed chunk buffers for reuse rather than faulting in fresh pages."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

PROBE = """
import resource, sys
from computenet.transfer.agent import keep_freed_memory
if sys.argv[1] == "keep":
    assert keep_freed_memory()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):  # four streams' chunks arrive as 64 KiB pieces, then are freed
    pieces = [b"x" * (64 << 10) for _ in range(4 * 128)]
    del pieces
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(mode: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True
    )
    return int(out.stdout)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_freed_chunk_buffers_are_reused_without_new_page_faults() -> None:
    default, kept = _faults("default"), _faults("keep")
    assert default > 10 * 8192  # 32 MiB trimmed after each round and faulted in again
    assert kept < default / 10
