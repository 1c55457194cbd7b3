"""Application catalogue tables: the performance figure of each catalogue run.

One row per completed attempt of a catalogue job (key: the attempt's id, so
a figure is never recorded twice). ``value`` is NULL when the run's output
held no figure; ``note`` then says why. The allocation columns are what the
figure is normalised by when runs of different sizes are compared.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from computenet.store.base import Base


class AppFigureRow(Base):
    __tablename__ = "app_figures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    attempt_id: Mapped[int] = mapped_column(Integer)
    job_id: Mapped[int] = mapped_column(Integer)
    app: Mapped[str] = mapped_column(String(40))
    app_version: Mapped[str] = mapped_column(String(64))
    cluster: Mapped[str] = mapped_column(String(64))
    partition: Mapped[str] = mapped_column(String(64))
    nodes: Mapped[int] = mapped_column(Integer)
    cpus: Mapped[int] = mapped_column(Integer)
    gpus: Mapped[int] = mapped_column(Integer, default=0)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    unit: Mapped[str] = mapped_column(String(32))
    higher_is_better: Mapped[bool] = mapped_column(Boolean)
    per: Mapped[str] = mapped_column(String(8))  # cpu | gpu | node
    line: Mapped[str | None] = mapped_column(Text, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    elapsed_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    requested_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    recorded_at: Mapped[float] = mapped_column(Float)

    __table_args__ = (
        Index("ux_app_figures_attempt", "attempt_id", unique=True),
        Index("ix_app_figures_job", "job_id"),
        Index("ix_app_figures_app_cluster", "app", "cluster", "recorded_at"),
    )
