"""Anomalies: pure detection over job stats, cluster status and failure
counts, and the alerts table that keeps one open alert per condition.

Kinds: ``job_hung`` (near-zero CPU for a while), ``job_memory_high`` (RSS
close to the limit), ``job_gpu_idle`` (GPUs allocated, not used),
``cluster_failures`` (failure rate far above the cluster's usual),
``cluster_clock_skew``, ``collector_failing``. An alert is resolved when its
condition is no longer found.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from computenet.store.tables import JobRow
from computenet.store.tables_accounting import UsageRecordRow
from computenet.store.tables_telemetry import AlertRow, CollectorStatusRow, JobStatRow
from computenet.telemetry.settings import TelemetrySettings

FAILED_STATES = ("FAILED", "NODE_FAIL", "OUT_OF_MEMORY", "TIMEOUT")
DETECTED_KINDS = (
    "job_hung",
    "job_memory_high",
    "job_gpu_idle",
    "cluster_failures",
    "cluster_clock_skew",
    "collector_failing",
)


@dataclass(frozen=True)
class Finding:
    kind: str
    subject: str
    message: str
    severity: str = "warning"
    cluster: str | None = None
    job_id: int | None = None
    project: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.subject}"


@dataclass(frozen=True)
class JobView:
    job_id: int
    cluster: str
    project: str | None
    cpus: int
    gpus: int
    low_cpu_since: float | None
    gpu_idle_since: float | None
    last_rss_bytes: int | None
    mem_limit_bytes: int | None


def job_findings(jobs: Iterable[JobView], now: float, cfg: TelemetrySettings) -> list[Finding]:
    out = []
    for j in jobs:
        if j.low_cpu_since is not None and now - j.low_cpu_since >= cfg.hung_after_s:
            minutes = (now - j.low_cpu_since) / 60
            out.append(
                _job_finding(
                    "job_hung",
                    j,
                    f"has used almost no CPU for {minutes:.0f} min "
                    f"({j.cpus} CPUs allocated): likely hung",
                    low_cpu_since=j.low_cpu_since,
                    cpus=j.cpus,
                )
            )
        if (
            j.last_rss_bytes is not None
            and j.mem_limit_bytes
            and j.last_rss_bytes >= cfg.mem_fraction * j.mem_limit_bytes
        ):
            share = j.last_rss_bytes / j.mem_limit_bytes
            out.append(
                _job_finding(
                    "job_memory_high",
                    j,
                    f"uses {share:.0%} of its memory limit "
                    f"({j.last_rss_bytes / 2**30:.2f} of {j.mem_limit_bytes / 2**30:.2f} GiB)",
                    rss_bytes=j.last_rss_bytes,
                    mem_limit_bytes=j.mem_limit_bytes,
                )
            )
        if (
            j.gpus
            and j.gpu_idle_since is not None
            and now - j.gpu_idle_since >= cfg.gpu_idle_after_s
        ):
            out.append(
                _job_finding(
                    "job_gpu_idle",
                    j,
                    f"holds {j.gpus} GPUs that have been idle for "
                    f"{(now - j.gpu_idle_since) / 60:.0f} min",
                    gpus=j.gpus,
                    gpu_idle_since=j.gpu_idle_since,
                )
            )
    return out


def _job_finding(kind: str, j: JobView, what: str, **details: Any) -> Finding:
    return Finding(
        kind,
        str(j.job_id),
        f"job {j.job_id} on {j.cluster} {what}",
        cluster=j.cluster,
        job_id=j.job_id,
        project=j.project,
        details=details,
    )


@dataclass(frozen=True)
class FailureCounts:
    cluster: str
    recent_ended: int
    recent_failed: int
    usual_ended: int
    usual_failed: int


def failure_findings(counts: Iterable[FailureCounts], cfg: TelemetrySettings) -> list[Finding]:
    """Clusters whose recent failure rate is ``failure_ratio`` times their usual one."""
    out = []
    for c in counts:
        if c.recent_failed < cfg.failure_min_count or c.recent_ended == 0:
            continue
        recent = c.recent_failed / c.recent_ended
        # with no history, assume a usual rate of 5% rather than dividing by zero
        usual = c.usual_failed / c.usual_ended if c.usual_ended else 0.05
        if recent >= cfg.failure_ratio * max(usual, 0.01):
            out.append(
                Finding(
                    "cluster_failures",
                    c.cluster,
                    f"cluster {c.cluster}: {c.recent_failed} of {c.recent_ended} jobs failed "
                    f"in the last {cfg.failure_window_s / 3600:g} h "
                    f"({recent:.0%}; usually {usual:.0%})",
                    severity="critical",
                    cluster=c.cluster,
                    details={"recent_rate": recent, "usual_rate": usual},
                )
            )
    return out


def status_findings(
    rows: Iterable[CollectorStatusRow], errors: dict[str, int], cfg: TelemetrySettings
) -> list[Finding]:
    out = []
    for row in rows:
        if row.skew_s > cfg.skew_tolerance_s:
            out.append(
                Finding(
                    "cluster_clock_skew",
                    row.cluster,
                    f"cluster {row.cluster}'s clock is {row.skew_s:.0f} s ahead of the server's; "
                    "its sample times are clamped",
                    cluster=row.cluster,
                    details={"skew_s": row.skew_s},
                )
            )
        if errors.get(row.cluster, 0) >= cfg.collector_errors_alert:
            out.append(
                Finding(
                    "collector_failing",
                    row.cluster,
                    f"telemetry of cluster {row.cluster} failed {errors[row.cluster]} times "
                    f"in a row: {row.last_error}",
                    cluster=row.cluster,
                    details={"error": row.last_error},
                )
            )
    return out


def detect(
    session: Session, now: float, cfg: TelemetrySettings, errors: dict[str, int]
) -> list[Finding]:
    """Every finding now, from the store."""
    jobs = [
        JobView(
            st.job_id,
            st.cluster,
            project,
            st.cpus,
            st.gpus,
            st.low_cpu_since,
            st.gpu_idle_since,
            st.last_rss_bytes,
            st.mem_limit_bytes,
        )
        for st, project in session.execute(
            select(JobStatRow, JobRow.project)
            .join(JobRow, JobRow.id == JobStatRow.job_id, isouter=True)
            .where(JobStatRow.ended.is_(False))
        )
    ]
    findings = job_findings(jobs, now, cfg)
    findings += failure_findings(failure_counts(session, now, cfg), cfg)
    findings += status_findings(session.scalars(select(CollectorStatusRow)), errors, cfg)
    return findings


def failure_counts(session: Session, now: float, cfg: TelemetrySettings) -> list[FailureCounts]:
    t = UsageRecordRow
    recent_from = now - cfg.failure_window_s
    failed = case((t.state.in_(FAILED_STATES), 1), else_=0)
    recent = case((t.end_time >= recent_from, 1), else_=0)
    rows = session.execute(
        select(
            t.cluster,
            func.sum(recent),
            func.sum(recent * failed),
            func.count(),
            func.sum(failed),
        )
        .where(t.end_time >= now - cfg.failure_baseline_s)
        .group_by(t.cluster)
    )
    out = []
    for cluster, r_all, r_failed, all_, failed_all in rows:
        r_all, r_failed = int(r_all or 0), int(r_failed or 0)
        out.append(
            FailureCounts(
                cluster, r_all, r_failed, int(all_ or 0) - r_all, int(failed_all or 0) - r_failed
            )
        )
    return out


def sync_alerts(
    session: Session, findings: Sequence[Finding], now: float, kinds: Sequence[str] = DETECTED_KINDS
) -> list[AlertRow]:
    """Open alerts for new findings, refresh ongoing ones, resolve the rest of
    these kinds. Returns the newly opened alerts."""
    open_rows = {
        row.key: row
        for row in session.scalars(
            select(AlertRow).where(AlertRow.resolved_at.is_(None), AlertRow.kind.in_(list(kinds)))
        )
    }
    opened = []
    found = set()
    for f in findings:
        found.add(f.key)
        row = open_rows.get(f.key)
        if row is not None:
            row.last_seen, row.message, row.details = now, f.message, f.details
            continue
        row = AlertRow(
            kind=f.kind,
            key=f.key,
            severity=f.severity,
            cluster=f.cluster,
            project=f.project,
            job_id=f.job_id,
            message=f.message,
            details=f.details,
            first_seen=now,
            last_seen=now,
            notified=False,
        )
        session.add(row)
        opened.append(row)
    for key, row in open_rows.items():
        if key not in found:
            row.resolved_at = now
    session.flush()
    return opened


def alert_to_dict(row: AlertRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "severity": row.severity,
        "cluster": row.cluster,
        "project": row.project,
        "job_id": row.job_id,
        "message": row.message,
        "details": row.details,
        "first_seen": row.first_seen,
        "last_seen": row.last_seen,
        "resolved_at": row.resolved_at,
    }
