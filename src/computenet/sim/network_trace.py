"""The workloads of a network replay: one SWF trace per centre.

Each centre keeps its own users' jobs; the traces are aligned at their first
submission (time 0 for all), optionally cut to the first ``window_days``,
and their inter-arrival times may be compressed by a ``load_factor`` (the
"how much can the network carry" experiment).
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass
from pathlib import Path

from computenet.sim.errors import SimError, TraceError

_MAX_PROCS = re.compile(r"^;\s*Max(?:Procs|Nodes)\s*:\s*(\d+)")


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
    """Load one SWF trace: jobs with a positive run time and size, time-aligned.

    Size is the allocated processors (field 5), else the requested (8); the
    estimate is the requested time (9), raised to the run time when smaller.
    """
    opener = gzip.open if path.suffix == ".gz" else open
    capacity = 0
    rows: list[tuple[int, float, int, float, float]] = []
    try:
        with opener(path, "rt") as fh:  # type: ignore[operator]
            for lineno, line in enumerate(fh, 1):
                if line.startswith(";"):
                    m = _MAX_PROCS.match(line)
                    # MaxProcs wins over MaxNodes (1 processor per node otherwise)
                    if m and ("Procs" in line or capacity == 0):
                        capacity = int(m.group(1))
                    continue
                f = line.split()
                if not f:
                    continue
                if len(f) < 9:
                    raise TraceError(f"{path}:{lineno}: expected 18 SWF fields")
                runtime = float(f[3])
                procs = int(f[4]) if int(f[4]) > 0 else int(f[7])
                if runtime <= 0 or procs <= 0:
                    continue
                req = float(f[8])
                rows.append((int(f[0]), float(f[1]), procs, runtime, max(req, runtime)))
    except (OSError, ValueError, EOFError) as exc:
        raise TraceError(f"cannot read trace {path}: {exc}") from exc
    if not rows:
        raise TraceError(f"{path}: no jobs with a positive run time")
    if capacity <= 0:
        capacity = max(r[2] for r in rows)
    rows.sort(key=lambda r: r[1])
    t0 = rows[0][1]
    limit = None if window_days is None else window_days * 86400.0
    jobs = tuple(
        TraceJob(jid, sub - t0, min(procs, capacity), run, est)
        for jid, sub, procs, run, est in rows
        if limit is None or sub - t0 < limit
    )
    return Centre(centre_name(path), capacity, jobs)


def compress(centre: Centre, load_factor: float) -> Centre:
    """Divide every submission time by ``load_factor`` (>1 means more load)."""
    if load_factor <= 0:
        raise SimError(f"load factor must be positive, got {load_factor}")
    jobs = tuple(
        TraceJob(j.job_id, j.submit / load_factor, j.procs, j.runtime_s, j.estimate_s)
        for j in centre.jobs
    )
    return Centre(centre.name, centre.capacity, jobs)
