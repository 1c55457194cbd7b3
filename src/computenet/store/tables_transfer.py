"""Transfer tables: sites, transfers and their append-only events.

Times are UTC seconds since the epoch. A transfer's row holds its current
state and counters; ``transfer_events`` records every state change and
progress report.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from computenet.store.base import Base

TRANSFER_STATES = ("running", "completed", "failed", "cancelled")


class SiteRow(Base):
    __tablename__ = "sites"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # agent | path | sftp
    config: Mapped[dict[str, object]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)


class TransferRow(Base):
    __tablename__ = "transfers"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    project: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    dest: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    job_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    direction: Mapped[str | None] = mapped_column(String(16), nullable=True)  # in | out
    options: Mapped[dict[str, object]] = mapped_column(JSON)
    bytes_total: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_sent: Mapped[int] = mapped_column(BigInteger, default=0)
    files: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    #: "server:HOST:PID" when a server carries the copy out (None: the client did,
    #: and reports)
    runner: Mapped[str | None] = mapped_column(String(160), nullable=True)
    #: bytes done so far, skipped files included (progress, not what crossed)
    bytes_done: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: the chunks that passed their check, per destination file: {path: {index: digest}}
    manifest: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True)

    __table_args__ = (
        Index("ix_transfers_owner_created", "owner", "created_at"),
        Index("ix_transfers_job", "job_id"),
    )


class TransferEventRow(Base):
    __tablename__ = "transfer_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    transfer_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("transfers.id", ondelete="CASCADE")
    )
    time: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    bytes_sent: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (Index("ix_transfer_events_transfer", "transfer_id", "id"),)
