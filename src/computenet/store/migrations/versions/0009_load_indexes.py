"""Indexes found missing under load: a user's active jobs.

``cnet ls`` (a user's jobs that have not ended) read every job the user ever
had through ``ix_jobs_owner_id`` and kept the few still active: 11 ms for
1,000 jobs, growing with the history. A partial index over active jobs only
answers it from the handful that are (0.03 ms, whatever the history).

Revision ID: 0009
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

#: the states of ``JobState`` that are not terminal, in its order: the
#: listing's filter has to spell this list exactly for the index to apply
ACTIVE = ("PENDING", "STAGING_IN", "QUEUED", "RUNNING", "STAGING_OUT")


def upgrade() -> None:
    where = sa.text("state IN (" + ", ".join(f"'{s}'" for s in ACTIVE) + ")")
    op.create_index(
        "ix_jobs_active_owner",
        "jobs",
        ["owner", "id"],
        sqlite_where=where,
        postgresql_where=where,
    )


def downgrade() -> None:
    op.drop_index("ix_jobs_active_owner", table_name="jobs")
