"""Tenancy: projects, memberships with roles, API tokens, cluster identities;
users gain a display name, email, password hash and a disabled flag.

Existing data is carried over: each user's token becomes a personal token
with every scope, and each project a user or a job names becomes a project,
with a ``member`` membership for the user (and for each job's owner).

The users table is rebuilt (SQLite cannot drop a column otherwise) before
the tables that point at it exist: rebuilding a parent table with foreign
keys on would delete its children's rows by cascade.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ALL_SCOPES = ["read", "submit", "manage"]


def upgrade() -> None:
    conn = op.get_bind()
    users = [
        (r.name, r.token_hash, r.project, r.created_at)
        for r in conn.execute(sa.text("SELECT name, token_hash, project, created_at FROM users"))
    ]
    job_projects = [
        (r.owner, r.project)
        for r in conn.execute(sa.text("SELECT DISTINCT owner, project FROM jobs"))
    ]
    with op.batch_alter_table("users") as batch:
        batch.alter_column(
            "project",
            new_column_name="default_project",
            existing_type=sa.String(64),
            existing_nullable=False,
            existing_server_default="default",
        )
        batch.drop_column("token_hash")
        batch.add_column(sa.Column("display_name", sa.String(256), nullable=True))
        batch.add_column(sa.Column("email", sa.String(256), nullable=True))
        batch.add_column(sa.Column("password_hash", sa.String(256), nullable=True))
        batch.add_column(
            sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false())
        )
    projects = op.create_table(
        "projects",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("clusters", sa.JSON, nullable=False),
        sa.Column("partitions", sa.JSON, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    memberships = op.create_table(
        "memberships",
        sa.Column(
            "username",
            sa.String(64),
            sa.ForeignKey("users.name", ondelete="CASCADE", name="fk_memberships_username_users"),
            primary_key=True,
        ),
        sa.Column(
            "project",
            sa.String(64),
            sa.ForeignKey(
                "projects.name", ondelete="CASCADE", name="fk_memberships_project_projects"
            ),
            primary_key=True,
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_memberships_project", "memberships", ["project"])
    tokens = op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "owner",
            sa.String(64),
            sa.ForeignKey("users.name", ondelete="CASCADE", name="fk_api_tokens_owner_users"),
            nullable=False,
        ),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=True),
        sa.Column("revoked_at", sa.Float, nullable=True),
        sa.Column("last_used_at", sa.Float, nullable=True),
    )
    op.create_index("ix_api_tokens_owner", "api_tokens", ["owner"])
    op.create_table(
        "cluster_identities",
        sa.Column("cluster", sa.String(64), primary_key=True),
        sa.Column(
            "project",
            sa.String(64),
            sa.ForeignKey(
                "projects.name", ondelete="CASCADE", name="fk_cluster_identities_project_projects"
            ),
            primary_key=True,
        ),
        sa.Column("unix_user", sa.String(64), nullable=True),
        sa.Column("ssh_key", sa.String(4096), nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
    )
    # managers and viewers list a project's jobs
    op.create_index("ix_jobs_project_id", "jobs", ["project", "id"])
    _carry_over(users, job_projects, projects, memberships, tokens)


def _carry_over(
    users: list[tuple[str, str, str, float]],
    job_projects: list[tuple[str, str]],
    projects: sa.Table,
    memberships: sa.Table,
    tokens: sa.Table,
) -> None:
    created = {name: at for name, _, _, at in users}
    first = min(created.values(), default=0.0)
    names = sorted({p for _, _, p, _ in users} | {p for _, p in job_projects})
    if names:
        op.bulk_insert(
            projects,
            [
                {
                    "name": n,
                    "description": None,
                    "clusters": [],
                    "partitions": [],
                    "created_at": first,
                }
                for n in names
            ],
        )
    pairs = {(u, p) for u, _, p, _ in users} | {(u, p) for u, p in job_projects if u in created}
    if pairs:
        op.bulk_insert(
            memberships,
            [
                {"username": u, "project": p, "role": "member", "created_at": created[u]}
                for u, p in sorted(pairs)
            ],
        )
    if users:
        op.bulk_insert(
            tokens,
            [
                {
                    "owner": name,
                    "name": "default",
                    "kind": "personal",
                    "token_hash": token_hash,
                    "scopes": ALL_SCOPES,
                    "created_at": at,
                    "expires_at": None,
                    "revoked_at": None,
                    "last_used_at": None,
                }
                for name, token_hash, _, at in users
            ],
        )


def downgrade() -> None:
    conn = op.get_bind()
    hashes = {
        r.owner: r.token_hash
        for r in conn.execute(
            sa.text(
                "SELECT owner, token_hash FROM api_tokens WHERE kind = 'personal' "
                "AND revoked_at IS NULL ORDER BY id"
            )
        )
    }
    op.drop_index("ix_jobs_project_id", "jobs")
    op.drop_table("cluster_identities")
    op.drop_index("ix_api_tokens_owner", "api_tokens")
    op.drop_table("api_tokens")
    op.drop_index("ix_memberships_project", "memberships")
    op.drop_table("memberships")
    op.drop_table("projects")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("disabled")
        batch.drop_column("password_hash")
        batch.drop_column("email")
        batch.drop_column("display_name")
        batch.add_column(sa.Column("token_hash", sa.String(64), nullable=True))
        batch.alter_column(
            "default_project",
            new_column_name="project",
            existing_type=sa.String(64),
            existing_nullable=False,
        )
    for owner, token_hash in hashes.items():
        conn.execute(
            sa.text("UPDATE users SET token_hash = :h WHERE name = :n"),
            {"h": token_hash, "n": owner},
        )
