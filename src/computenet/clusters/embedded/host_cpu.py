"""This machine's CPU as the derived peak needs it: clock and vector width.

The embedded cluster carves its virtual nodes from this machine, so their
node types take the host's clock and FLOPs per cycle (``network.peak``)
unless the configuration sets them. Read once from ``/proc/cpuinfo``; the
clock is the largest of cpufreq's ``cpuinfo_max_freq``, the model name's
``@ 2.60GHz`` and the kernel's ``cpu MHz`` that is present, in that order.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from computenet.model import ClusterInfo, PartitionInfo

#: double-precision FLOPs per core per cycle by vector class (see network/peak.py)
FLOPS_PER_CYCLE = {"avx512": 32, "avx2": 16, "avx": 8, "sse2": 4}

_MODEL_GHZ = re.compile(r"@\s*([\d.]+)\s*GHz", re.IGNORECASE)


def vector_width(flags: Iterable[str]) -> str:
    """The widest double-precision vector class in a CPU's feature flags."""
    have = set(flags)
    if "avx512f" in have and "fma" in have:
        return "avx512"
    if "avx2" in have and "fma" in have:
        return "avx2"
    if "avx" in have:
        return "avx"
    return "sse2"


@dataclass(frozen=True)
class HostCpu:
    model: str
    cores: int  # physical cores the OS sees
    clock_ghz: float | None
    vector: str  # avx512 | avx2 | avx | sse2
    flops_per_cycle: int


def parse_cpuinfo(text: str, max_freq_khz: int | None = None) -> HostCpu:
    """The host CPU from ``/proc/cpuinfo`` text (and cpufreq's maximum, if known)."""
    model = ""
    flags: list[str] = []
    mhz: float | None = None
    cores: set[tuple[str, str]] = set()
    physical, core = "0", None
    processors = 0
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "processor":
            processors += 1
            physical, core = "0", None
        elif key == "model name" and not model:
            model = value
        elif key == "flags" and not flags:
            flags = value.split()
        elif key == "cpu MHz" and mhz is None:
            try:
                mhz = float(value)
            except ValueError:
                mhz = None
        elif key == "physical id":
            physical = value
        elif key == "core id":
            core = value
            cores.add((physical, core))
    clock: float | None = None
    if max_freq_khz:
        clock = max_freq_khz / 1e6
    elif m := _MODEL_GHZ.search(model):
        clock = float(m.group(1))
    elif mhz:
        clock = mhz / 1000.0
    vector = vector_width(flags)
    return HostCpu(
        model=model or "unknown",
        cores=len(cores) or processors or 1,
        clock_ghz=round(clock, 3) if clock else None,
        vector=vector,
        flops_per_cycle=FLOPS_PER_CYCLE[vector],
    )


@functools.cache
def host_cpu() -> HostCpu:
    """This machine's CPU (cached: it does not change while the server runs)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    freq = None
    try:
        raw = Path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").read_text()
        freq = int(raw.strip())
    except (OSError, ValueError):
        freq = None
    cpu = parse_cpuinfo(text, freq)
    if not text:
        cpu = dataclasses.replace(cpu, cores=os.cpu_count() or 1)
    return cpu


def with_host_peak(info: ClusterInfo, cpu: HostCpu) -> ClusterInfo:
    """``info`` with the host's clock and FLOPs per cycle on every node type
    that does not set its own."""
    parts: list[PartitionInfo] = []
    for p in info.partitions:
        nt = p.node_type
        nt = dataclasses.replace(
            nt,
            clock_ghz=nt.clock_ghz or cpu.clock_ghz,
            flops_per_cycle=nt.flops_per_cycle or cpu.flops_per_cycle,
        )
        parts.append(dataclasses.replace(p, node_type=nt))
    return dataclasses.replace(info, partitions=tuple(parts))
