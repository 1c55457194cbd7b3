"""Benchmark runs: bench_runs (HPL and STREAM jobs and their settled figures).

Revision ID: 0010
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bench_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("benchmark", sa.String(16), nullable=False),
        sa.Column("job_id", sa.Integer, nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("requested_cluster", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("submitted_at", sa.Float, nullable=False),
        sa.Column("finished_at", sa.Float, nullable=True),
        sa.Column("cluster", sa.String(64), nullable=True),
        sa.Column("partition", sa.String(64), nullable=True),
        sa.Column("node_type", sa.Text, nullable=True),
        sa.Column("nodes", sa.Integer, nullable=True),
        sa.Column("cpus", sa.Integer, nullable=True),
        sa.Column("value", sa.Float, nullable=True),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("peak_gflops", sa.Float, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ux_bench_runs_job", "bench_runs", ["job_id"], unique=True)
    op.create_index("ix_bench_runs_state", "bench_runs", ["state"])
    op.create_index(
        "ix_bench_runs_where", "bench_runs", ["cluster", "partition", "benchmark", "finished_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_bench_runs_where", table_name="bench_runs")
    op.drop_index("ix_bench_runs_state", table_name="bench_runs")
    op.drop_index("ux_bench_runs_job", table_name="bench_runs")
    op.drop_table("bench_runs")
