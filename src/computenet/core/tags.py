"""Attempt tags: the name a submission carries at its cluster.

A tag is stored with the native job (its name or comment) so that ``find``
can tell after a crash whether a submission got through. Adapters only store
and compare tags; this module alone builds and recognises them.
"""

from __future__ import annotations

PREFIX = "cn-"


def tag_for(job_id: int, attempt: int) -> str:
    return f"{PREFIX}{job_id}-{attempt}"


def is_tag(ident: str) -> bool:
    """True for a tag, False for a cluster's native job id."""
    return ident.startswith(PREFIX)
