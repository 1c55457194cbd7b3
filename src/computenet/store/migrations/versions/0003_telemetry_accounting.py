"""Telemetry and accounting tables: samples, job stats, alerts, usage
records, daily usage, wait buckets, budgets, reservations and quotas.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_records",
        sa.Column("attempt_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("job_id", sa.Integer, nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("display_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("cluster", sa.String(64), nullable=False),
        sa.Column("partition", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("exit_code", sa.String(16), nullable=True),
        sa.Column("submit_time", sa.Float, nullable=False),
        sa.Column("start_time", sa.Float, nullable=True),
        sa.Column("end_time", sa.Float, nullable=False),
        sa.Column("elapsed_s", sa.Float, nullable=False),
        sa.Column("wait_s", sa.Float, nullable=True),
        sa.Column("cpus", sa.Integer, nullable=False),
        sa.Column("gpus", sa.Integer, nullable=False),
        sa.Column("nodes", sa.Integer, nullable=False),
        sa.Column("mem_bytes", sa.BigInteger, nullable=False),
        sa.Column("core_seconds", sa.Float, nullable=False),
        sa.Column("gpu_seconds", sa.Float, nullable=False),
        sa.Column("cpu_time_s", sa.Float, nullable=True),
        sa.Column("max_rss_bytes", sa.BigInteger, nullable=True),
        sa.Column("price_per_core_hour", sa.Float, nullable=False),
        sa.Column("price_per_gpu_hour", sa.Float, nullable=False),
        sa.Column("cost", sa.Float, nullable=False),
    )
    op.create_index("ix_usage_records_end", "usage_records", ["end_time"])
    op.create_index("ix_usage_records_job", "usage_records", ["job_id"])
    op.create_index("ix_usage_records_project_end", "usage_records", ["project", "end_time"])
    op.create_table(
        "usage_daily",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("cluster", sa.String(64), nullable=False),
        sa.Column("partition", sa.String(64), nullable=False),
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("core_seconds", sa.Float, nullable=False),
        sa.Column("gpu_seconds", sa.Float, nullable=False),
        sa.Column("cost", sa.Float, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
    )
    op.create_index(
        "ux_usage_daily_key",
        "usage_daily",
        ["day", "cluster", "partition", "project", "owner"],
        unique=True,
    )
    op.create_table(
        "wait_buckets",
        sa.Column("cluster", sa.String(64), primary_key=True),
        sa.Column("bucket", sa.Integer, primary_key=True),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("sum_s", sa.Float, nullable=False),
    )
    op.create_table(
        "budgets",
        sa.Column("project", sa.String(64), primary_key=True),
        sa.Column("amount", sa.Float, nullable=False),
        sa.Column("hard", sa.Boolean, nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("period_start", sa.Float, nullable=False),
        sa.Column("spent", sa.Float, nullable=False),
        sa.Column("reserved", sa.Float, nullable=False),
        sa.Column("warned_at", sa.Float, nullable=True),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
    )
    op.create_table(
        "budget_reservations",
        sa.Column("job_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("amount", sa.Float, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "quotas",
        sa.Column("scope", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("max_running_cpus", sa.Integer, nullable=True),
        sa.Column("max_running_gpus", sa.Integer, nullable=True),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "telemetry_node_samples",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("time", sa.Float, nullable=False),
        sa.Column("cluster", sa.String(64), nullable=False),
        sa.Column("partition", sa.String(64), nullable=False),
        sa.Column("node", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("cpus", sa.Integer, nullable=False),
        sa.Column("cpus_alloc", sa.Integer, nullable=False),
        sa.Column("gpus", sa.Integer, nullable=False),
        sa.Column("gpus_alloc", sa.Integer, nullable=False),
        sa.Column("mem_bytes", sa.BigInteger, nullable=False),
        sa.Column("mem_alloc_bytes", sa.BigInteger, nullable=False),
        sa.Column("load", sa.Float, nullable=True),
    )
    op.create_index("ix_node_samples_time", "telemetry_node_samples", ["time"])
    op.create_table(
        "telemetry_partition_samples",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("resolution_s", sa.Integer, nullable=False),
        sa.Column("time", sa.Float, nullable=False),
        sa.Column("cluster", sa.String(64), nullable=False),
        sa.Column("partition", sa.String(64), nullable=False),
        sa.Column("samples", sa.Integer, nullable=False),
        sa.Column("nodes", sa.Integer, nullable=False),
        sa.Column("nodes_down", sa.Integer, nullable=False),
        sa.Column("cpus", sa.BigInteger, nullable=False),
        sa.Column("cpus_alloc", sa.BigInteger, nullable=False),
        sa.Column("gpus", sa.BigInteger, nullable=False),
        sa.Column("gpus_alloc", sa.BigInteger, nullable=False),
        sa.Column("jobs_running", sa.BigInteger, nullable=False),
        sa.Column("jobs_pending", sa.BigInteger, nullable=False),
    )
    op.create_index(
        "ix_partition_samples_key",
        "telemetry_partition_samples",
        ["resolution_s", "time", "cluster", "partition"],
    )
    op.create_table(
        "telemetry_job_samples",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("time", sa.Float, nullable=False),
        sa.Column("job_id", sa.Integer, nullable=False),
        sa.Column("cluster", sa.String(64), nullable=False),
        sa.Column("cpus", sa.Integer, nullable=False),
        sa.Column("cpu_time_s", sa.Float, nullable=True),
        sa.Column("cpu_rate", sa.Float, nullable=True),
        sa.Column("rss_bytes", sa.BigInteger, nullable=True),
        sa.Column("mem_limit_bytes", sa.BigInteger, nullable=True),
        sa.Column("threads", sa.Integer, nullable=True),
        sa.Column("read_bytes", sa.BigInteger, nullable=True),
        sa.Column("write_bytes", sa.BigInteger, nullable=True),
        sa.Column("gpus", sa.Integer, nullable=False),
        sa.Column("gpu_util", sa.Float, nullable=True),
    )
    op.create_index("ix_job_samples_time", "telemetry_job_samples", ["time"])
    op.create_table(
        "telemetry_job_stats",
        sa.Column("job_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("cluster", sa.String(64), nullable=False),
        sa.Column("native_id", sa.String(64), nullable=False),
        sa.Column("first_time", sa.Float, nullable=False),
        sa.Column("last_time", sa.Float, nullable=False),
        sa.Column("samples", sa.Integer, nullable=False),
        sa.Column("cpus", sa.Integer, nullable=False),
        sa.Column("cpu_time_s", sa.Float, nullable=True),
        sa.Column("last_cpu_rate", sa.Float, nullable=True),
        sa.Column("peak_rss_bytes", sa.BigInteger, nullable=True),
        sa.Column("last_rss_bytes", sa.BigInteger, nullable=True),
        sa.Column("mem_limit_bytes", sa.BigInteger, nullable=True),
        sa.Column("peak_threads", sa.Integer, nullable=True),
        sa.Column("gpus", sa.Integer, nullable=False),
        sa.Column("low_cpu_since", sa.Float, nullable=True),
        sa.Column("gpu_idle_since", sa.Float, nullable=True),
        sa.Column("ended", sa.Boolean, nullable=False),
    )
    op.create_index("ix_job_stats_ended", "telemetry_job_stats", ["ended"])
    op.create_table(
        "telemetry_clusters",
        sa.Column("cluster", sa.String(64), primary_key=True),
        sa.Column("last_ok", sa.Float, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("errors", sa.BigInteger, nullable=False),
        sa.Column("skew_s", sa.Float, nullable=False),
        sa.Column("cpus", sa.Integer, nullable=False),
        sa.Column("cpus_alloc", sa.Integer, nullable=False),
        sa.Column("gpus", sa.Integer, nullable=False),
        sa.Column("gpus_alloc", sa.Integer, nullable=False),
        sa.Column("nodes_down", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("cluster", sa.String(64), nullable=True),
        sa.Column("project", sa.String(64), nullable=True),
        sa.Column("job_id", sa.Integer, nullable=True),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("first_seen", sa.Float, nullable=False),
        sa.Column("last_seen", sa.Float, nullable=False),
        sa.Column("resolved_at", sa.Float, nullable=True),
        sa.Column("notified", sa.Boolean, nullable=False),
    )
    op.create_index("ix_alerts_key_open", "alerts", ["key", "resolved_at"])
    op.create_index("ix_alerts_open", "alerts", ["resolved_at"])


def downgrade() -> None:
    op.drop_index("ix_alerts_key_open", "alerts")
    op.drop_index("ix_alerts_open", "alerts")
    op.drop_table("alerts")
    op.drop_table("telemetry_clusters")
    op.drop_index("ix_job_stats_ended", "telemetry_job_stats")
    op.drop_table("telemetry_job_stats")
    op.drop_index("ix_job_samples_time", "telemetry_job_samples")
    op.drop_table("telemetry_job_samples")
    op.drop_index("ix_partition_samples_key", "telemetry_partition_samples")
    op.drop_table("telemetry_partition_samples")
    op.drop_index("ix_node_samples_time", "telemetry_node_samples")
    op.drop_table("telemetry_node_samples")
    op.drop_table("quotas")
    op.drop_table("budget_reservations")
    op.drop_table("budgets")
    op.drop_table("wait_buckets")
    op.drop_index("ux_usage_daily_key", "usage_daily")
    op.drop_table("usage_daily")
    op.drop_index("ix_usage_records_end", "usage_records")
    op.drop_index("ix_usage_records_job", "usage_records")
    op.drop_index("ix_usage_records_project_end", "usage_records")
    op.drop_table("usage_records")
