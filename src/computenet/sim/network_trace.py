"""The workloads of a network replay: one SWF trace per centre.

Each centre keeps its own users' jobs; the traces are aligned at their first
submission (time 0 for all), optionally cut to the first ``window_days``,
and their inter-arrival times may be compressed by a ``load_factor`` (the
"how much can the network carry" experiment).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from computenet.sim.errors import SimError, TraceError
from computenet.sim.swf import SwfTrace


@dataclass(frozen=True, slots=True)
class TraceJob:
    job_id: int
    submit: float  # seconds from the centre's first submission
    procs: int
    runtime_s: float
    estimate_s: float  # requested time, never below the runtime


@dataclass(frozen=True)
class Centre:
    name: str
    capacity: int  # processors (the trace header's MaxProcs)
    jobs: tuple[TraceJob, ...]


def centre_name(path: Path) -> str:
    """``SDSC-SP2-1998-4.2-cln.swf.gz`` -> ``SDSC-SP2``."""
    stem = path.name.split(".swf")[0]
    m = re.match(r"^(.*?)-\d{4}", stem)
    return m.group(1) if m else stem


def read_centre(path: Path, *, window_days: float | None = None) -> Centre:
    """Load one SWF trace with the replay's cleaning rules (``sim.swf``):
    positive run time and size, no job wider than the machine, estimate =
    requested time raised to the run time. Times start at 0."""
    trace = SwfTrace(path)
    capacity = trace.header.machine_procs
    if not capacity:
        raise TraceError(f"{path.name}: no MaxProcs or MaxNodes in the header")
    limit = None if window_days is None else window_days * 86400.0
    jobs: list[TraceJob] = []
    t0: float | None = None
    for j in trace.jobs(capacity):
        if t0 is None:
            t0 = j.submit
        if limit is not None and j.submit - t0 >= limit:
            break
        jobs.append(TraceJob(j.job_id, j.submit - t0, j.procs, j.runtime_s, j.estimate_s))
    if not jobs:
        raise TraceError(f"{path.name}: no jobs to replay")
    return Centre(centre_name(path), capacity, tuple(jobs))


def compress(centre: Centre, load_factor: float) -> Centre:
    """Divide every submission time by ``load_factor`` (>1 means more load)."""
    if load_factor <= 0:
        raise SimError(f"load factor must be positive, got {load_factor}")
    jobs = tuple(
        TraceJob(j.job_id, j.submit / load_factor, j.procs, j.runtime_s, j.estimate_s)
        for j in centre.jobs
    )
    return Centre(centre.name, centre.capacity, jobs)
