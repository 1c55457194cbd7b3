"""Telemetry tables: node, partition and job samples, per-job running stats,
per-cluster collector status, and alerts.

Raw samples are kept for a short time; partition samples are rolled up into
minute and hour rows (``resolution_s`` 60 and 3600, values summed over the
samples so a mean is ``value / samples``) that are kept much longer.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from computenet.store.base import Base


class NodeSampleRow(Base):
    __tablename__ = "telemetry_node_samples"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    time: Mapped[float] = mapped_column(Float)
    cluster: Mapped[str] = mapped_column(String(64))
    partition: Mapped[str] = mapped_column(String(64))
    node: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16))
    cpus: Mapped[int] = mapped_column(Integer)
    cpus_alloc: Mapped[int] = mapped_column(Integer)
    gpus: Mapped[int] = mapped_column(Integer, default=0)
    gpus_alloc: Mapped[int] = mapped_column(Integer, default=0)
    mem_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    mem_alloc_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    load: Mapped[float | None] = mapped_column(Float, nullable=True)

    __table_args__ = (Index("ix_node_samples_time", "time"),)


class PartitionSampleRow(Base):
    __tablename__ = "telemetry_partition_samples"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resolution_s: Mapped[int] = mapped_column(Integer)  # 0 = raw, 60, 3600
    time: Mapped[float] = mapped_column(Float)  # sample time, or bucket start
    cluster: Mapped[str] = mapped_column(String(64))
    partition: Mapped[str] = mapped_column(String(64))
    samples: Mapped[int] = mapped_column(Integer, default=1)
    nodes: Mapped[int] = mapped_column(Integer, default=0)
    nodes_down: Mapped[int] = mapped_column(Integer, default=0)
    cpus: Mapped[int] = mapped_column(BigInteger, default=0)
    cpus_alloc: Mapped[int] = mapped_column(BigInteger, default=0)
    gpus: Mapped[int] = mapped_column(BigInteger, default=0)
    gpus_alloc: Mapped[int] = mapped_column(BigInteger, default=0)
    jobs_running: Mapped[int] = mapped_column(BigInteger, default=0)
    jobs_pending: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (
        Index("ix_partition_samples_key", "resolution_s", "time", "cluster", "partition"),
    )


class JobSampleRow(Base):
    __tablename__ = "telemetry_job_samples"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    time: Mapped[float] = mapped_column(Float)
    job_id: Mapped[int] = mapped_column(Integer)
    cluster: Mapped[str] = mapped_column(String(64))
    cpus: Mapped[int] = mapped_column(Integer, default=0)
    cpu_time_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    cpu_rate: Mapped[float | None] = mapped_column(Float, nullable=True)  # CPUs busy since last
    rss_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    mem_limit_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    threads: Mapped[int | None] = mapped_column(Integer, nullable=True)
    read_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    write_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    gpus: Mapped[int] = mapped_column(Integer, default=0)
    gpu_util: Mapped[float | None] = mapped_column(Float, nullable=True)  # 0..1

    # Only the time index (for retention): per-job history is read from
    # telemetry_job_stats, and a second index would cost a quarter of ingest.
    __table_args__ = (Index("ix_job_samples_time", "time"),)


class JobStatRow(Base):
    """What samples have shown of one running (or recently ended) job."""

    __tablename__ = "telemetry_job_stats"
    job_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    cluster: Mapped[str] = mapped_column(String(64))
    native_id: Mapped[str] = mapped_column(String(64))
    first_time: Mapped[float] = mapped_column(Float)
    last_time: Mapped[float] = mapped_column(Float)
    samples: Mapped[int] = mapped_column(Integer, default=0)
    cpus: Mapped[int] = mapped_column(Integer, default=0)
    cpu_time_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_cpu_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    peak_rss_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_rss_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    mem_limit_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    peak_threads: Mapped[int | None] = mapped_column(Integer, nullable=True)
    gpus: Mapped[int] = mapped_column(Integer, default=0)
    low_cpu_since: Mapped[float | None] = mapped_column(Float, nullable=True)
    gpu_idle_since: Mapped[float | None] = mapped_column(Float, nullable=True)
    ended: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_job_stats_ended", "ended"),)


class CollectorStatusRow(Base):
    __tablename__ = "telemetry_clusters"
    cluster: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_ok: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    errors: Mapped[int] = mapped_column(BigInteger, default=0)
    skew_s: Mapped[float] = mapped_column(Float, default=0.0)  # cluster clock minus ours
    cpus: Mapped[int] = mapped_column(Integer, default=0)
    cpus_alloc: Mapped[int] = mapped_column(Integer, default=0)
    gpus: Mapped[int] = mapped_column(Integer, default=0)
    gpus_alloc: Mapped[int] = mapped_column(Integer, default=0)
    nodes_down: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[float] = mapped_column(Float, default=0.0)


class AlertRow(Base):
    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))  # kind:subject, one open alert per key
    severity: Mapped[str] = mapped_column(String(16), default="warning")
    cluster: Mapped[str | None] = mapped_column(String(64), nullable=True)
    project: Mapped[str | None] = mapped_column(String(64), nullable=True)
    job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, object]] = mapped_column(JSON)
    first_seen: Mapped[float] = mapped_column(Float)
    last_seen: Mapped[float] = mapped_column(Float)
    resolved_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    notified: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        Index("ix_alerts_key_open", "key", "resolved_at"),
        Index("ix_alerts_open", "resolved_at"),
    )
