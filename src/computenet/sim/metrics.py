"""Schedule quality metrics of a replay, gathered while jobs start.

Definitions (the usual ones of the scheduling literature):

- wait = start - submit; percentiles p50/p90/p99 by linear interpolation.
- bounded slowdown = max(1, (wait + run) / max(run, tau)), tau = 10 s, so
  very short jobs do not dominate the mean.
- makespan = last end - first submit.
- utilisation = sum(procs * run) / (capacity * makespan).

The per-job arrays are kept (three floats a job) for the percentiles,
the plots and the recorded-schedule comparison.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from computenet.scheduling.engine import Started

BSLD_TAU_S = 10.0


@dataclass(frozen=True)
class ScheduleMetrics:
    jobs: int
    mean_wait_s: float
    p50_wait_s: float
    p90_wait_s: float
    p99_wait_s: float
    max_wait_s: float
    mean_bsld: float
    utilization: float
    makespan_s: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class MetricsRecorder:
    """Collects started jobs; ``metrics(capacity)`` summarises them."""

    def __init__(self) -> None:
        self.submits = array("d")
        self.starts = array("d")
        self.ends = array("d")
        self.procs = array("q")

    def add(self, job: Started) -> None:
        self.submits.append(job.submit)
        self.starts.append(job.start)
        self.ends.append(job.end)
        self.procs.append(job.procs)

    def extend(self, jobs: Iterable[Started]) -> None:
        for job in jobs:
            self.add(job)

    def __len__(self) -> int:
        return len(self.starts)

    def waits(self) -> np.ndarray:
        return np.frombuffer(self.starts) - np.frombuffer(self.submits)

    def metrics(self, capacity: int) -> ScheduleMetrics:
        count = len(self.starts)
        if count == 0:
            return ScheduleMetrics(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        submits = np.frombuffer(self.submits)
        starts = np.frombuffer(self.starts)
        ends = np.frombuffer(self.ends)
        procs = np.frombuffer(self.procs, dtype=np.int64)
        waits = starts - submits
        runs = ends - starts
        bsld = np.maximum(1.0, (waits + runs) / np.maximum(runs, BSLD_TAU_S))
        makespan = float(ends.max() - submits.min())
        work = float(np.dot(procs.astype(np.float64), runs))
        p50, p90, p99 = (float(v) for v in np.percentile(waits, [50, 90, 99]))
        return ScheduleMetrics(
            jobs=count,
            mean_wait_s=float(waits.mean()),
            p50_wait_s=p50,
            p90_wait_s=p90,
            p99_wait_s=p99,
            max_wait_s=float(waits.max()),
            mean_bsld=float(bsld.mean()),
            utilization=work / (capacity * makespan) if makespan > 0 else 0.0,
            makespan_s=makespan,
        )
