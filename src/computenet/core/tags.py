"""Attempt tags: the name a submission carries at its cluster.

A tag is ``cn-<network>-<job>-<attempt>``, stored with the native job (its
name or comment) so that ``find`` can tell after a crash whether a
submission got through. ``<network>`` is a random id made once per database
(the one row of the ``network`` table): job ids are unique only within one
database, and two networks sharing a Slurm cluster must not adopt each
other's jobs. Adapters only store and compare tags; this module alone builds
and recognises them.
"""

from __future__ import annotations

import secrets

from sqlalchemy.exc import IntegrityError

from computenet.store.db import Store
from computenet.store.tables import NetworkRow

PREFIX = "cn-"
_SLOT = 1


def tag_for(network_id: str, job_id: int, attempt: int) -> str:
    return f"{PREFIX}{network_id}-{job_id}-{attempt}"


def is_tag(ident: str) -> bool:
    """True for a tag, False for a cluster's native job id."""
    return ident.startswith(PREFIX)


def network_id(store: Store, *, now: float) -> str:
    """This database's network id (8 hex characters), made on first use.

    Several servers may start on one database at once: one insert wins and
    every server reads the winner's id.
    """
    with store.session() as s:
        row = s.get(NetworkRow, _SLOT)
        if row is not None:
            return row.id
    try:
        with store.session() as s:
            s.add(NetworkRow(slot=_SLOT, id=secrets.token_hex(4), created_at=now))
    except IntegrityError:
        pass  # another server made it first
    with store.session() as s:
        row = s.get(NetworkRow, _SLOT)
        assert row is not None
        return row.id
