"""Projects, memberships (a role per user and project) and cluster identities."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from computenet.errors import ConflictError, NotFoundError
from computenet.model.tenancy import ClusterIdentity, Role
from computenet.store.tables_tenancy import IdentityRow, MembershipRow, ProjectRow, UserRow

# ----- projects ----------------------------------------------------------------------


def get_project(session: Session, name: str) -> ProjectRow:
    row = session.get(ProjectRow, name)
    if row is None:
        raise NotFoundError(f"no project {name!r}")
    return row


def ensure_project(session: Session, name: str, *, now: float) -> ProjectRow:
    row = session.get(ProjectRow, name)
    if row is None:
        row = ProjectRow(name=name, description=None, clusters=[], partitions=[], created_at=now)
        session.add(row)
        session.flush()
    return row


def add_project(
    session: Session,
    name: str,
    *,
    now: float,
    description: str | None = None,
    clusters: Sequence[str] = (),
    partitions: Sequence[str] = (),
) -> ProjectRow:
    if session.get(ProjectRow, name) is not None:
        raise ConflictError(f"project {name!r} already exists")
    row = ProjectRow(
        name=name,
        description=description,
        clusters=sorted(set(clusters)),
        partitions=sorted(set(partitions)),
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def list_projects(session: Session, names: Sequence[str] | None = None) -> list[ProjectRow]:
    query = select(ProjectRow).order_by(ProjectRow.name)
    if names is not None:
        query = query.where(ProjectRow.name.in_(list(names)))
    return list(session.scalars(query))


def project_to_dict(row: ProjectRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "description": row.description,
        "clusters": list(row.clusters),
        "partitions": list(row.partitions),
        "created_at": row.created_at,
    }


# ----- memberships -------------------------------------------------------------------


def set_member(session: Session, project: str, user: str, role: Role | str, *, now: float) -> None:
    """Add ``user`` to ``project`` with ``role``, or change their role."""
    get_project(session, project)
    if session.get(UserRow, user) is None:
        raise NotFoundError(f"no user {user!r}")
    row = session.get(MembershipRow, (user, project))
    if row is None:
        session.add(MembershipRow(username=user, project=project, role=str(role), created_at=now))
    else:
        row.role = str(role)
    session.flush()


def remove_member(session: Session, project: str, user: str) -> None:
    row = session.get(MembershipRow, (user, project))
    if row is None:
        raise NotFoundError(f"user {user!r} is not in project {project!r}")
    session.delete(row)
    session.flush()


def members(session: Session, project: str) -> list[MembershipRow]:
    return list(
        session.scalars(
            select(MembershipRow)
            .where(MembershipRow.project == project)
            .order_by(MembershipRow.username)
        )
    )


def roles_of(session: Session, user: str) -> dict[str, str]:
    return {
        m.project: m.role
        for m in session.scalars(select(MembershipRow).where(MembershipRow.username == user))
    }


def member_to_dict(row: MembershipRow) -> dict[str, Any]:
    return {"user": row.username, "project": row.project, "role": row.role, "since": row.created_at}


# ----- cluster identities ------------------------------------------------------------


def set_identity(
    session: Session,
    identity: ClusterIdentity,
    *,
    now: float,
    by: str,
) -> None:
    get_project(session, identity.project)
    row = session.get(IdentityRow, (identity.cluster, identity.project))
    if row is None:
        session.add(
            IdentityRow(
                cluster=identity.cluster,
                project=identity.project,
                unix_user=identity.user,
                ssh_key=identity.ssh_key,
                created_at=now,
                created_by=by,
            )
        )
    else:
        row.unix_user, row.ssh_key = identity.user, identity.ssh_key
        row.created_at, row.created_by = now, by
    session.flush()


def remove_identity(session: Session, cluster: str, project: str) -> None:
    done = session.execute(
        delete(IdentityRow).where(IdentityRow.cluster == cluster, IdentityRow.project == project)
    )
    if not done.rowcount:  # type: ignore[attr-defined]
        raise NotFoundError(f"project {project!r} has no identity at cluster {cluster!r}")


def stored_identities(session: Session) -> list[ClusterIdentity]:
    return [
        ClusterIdentity(
            cluster=r.cluster,
            project=r.project,
            user=r.unix_user,
            ssh_key=r.ssh_key,
            source="api",
        )
        for r in session.scalars(
            select(IdentityRow).order_by(IdentityRow.cluster, IdentityRow.project)
        )
    ]
