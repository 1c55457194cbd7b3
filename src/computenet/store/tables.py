"""Core tables: clusters, jobs, attempts, job_events, leases, network.

Times are UTC seconds since the epoch (float). ``jobs.version`` is bumped on
every change and used for compare-and-set; ``job_events`` is append-only.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from computenet.store.base import Base

#: the states that are not terminal (``JobState``'s order), as SQL
ACTIVE_STATES_SQL = "state IN ('PENDING', 'STAGING_IN', 'QUEUED', 'RUNNING', 'STAGING_OUT')"


class ClusterRow(Base):
    __tablename__ = "clusters"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    config: Mapped[dict[str, object]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(16), default="config")  # config | api
    health: Mapped[str] = mapped_column(String(16), default="UP")
    health_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[float] = mapped_column(Float, default=0.0)


class JobRow(Base):
    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(String(64))
    project: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(256))
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    spec: Mapped[dict[str, object]] = mapped_column(JSON)
    # The request's sizes and notes, kept beside the full spec so that listing
    # thousands of jobs does not decode every spec (see store.job_dicts.summarize).
    summary: Mapped[dict[str, object]] = mapped_column(JSON)
    submit_time: Mapped[float] = mapped_column(Float)
    start_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    end_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    exit_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    cluster: Mapped[str | None] = mapped_column(String(64), nullable=True)
    partition: Mapped[str | None] = mapped_column(String(64), nullable=True)
    array_job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    array_task_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    placement: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True)
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        Index("ix_jobs_owner_id", "owner", "id"),
        Index("ix_jobs_project_id", "project", "id"),
        Index("ix_jobs_state", "state"),
        Index("ix_jobs_array", "array_job_id"),
        # A user's active jobs (``cnet ls``), without reading their history;
        # queries name the states as literals, in this order (migration 0009).
        Index(
            "ix_jobs_active_owner",
            "owner",
            "id",
            sqlite_where=text(ACTIVE_STATES_SQL),
            postgresql_where=text(ACTIVE_STATES_SQL),
        ),
    )


class AttemptRow(Base):
    __tablename__ = "attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    cluster: Mapped[str] = mapped_column(String(64))
    partition: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tag: Mapped[str] = mapped_column(String(128))
    native_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    submit_time: Mapped[float] = mapped_column(Float)
    start_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    end_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    exit_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    predicted_start: Mapped[float | None] = mapped_column(Float, nullable=True)
    predicted_end: Mapped[float | None] = mapped_column(Float, nullable=True)
    usage: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True)
    node_list: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        Index("ix_attempts_job_number", "job_id", "number", unique=True),
        Index("ix_attempts_state", "state"),
    )


class JobEventRow(Base):
    __tablename__ = "job_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    time: Mapped[float] = mapped_column(Float)
    from_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempt: Mapped[int | None] = mapped_column(Integer, nullable=True)


class LeaseRow(Base):
    """A named lease: one server at a time runs the controller on a shared database."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(256))
    expires_at: Mapped[float] = mapped_column(Float)


class NetworkRow(Base):
    """This database's network: one row, made once, whose id goes into every
    attempt tag so two networks sharing a cluster never adopt each other's jobs."""

    __tablename__ = "network"
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # always 1
    id: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[float] = mapped_column(Float)
