"""Users and their bearer tokens (only a SHA-256 of each token is stored)."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from computenet.errors import AuthError, ConflictError
from computenet.store.tables import UserRow


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return "cn_" + secrets.token_urlsafe(32)


def ensure_user(
    session: Session,
    name: str,
    token: str,
    *,
    now: float,
    is_admin: bool = False,
    project: str = "default",
) -> UserRow:
    """Create the user, or point an existing one at this token."""
    row = session.get(UserRow, name)
    if row is None:
        row = UserRow(
            name=name,
            token_hash=hash_token(token),
            is_admin=is_admin,
            project=project,
            created_at=now,
        )
        session.add(row)
    else:
        row.token_hash = hash_token(token)
        row.is_admin = row.is_admin or is_admin
    session.flush()
    return row


def add_user(
    session: Session, name: str, *, now: float, project: str = "default", is_admin: bool = False
) -> str:
    """Create a user and return their new token (shown once)."""
    if session.get(UserRow, name) is not None:
        raise ConflictError(f"user {name!r} already exists")
    token = new_token()
    session.add(
        UserRow(
            name=name,
            token_hash=hash_token(token),
            is_admin=is_admin,
            project=project,
            created_at=now,
        )
    )
    session.flush()
    return token


def authenticate(session: Session, token: str | None) -> UserRow:
    if not token:
        raise AuthError("missing bearer token (Authorization: Bearer ...)")
    row = session.scalar(select(UserRow).where(UserRow.token_hash == hash_token(token)))
    if row is None:
        raise AuthError("invalid token")
    return row
