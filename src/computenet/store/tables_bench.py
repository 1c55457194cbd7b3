"""Benchmark runs: HPL and STREAM jobs submitted by ``cnet bench run``.

One row per run, written at submission (``state`` ``submitted``) and settled
once its job ends: ``completed`` with the figure, where it ran (partition,
node type, nodes, CPUs) and the allocation's derived peak, or ``failed``
with ``error`` saying why, and no value. A failed run never has a number.
"""

from __future__ import annotations

from sqlalchemy import Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from computenet.store.base import Base


class BenchRunRow(Base):
    __tablename__ = "bench_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    benchmark: Mapped[str] = mapped_column(String(16))  # hpl | stream
    job_id: Mapped[int] = mapped_column(Integer)
    owner: Mapped[str] = mapped_column(String(64))
    requested_cluster: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(16))  # submitted | completed | failed
    submitted_at: Mapped[float] = mapped_column(Float)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    cluster: Mapped[str | None] = mapped_column(String(64), nullable=True)
    partition: Mapped[str | None] = mapped_column(String(64), nullable=True)
    node_type: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON
    nodes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cpus: Mapped[int | None] = mapped_column(Integer, nullable=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    unit: Mapped[str] = mapped_column(String(32))
    peak_gflops: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        Index("ux_bench_runs_job", "job_id", unique=True),
        Index("ix_bench_runs_state", "state"),
        Index("ix_bench_runs_where", "cluster", "partition", "benchmark", "finished_at"),
    )
