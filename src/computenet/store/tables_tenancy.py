"""Tenancy tables: users, projects, memberships, API tokens, cluster identities.

A token row keeps only the SHA-256 of the token (tokens are 256-bit random
strings, so a fast hash is enough); passwords are argon2 hashes. A project
lists the clusters and partitions it may use (empty: all). An identity row
says which Unix account and/or SSH key submits for a project at a cluster;
identities from the configuration file are not stored here.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from computenet.store.base import Base


class UserRow(Base):
    __tablename__ = "users"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str | None] = mapped_column(String(256), nullable=True)
    email: Mapped[str | None] = mapped_column(String(256), nullable=True)
    password_hash: Mapped[str | None] = mapped_column(String(256), nullable=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    default_project: Mapped[str] = mapped_column(String(64), default="default")
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float)


class ProjectRow(Base):
    __tablename__ = "projects"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    description: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: cluster names it may use; [] = every cluster
    clusters: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: "cluster:partition" it may use; a cluster named here is limited to these
    partitions: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[float] = mapped_column(Float)


class MembershipRow(Base):
    __tablename__ = "memberships"
    username: Mapped[str] = mapped_column(
        ForeignKey("users.name", ondelete="CASCADE"), primary_key=True
    )
    project: Mapped[str] = mapped_column(
        ForeignKey("projects.name", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[float] = mapped_column(Float)

    __table_args__ = (Index("ix_memberships_project", "project"),)


class TokenRow(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    owner: Mapped[str] = mapped_column(ForeignKey("users.name", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # personal | session
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_used_at: Mapped[float | None] = mapped_column(Float, nullable=True)

    __table_args__ = (Index("ix_api_tokens_owner", "owner"),)


class IdentityRow(Base):
    __tablename__ = "cluster_identities"
    cluster: Mapped[str] = mapped_column(String(64), primary_key=True)
    project: Mapped[str] = mapped_column(
        ForeignKey("projects.name", ondelete="CASCADE"), primary_key=True
    )
    unix_user: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ssh_key: Mapped[str | None] = mapped_column(String(4096), nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    created_by: Mapped[str] = mapped_column(String(64))
