"""Transfer tables: sites, transfers, transfer_events.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "transfers",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("project", sa.String(64), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("dest", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("job_id", sa.String(64), nullable=True),
        sa.Column("direction", sa.String(16), nullable=True),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("bytes_total", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("bytes_sent", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("files", sa.Integer, nullable=False, server_default="0"),
        sa.Column("result", sa.JSON, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("ix_transfers_owner_created", "transfers", ["owner", "created_at"])
    op.create_index("ix_transfers_job", "transfers", ["job_id"])
    op.create_table(
        "transfer_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "transfer_id",
            sa.String(32),
            sa.ForeignKey(
                "transfers.id", ondelete="CASCADE", name="fk_transfer_events_transfer_id_transfers"
            ),
            nullable=False,
        ),
        sa.Column("time", sa.Float, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("bytes_sent", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_index("ix_transfer_events_transfer", "transfer_events", ["transfer_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_transfer_events_transfer", "transfer_events")
    op.drop_table("transfer_events")
    op.drop_index("ix_transfers_job", "transfers")
    op.drop_index("ix_transfers_owner_created", "transfers")
    op.drop_table("transfers")
    op.drop_table("sites")
