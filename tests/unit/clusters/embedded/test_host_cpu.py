"""The host CPU reader that gives embedded node types their derived peak."""

from __future__ import annotations

from computenet.clusters.embedded.host_cpu import parse_cpuinfo, vector_width

CPUINFO = """processor\t: 0
model name\t: Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz
cpu MHz\t\t: 999.000
physical id\t: 0
core id\t\t: 0
flags\t\t: fpu sse2 avx fma avx2 avx512f

processor\t: 1
model name\t: Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz
physical id\t: 0
core id\t\t: 0

processor\t: 2
physical id\t: 0
core id\t\t: 1
"""


def test_cores_clock_and_vector_width_from_cpuinfo() -> None:
    cpu = parse_cpuinfo(CPUINFO)
    assert cpu.cores == 2  # two hardware threads share core 0
    assert cpu.clock_ghz == 2.1  # the model's nominal clock, not the current MHz
    assert (cpu.vector, cpu.flops_per_cycle) == ("avx512", 32)
    assert parse_cpuinfo(CPUINFO, max_freq_khz=3_900_000).clock_ghz == 3.9


def test_vector_width_needs_fma_for_the_wide_classes() -> None:
    assert vector_width(["avx512f", "avx2", "avx"]) == "avx"
    assert vector_width(["avx2", "fma"]) == "avx2"
    assert vector_width([]) == "sse2"
    assert parse_cpuinfo("cpu MHz : 2596.1\nflags : sse2\n").clock_ghz == 2.596
