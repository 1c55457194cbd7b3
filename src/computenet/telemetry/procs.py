"""Process-tree sampler for embedded clusters: CPU time, RSS, threads and
I/O of a job's processes, read with psutil.

The embedded cluster writes ``jobs/<id>/running.json`` with the supervisor's
pid and its start time in clock ticks (so a reused pid is not mistaken for
the job) and ``status.json`` once the job has ended. Every process the job
starts stays a descendant of its supervisor (it is a child subreaper), so the
supervisor's descendants are the job.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import psutil

from computenet.telemetry.samples import LiveStats


def _start_ticks(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return int(stat[stat.rindex(b")") + 2 :].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def _supervisor(job_dir: Path) -> psutil.Process | None:
    if (job_dir / "status.json").exists():
        return None  # ended: the cluster's usage report has the final numbers
    try:
        running = json.loads((job_dir / "running.json").read_text())
        pid = int(running["supervisor_pid"])
        ticks = running.get("supervisor_ticks")
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if ticks is not None and _start_ticks(pid) != ticks:
        return None  # the pid now belongs to another process
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


def sample_tree(root: psutil.Process) -> LiveStats | None:
    """Totals over the root's descendants (the supervisor itself is not the job)."""
    try:
        procs = root.children(recursive=True)
    except psutil.Error:
        return None
    cpu = 0.0
    rss = threads = read = write = 0
    # CPU time of descendants that already ended and were reaped by the supervisor
    try:
        own = root.cpu_times()
        cpu += own.children_user + own.children_system
    except psutil.Error:
        return None
    for p in procs:
        try:
            with p.oneshot():
                t = p.cpu_times()
                cpu += t.user + t.system + t.children_user + t.children_system
                rss += p.memory_info().rss
                threads += p.num_threads()
                try:
                    io = p.io_counters()
                    read += io.read_bytes
                    write += io.write_bytes
                except (psutil.AccessDenied, AttributeError):
                    pass
        except psutil.NoSuchProcess:
            continue  # ended between listing and reading
        except psutil.Error:
            continue
    return LiveStats(
        cpu_time_s=cpu, rss_bytes=rss, threads=threads, read_bytes=read, write_bytes=write
    )


def sample_jobs(jobs_dir: Path, native_ids: Iterable[str]) -> dict[str, LiveStats]:
    """Live stats of each running job found under ``jobs_dir``."""
    out: dict[str, LiveStats] = {}
    for nid in native_ids:
        if not nid.isdigit():
            continue
        root = _supervisor(jobs_dir / nid)
        if root is None:
            continue
        stats = sample_tree(root)
        if stats is not None:
            out[nid] = stats
    return out
