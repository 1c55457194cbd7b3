"""Pool tables: the nodes pools grew (one row per node lifetime) and pool events.

A ``pool_nodes`` row lives from the request (``requested_at``) to the
release (``released_at``); its cost is ``price_per_node_hour`` over that
span, so the cost so far of a live node is known at any time. A node name
may come back later as a new row. ``pool_events`` is append-only.
"""

from __future__ import annotations

from sqlalchemy import JSON, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from computenet.store.base import Base

#: booting (asked for), up (running jobs or idle), released (gone), failed (never came up)
NODE_STATES = ("booting", "up", "released", "failed")
LIVE_NODE_STATES = ("booting", "up")


class PoolNodeRow(Base):
    __tablename__ = "pool_nodes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pool: Mapped[str] = mapped_column(String(64))
    cluster: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str | None] = mapped_column(String(256), nullable=True)
    price_per_node_hour: Mapped[float] = mapped_column(Float, default=0.0)
    requested_at: Mapped[float] = mapped_column(Float)
    up_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    idle_since: Mapped[float | None] = mapped_column(Float, nullable=True)
    released_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)  # why it grew
    end_reason: Mapped[str | None] = mapped_column(Text, nullable=True)  # why it went

    __table_args__ = (
        Index("ix_pool_nodes_pool_state", "pool", "state"),
        Index("ix_pool_nodes_released", "released_at"),
    )

    def cost(self, now: float) -> float:
        end = self.released_at if self.released_at is not None else now
        return self.price_per_node_hour * max(0.0, end - self.requested_at) / 3600.0


class PoolEventRow(Base):
    __tablename__ = "pool_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    time: Mapped[float] = mapped_column(Float)
    pool: Mapped[str] = mapped_column(String(64))
    cluster: Mapped[str] = mapped_column(String(64))
    node: Mapped[str | None] = mapped_column(String(128), nullable=True)
    # grow | up | release | failed | refused | warning | resume | suspend
    kind: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True)

    __table_args__ = (Index("ix_pool_events_pool_time", "pool", "time"),)
