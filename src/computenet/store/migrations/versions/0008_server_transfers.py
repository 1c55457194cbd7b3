"""Server-run transfers: who runs a copy, its progress, cancel requests, its manifest.

Revision ID: 0008
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transfers") as batch:
        batch.add_column(sa.Column("runner", sa.String(160), nullable=True))
        batch.add_column(sa.Column("bytes_done", sa.BigInteger, nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("manifest", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transfers") as batch:
        batch.drop_column("manifest")
        batch.drop_column("cancel_requested")
        batch.drop_column("bytes_done")
        batch.drop_column("runner")
