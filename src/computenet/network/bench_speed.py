"""A cluster's speed measured by benchmark jobs, in place of its configured factor.

Every node type has a configured speed factor (run time = requested /
factor), a guess an operator writes down. HPL runs (``cnet bench run hpl``)
measure what a partition sustains per CPU; this module turns those into
factors on the same scale as the configured ones, so a partition with
measurements and one without can still be compared:

    rate(p)   = median over p's recent runs of GFLOPS / CPUs
    scale     = median over measured partitions of rate(p) / configured(p)
    factor(p) = rate(p) / scale

If every measured partition ran exactly as configured, every factor stays
as configured; one measured partition alone keeps its configured factor
(nothing to compare it with). A partition with HPL results uses them;
one with only STREAM results uses those (GB/s per CPU), on their own scale.

The broker takes these factors where it would take the configured one
(``estimates.runtime``, last in line after catalogue figures and learned
factors), and ``cnet why`` says so. Pure: the controller feeds samples.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: which benchmark stands for a partition's generic speed, best first
PREFERENCE = ("hpl", "stream")
WINDOW = 20


@dataclass(frozen=True)
class BenchSample:
    cluster: str
    partition: str
    benchmark: str
    value: float  # the whole run's figure (GFLOPS, GB/s)
    unit: str
    cpus: int


@dataclass(frozen=True)
class BenchSpeed:
    benchmark: str
    per_cpu: float
    unit: str
    factor: float
    runs: int

    def describe(self) -> str:
        return (
            f"benchmark: {self.benchmark} {self.per_cpu:.4g} {self.unit} per CPU "
            f"({self.runs} run{'s' if self.runs != 1 else ''}), speed {self.factor:.3g}"
        )


def bench_speeds(
    samples: Sequence[BenchSample], configured: Mapping[tuple[str, str], float]
) -> dict[tuple[str, str], BenchSpeed]:
    """Per (cluster, partition) in ``configured``: its measured factor, from
    the last ``WINDOW`` usable samples of its preferred benchmark."""
    rates: dict[tuple[str, str, str], list[float]] = {}
    units: dict[str, str] = {}
    for s in samples:
        key = (s.cluster, s.partition)
        if key not in configured or s.value <= 0 or s.cpus <= 0 or s.benchmark not in PREFERENCE:
            continue
        rates.setdefault((*key, s.benchmark), []).append(s.value / s.cpus)
        units[s.benchmark] = s.unit
    chosen: dict[tuple[str, str], tuple[str, float, int]] = {}
    for key in configured:
        for benchmark in PREFERENCE:
            got = rates.get((*key, benchmark))
            if got:
                recent = got[-WINDOW:]
                chosen[key] = (benchmark, float(statistics.median(recent)), len(recent))
                break
    out: dict[tuple[str, str], BenchSpeed] = {}
    for benchmark in PREFERENCE:
        mine = {k: v for k, v in chosen.items() if v[0] == benchmark}
        if not mine:
            continue
        scale = statistics.median(rate / configured[k] for k, (_, rate, _) in mine.items())
        for key, (_, rate, runs) in mine.items():
            out[key] = BenchSpeed(benchmark, rate, f"{units[benchmark]}", rate / scale, runs)
    return out
