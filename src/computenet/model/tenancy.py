"""Tenancy words: roles in a project, token scopes, and the identity a
project submits as at a cluster. Plain values, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """A user's role in one project (network admin is a flag on the user)."""

    MANAGER = "manager"  # the PI: members, quotas and budgets; sees and cancels all its jobs
    MEMBER = "member"  # submits; sees own jobs and the project's usage
    VIEWER = "viewer"  # reads the project's jobs and usage; changes nothing


class Scope(StrEnum):
    """What a token may do, whatever its owner's roles allow."""

    READ = "read"  # every GET
    SUBMIT = "submit"  # submit, cancel, transfers
    MANAGE = "manage"  # users, projects, tokens, budgets, quotas, clusters


ALL_SCOPES: frozenset[str] = frozenset(s.value for s in Scope)
#: roles that may submit jobs to (and cancel their own jobs in) a project
SUBMITTING_ROLES: frozenset[str] = frozenset({Role.MANAGER.value, Role.MEMBER.value})
#: roles that see every job and usage record of a project, not only their own
PROJECT_WIDE_ROLES: frozenset[str] = frozenset({Role.MANAGER.value, Role.VIEWER.value})

TOKEN_KINDS = ("personal", "session")

#: user, project and token names: what a Slurm account or Unix login may be called
NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$"
USER_PATTERN = r"^[a-z_][a-z0-9_.-]{0,63}$"
UNIX_USER_PATTERN = r"^[a-z_][a-z0-9_-]{0,31}\$?$"
_UNIX_USER = re.compile(UNIX_USER_PATTERN)


def parse_scopes(text: str | list[str] | tuple[str, ...]) -> frozenset[str]:
    """``"read,submit"`` (or a list) as a set of scopes; ``ValueError`` names a bad one."""
    items = text.split(",") if isinstance(text, str) else list(text)
    scopes = frozenset(s.strip().lower() for s in items if s.strip())
    bad = sorted(scopes - ALL_SCOPES)
    if bad:
        raise ValueError(f"unknown scope {bad[0]!r}; known: {', '.join(s.value for s in Scope)}")
    if not scopes:
        raise ValueError(f"no scope given; known: {', '.join(s.value for s in Scope)}")
    return scopes


def ordered_scopes(scopes: frozenset[str] | set[str]) -> list[str]:
    """Scopes in the order of ``Scope`` (read, submit, manage)."""
    return [s.value for s in Scope if s.value in scopes]


@dataclass(frozen=True)
class ClusterIdentity:
    """Who submits for one project at one cluster.

    ``user`` is the Unix account (the SSH login for an SSH cluster, the
    account ``sbatch`` runs as for a local one); ``ssh_key`` a private key
    path on the server's machine. Either may be None: the cluster's own
    setting then applies. ``source`` is ``config`` or ``api``.
    """

    cluster: str
    project: str
    user: str | None = None
    ssh_key: str | None = None
    source: str = "api"

    def __post_init__(self) -> None:
        if self.user is None and self.ssh_key is None:
            raise ValueError("an identity needs a Unix account, an SSH key, or both")
        if self.user is not None and not _UNIX_USER.match(self.user):
            raise ValueError(f"{self.user!r} is not a Unix account name")

    def to_dict(self) -> dict[str, str | None]:
        return {
            "cluster": self.cluster,
            "project": self.project,
            "user": self.user,
            "ssh_key": self.ssh_key,
            "source": self.source,
        }
