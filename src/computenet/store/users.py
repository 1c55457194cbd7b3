"""Users, passwords and API tokens.

Tokens are ``cn_`` + 256 random bits; only their SHA-256 is stored (a fast
hash is right for a high-entropy secret). Passwords are argon2id hashes
(argon2-cffi's defaults, RFC 9106's second recommendation). ``authenticate``
is the one place a token becomes a caller: a missing, unknown, expired or
revoked token, or a disabled user, is an ``AuthError`` whose message never
holds the token.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from computenet.errors import AuthError, ConflictError, NotFoundError, SpecError
from computenet.model.tenancy import ALL_SCOPES, Role, ordered_scopes
from computenet.store import projects
from computenet.store.tables_tenancy import MembershipRow, TokenRow, UserRow

#: the name of the token the server makes for the local user (``data_dir/token``)
# bandit B105: a name, not a secret
LOCAL_TOKEN_NAME = "local"  # nosec B105
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024  # argon2 reads it all: bound the work a request can ask for
#: how often a token's ``last_used_at`` is written at most (it is a hint, not an audit log)
LAST_USED_EVERY_S = 60.0

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist (or has no password), so
    that an unknown name takes as long as a wrong password."""
    return _hasher.hash(secrets.token_urlsafe(16))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return "cn_" + secrets.token_urlsafe(32)


# ----- users -------------------------------------------------------------------------


def get_user(session: Session, name: str) -> UserRow:
    row = session.get(UserRow, name)
    if row is None:
        raise NotFoundError(f"no user {name!r}")
    return row


def list_users(session: Session) -> list[UserRow]:
    return list(session.scalars(select(UserRow).order_by(UserRow.name)))


def add_user(
    session: Session,
    name: str,
    *,
    now: float,
    project: str = "default",
    is_admin: bool = False,
    display_name: str | None = None,
    email: str | None = None,
    password: str | None = None,
    role: Role = Role.MEMBER,
) -> str:
    """Create a user, a member (or ``role``) of ``project`` (made if missing),
    and return a new personal token with every scope (shown once)."""
    if session.get(UserRow, name) is not None:
        raise ConflictError(f"user {name!r} already exists")
    session.add(
        UserRow(
            name=name,
            display_name=display_name,
            email=email,
            password_hash=hash_password(password) if password is not None else None,
            is_admin=is_admin,
            default_project=project,
            disabled=False,
            created_at=now,
        )
    )
    session.flush()
    projects.ensure_project(session, project, now=now)
    projects.set_member(session, project, name, role, now=now)
    _, token = create_token(session, name, "default", ALL_SCOPES, now=now)
    return token


