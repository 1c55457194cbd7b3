"""Pool tables: pool_nodes, pool_events.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pool_nodes",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pool", sa.String(64), nullable=False),
        sa.Column("cluster", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("provider_id", sa.String(256), nullable=True),
        sa.Column("price_per_node_hour", sa.Float, nullable=False),
        sa.Column("requested_at", sa.Float, nullable=False),
        sa.Column("up_at", sa.Float, nullable=True),
        sa.Column("idle_since", sa.Float, nullable=True),
        sa.Column("released_at", sa.Float, nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("end_reason", sa.Text, nullable=True),
    )
    op.create_index("ix_pool_nodes_pool_state", "pool_nodes", ["pool", "state"])
    op.create_index("ix_pool_nodes_released", "pool_nodes", ["released_at"])
    op.create_table(
        "pool_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("time", sa.Float, nullable=False),
        sa.Column("pool", sa.String(64), nullable=False),
        sa.Column("cluster", sa.String(64), nullable=False),
        sa.Column("node", sa.String(128), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("details", sa.JSON, nullable=True),
    )
    op.create_index("ix_pool_events_pool_time", "pool_events", ["pool", "time"])


def downgrade() -> None:
    op.drop_index("ix_pool_events_pool_time", "pool_events")
    op.drop_table("pool_events")
    op.drop_index("ix_pool_nodes_released", "pool_nodes")
    op.drop_index("ix_pool_nodes_pool_state", "pool_nodes")
    op.drop_table("pool_nodes")
