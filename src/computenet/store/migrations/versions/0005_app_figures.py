"""Application catalogue: the performance figure of each catalogue run.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_figures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("attempt_id", sa.Integer, nullable=False),
        sa.Column("job_id", sa.Integer, nullable=False),
        sa.Column("app", sa.String(40), nullable=False),
        sa.Column("app_version", sa.String(64), nullable=False),
        sa.Column("cluster", sa.String(64), nullable=False),
        sa.Column("partition", sa.String(64), nullable=False),
        sa.Column("nodes", sa.Integer, nullable=False),
        sa.Column("cpus", sa.Integer, nullable=False),
        sa.Column("gpus", sa.Integer, nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("higher_is_better", sa.Boolean, nullable=False),
        sa.Column("per", sa.String(8), nullable=False),
        sa.Column("line", sa.Text, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("elapsed_s", sa.Float, nullable=True),
        sa.Column("requested_s", sa.Float, nullable=True),
        sa.Column("recorded_at", sa.Float, nullable=False),
    )
    op.create_index("ux_app_figures_attempt", "app_figures", ["attempt_id"], unique=True)
    op.create_index("ix_app_figures_job", "app_figures", ["job_id"])
    op.create_index("ix_app_figures_app_cluster", "app_figures", ["app", "cluster", "recorded_at"])


def downgrade() -> None:
    op.drop_table("app_figures")
