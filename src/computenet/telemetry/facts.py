"""Gather what the classifier needs about one job: its rows, its usage, its
samples and the tails of its output (read through the cluster's adapter)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from computenet.errors import ComputeNetError
from computenet.model import JobSpec
from computenet.store import jobs as repo
from computenet.store.tables import JobRow
from computenet.store.tables_telemetry import JobStatRow
from computenet.telemetry.diagnosis import JobFacts

if TYPE_CHECKING:
    from computenet.core.runtime import Runtime

TAIL_LINES = 80
CHUNK = 1 << 20
MAX_READ = 16 << 20  # bytes read at most to find the end of a log


async def tail(runtime: Runtime, cluster: str, native_id: str, stream: str) -> str:
    """The last lines of a job's stream ('' when the cluster cannot say)."""
    adapter = runtime.adapters.get(cluster)
    if adapter is None:
        return ""
    offset, last = 0, b""
    try:
        while offset < MAX_READ:
            data = await adapter.output(native_id, stream, offset, CHUNK)
            if not data:
                break
            last = (last + data)[-CHUNK:]
            offset += len(data)
            if len(data) < CHUNK:
                break
    except ComputeNetError:
        return ""
    lines = last.decode("utf-8", "replace").splitlines()
    return "\n".join(lines[-TAIL_LINES:]) + ("\n" if lines else "")


async def job_facts(runtime: Runtime, job: JobRow) -> JobFacts:
    with runtime.store.session() as s:
        attempt = repo.latest_attempt(s, job)
        stat = s.get(JobStatRow, job.id)
        spec = JobSpec.from_dict(job.spec)
        usage = dict(attempt.usage or {}) if attempt is not None else {}
        native = attempt.native_id if attempt is not None else None
        cluster = attempt.cluster if attempt is not None else job.cluster
        start = attempt.start_time if attempt is not None else None
        end = attempt.end_time if attempt is not None else None
        stat_rss = stat.peak_rss_bytes if stat is not None else None
        stat_mem = stat.mem_limit_bytes if stat is not None else None
        low_since = stat.low_cpu_since if stat is not None and not stat.ended else None
    now = runtime.clock.now()
    elapsed = _num(usage.get("elapsed_s"))
    if elapsed is None and start is not None:
        elapsed = (end or now) - start
    rss = _int(usage.get("max_rss_bytes")) or stat_rss
    mem = _int(usage.get("mem_bytes")) or stat_mem or spec.mem_bytes_total() or None
    stdout = stderr = ""
    if native is not None and cluster is not None:
        stdout = await tail(runtime, cluster, native, "stdout")
        stderr = await tail(runtime, cluster, native, "stderr")
    return JobFacts(
        state=job.state,
        exit_code=job.exit_code,
        reason=job.reason,
        cluster=cluster,
        time_limit_s=spec.time_limit_s,
        elapsed_s=elapsed,
        cpus=_int(usage.get("cpus")) or spec.cpus,
        cpu_time_s=_num(usage.get("cpu_time_s")),
        mem_limit_bytes=mem,
        max_rss_bytes=rss,
        low_cpu_for_s=(now - low_since) if low_since is not None else None,
        stdout_tail=stdout,
        stderr_tail=stderr,
    )


def _num(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) else None