def ensure_local_user(
    session: Session, name: str, token: str, *, now: float, project: str = "default"
) -> TokenRow:
    """The local user of a single-user install: a network admin, manager of
    ``project``, holding ``token`` as a personal token with every scope.

    A token that was revoked stays revoked (the caller decides whether to
    make a new one); a different token under the local name replaces the old.
    """
    row = session.get(UserRow, name)
    if row is None:
        row = UserRow(
            name=name, is_admin=True, default_project=project, disabled=False, created_at=now
        )
        session.add(row)
        session.flush()
    row.is_admin = True
    projects.ensure_project(session, project, now=now)
    projects.set_member(session, project, name, Role.MANAGER, now=now)
    digest = hash_token(token)
    existing = session.scalar(select(TokenRow).where(TokenRow.token_hash == digest))
    if existing is not None:
        if existing.owner != name:
            raise ConflictError(f"this token belongs to user {existing.owner!r}, not {name!r}")
        return existing
    session.execute(
        update(TokenRow)
        .where(
            TokenRow.owner == name,
            TokenRow.name == LOCAL_TOKEN_NAME,
            TokenRow.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    made = TokenRow(
        owner=name,
        name=LOCAL_TOKEN_NAME,
        kind="personal",
        token_hash=digest,
        scopes=ordered_scopes(ALL_SCOPES),
        created_at=now,
    )
    session.add(made)
    session.flush()
    return made


# ----- passwords ---------------------------------------------------------------------


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise SpecError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise SpecError(f"a password may have at most {MAX_PASSWORD_CHARS} characters")


def hash_password(password: str) -> str:
    check_password_rules(password)
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches; as slow for a missing hash as for a wrong one."""
    if len(password) > MAX_PASSWORD_CHARS:
        return False
    try:
        return _hasher.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def set_password(session: Session, name: str, password: str) -> None:
    get_user(session, name).password_hash = hash_password(password)


# ----- tokens ------------------------------------------------------------------------


def create_token(
    session: Session,
    owner: str,
    name: str,
    scopes: frozenset[str],
    *,
    now: float,
    kind: str = "personal",
    expires_at: float | None = None,
) -> tuple[TokenRow, str]:
    """A new token row and the token itself (the only time it exists in clear)."""
    token = new_token()
    row = TokenRow(
        owner=owner,
        name=name,
        kind=kind,
        token_hash=hash_token(token),
        scopes=ordered_scopes(scopes),
        created_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return row, token


def list_tokens(
    session: Session, owner: str | None, *, with_revoked: bool = False
) -> list[TokenRow]:
    query = select(TokenRow).order_by(TokenRow.id)
    if owner is not None:
        query = query.where(TokenRow.owner == owner)
    if not with_revoked:
        query = query.where(TokenRow.revoked_at.is_(None))
    return list(session.scalars(query))


def revoke_token(session: Session, token_id: int, *, now: float, owner: str | None) -> TokenRow:
    """Revoke one token; ``owner`` None means any owner's (an administrator).
    Someone else's token answers as not found."""
    row = session.get(TokenRow, token_id)
    if row is None or (owner is not None and row.owner != owner):
        raise NotFoundError(f"no token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = now
    return row


def revoke_sessions(session: Session, owner: str, *, now: float, keep: int | None = None) -> int:
    """Revoke the user's session tokens (after a password change), but ``keep``."""
    query = update(TokenRow).where(
        TokenRow.owner == owner, TokenRow.kind == "session", TokenRow.revoked_at.is_(None)
    )
    if keep is not None:
        query = query.where(TokenRow.id != keep)
    return int(session.execute(query.values(revoked_at=now)).rowcount or 0)  # type: ignore[attr-defined]


def token_to_dict(row: TokenRow) -> dict[str, object]:
    return {
        "id": row.id,
        "owner": row.owner,
        "name": row.name,
        "kind": row.kind,
        "scopes": list(row.scopes),
        "created_at": row.created_at,
        "expires_at": row.expires_at,
        "revoked_at": row.revoked_at,
        "last_used_at": row.last_used_at,
    }


# ----- authentication ----------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """What a valid token says about its caller, read in one go."""

    user: UserRow
    token: TokenRow
    roles: dict[str, str]


def authenticate(session: Session, token: str | None, *, now: float) -> Credentials:
    """The caller behind ``token``, or ``AuthError`` (the message names the
    problem, never the token). Marks the token used at most once a minute."""
    if not token:
        raise AuthError("missing bearer token (Authorization: Bearer ...)")
    row = session.scalar(select(TokenRow).where(TokenRow.token_hash == hash_token(token)))
    if row is None:
        raise AuthError("invalid token")
    check_token(row, now)
    user = session.get(UserRow, row.owner)
    if user is None:
        raise AuthError("invalid token")
    if user.disabled:
        raise AuthError(f"user {user.name} is disabled")
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY_S:
        row.last_used_at = now
    roles = {
        m.project: m.role
        for m in session.scalars(select(MembershipRow).where(MembershipRow.username == user.name))
    }
    return Credentials(user=user, token=row, roles=roles)


def check_token(row: TokenRow, now: float) -> None:
    if row.revoked_at is not None:
        raise AuthError(f"token {row.id} was revoked")
    if row.expires_at is not None and row.expires_at <= now:
        kind = "session" if row.kind == "session" else "token"
        raise AuthError(f"{kind} {row.id} has expired")
