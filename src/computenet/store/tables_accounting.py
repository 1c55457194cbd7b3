"""Accounting tables: usage records, daily roll-ups, wait buckets, budgets,
budget reservations and quotas.

``usage_records`` has one row per ended attempt (key: the attempt's id), so
writing it twice is impossible. ``usage_daily`` splits each record's running
time over UTC days and is what reports and statements read. A budget row
holds counters (``spent`` in the current period, ``reserved`` by admitted jobs
not yet accounted) that are only changed by single conditional UPDATEs, so
two servers sharing a database cannot both spend the last of a budget.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from computenet.store.base import Base


class UsageRecordRow(Base):
    __tablename__ = "usage_records"
    attempt_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    job_id: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer)
    display_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(256))
    owner: Mapped[str] = mapped_column(String(64))
    project: Mapped[str] = mapped_column(String(64))
    cluster: Mapped[str] = mapped_column(String(64))
    partition: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    exit_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    submit_time: Mapped[float] = mapped_column(Float)
    start_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    end_time: Mapped[float] = mapped_column(Float)
    elapsed_s: Mapped[float] = mapped_column(Float)
    wait_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    cpus: Mapped[int] = mapped_column(Integer)
    gpus: Mapped[int] = mapped_column(Integer, default=0)
    nodes: Mapped[int] = mapped_column(Integer, default=1)
    mem_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    core_seconds: Mapped[float] = mapped_column(Float)
    gpu_seconds: Mapped[float] = mapped_column(Float)
    cpu_time_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_rss_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    price_per_core_hour: Mapped[float] = mapped_column(Float, default=0.0)
    price_per_gpu_hour: Mapped[float] = mapped_column(Float, default=0.0)
    cost: Mapped[float] = mapped_column(Float, default=0.0)

    __table_args__ = (
        Index("ix_usage_records_end", "end_time"),
        Index("ix_usage_records_project_end", "project", "end_time"),
        Index("ix_usage_records_job", "job_id"),
    )


class UsageDailyRow(Base):
    __tablename__ = "usage_daily"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD, UTC
    cluster: Mapped[str] = mapped_column(String(64))
    partition: Mapped[str] = mapped_column(String(64))
    project: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(64))
    core_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    gpu_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    cost: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # attempts that ended this day

    __table_args__ = (
        Index("ux_usage_daily_key", "day", "cluster", "partition", "project", "owner", unique=True),
    )


class WaitBucketRow(Base):
    """Queue-wait histogram of started attempts, by cluster (for /metrics)."""

    __tablename__ = "wait_buckets"
    cluster: Mapped[str] = mapped_column(String(64), primary_key=True)
    bucket: Mapped[int] = mapped_column(Integer, primary_key=True)  # index into WAIT_BUCKETS_S
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    sum_s: Mapped[float] = mapped_column(Float, default=0.0)


class BudgetRow(Base):
    __tablename__ = "budgets"
    project: Mapped[str] = mapped_column(String(64), primary_key=True)
    amount: Mapped[float] = mapped_column(Float)
    hard: Mapped[bool] = mapped_column(Boolean, default=True)
    period: Mapped[str] = mapped_column(String(16), default="month")  # month | total
    period_start: Mapped[float] = mapped_column(Float, default=0.0)
    spent: Mapped[float] = mapped_column(Float, default=0.0)
    reserved: Mapped[float] = mapped_column(Float, default=0.0)
    warned_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[float] = mapped_column(Float)
    updated_by: Mapped[str] = mapped_column(String(64))


class ReservationRow(Base):
    """The estimated cost of an admitted job, held against its project's budget."""

    __tablename__ = "budget_reservations"
    job_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    project: Mapped[str] = mapped_column(String(64))
    amount: Mapped[float] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float)


class QuotaRow(Base):
    """Limits on what a project or user may hold at clusters at once."""

    __tablename__ = "quotas"
    scope: Mapped[str] = mapped_column(String(16), primary_key=True)  # project | user
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    max_running_cpus: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_running_gpus: Mapped[int | None] = mapped_column(Integer, nullable=True)
    updated_at: Mapped[float] = mapped_column(Float)
