"""Which clusters and partitions a project may use, and where it has an identity.

Pure: ``restrict`` turns a project's access into the ``denied`` and
``partitions_allowed`` of each cluster view, with reasons a person can act
on ("project chem may not use cluster big", "project chem has no identity
at cluster big"); ``place`` then refuses those clusters with that reason.

A cluster that lists no identities runs every project's jobs under the
network's own account; once it lists any, only the projects listed there
may be placed on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from computenet.model import JobSpec, PartitionInfo
from computenet.network.view import ClusterView

_NONE: Mapping[str, frozenset[str]] = MappingProxyType({})


@dataclass(frozen=True)
class ProjectAccess:
    """``clusters`` empty: every cluster. ``partitions`` maps a cluster to
    the only partitions the project may use there (a cluster not in it: all).
    ``identities``: clusters where the project has an identity; ``gated``:
    clusters that list identities (a project needs one of its own there)."""

    project: str
    clusters: frozenset[str] = frozenset()
    partitions: Mapping[str, frozenset[str]] = field(default_factory=lambda: _NONE)
    identities: frozenset[str] = frozenset()
    gated: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls,
        project: str,
        clusters: Iterable[str] = (),
        partitions: Iterable[str] = (),
        identities: Iterable[tuple[str, str]] = (),
    ) -> ProjectAccess:
        """From stored values: ``partitions`` as ``cluster:partition`` and
        ``identities`` as (cluster, project) pairs of the whole network."""
        parts: dict[str, set[str]] = {}
        for item in partitions:
            cluster, _, partition = item.partition(":")
            parts.setdefault(cluster, set()).add(partition)
        pairs = list(identities)
        return cls(
            project=project,
            clusters=frozenset(clusters),
            partitions=MappingProxyType({c: frozenset(p) for c, p in parts.items()}),
            identities=frozenset(c for c, p in pairs if p == project),
            gated=frozenset(c for c, _ in pairs),
        )

    def why_not(self, cluster: str) -> str | None:
        """Why the project may not use ``cluster`` at all, or None."""
        if self.clusters and cluster not in self.clusters:
            return f"project {self.project} may not use cluster {cluster}"
        if cluster in self.gated and cluster not in self.identities:
            return f"project {self.project} has no identity at cluster {cluster}"
        return None


def restrict(views: Sequence[ClusterView], access: ProjectAccess | None) -> list[ClusterView]:
    """The views as this project sees them (unchanged when ``access`` is None)."""
    if access is None:
        return list(views)
    out = []
    for view in views:
        why = access.why_not(view.name)
        parts = access.partitions.get(view.name)
        if why is None and parts is None:
            out.append(view)
        else:
            out.append(replace(view, denied=why, partitions_allowed=parts, tenant=access.project))
    return out


def allowed_partitions(
    spec: JobSpec, view: ClusterView, parts: tuple[PartitionInfo, ...]
) -> tuple[PartitionInfo, ...] | str:
    """``parts`` less those the project may not use, or why none is left."""
    allowed = view.partitions_allowed
    if allowed is None:
        return parts
    kept = tuple(p for p in parts if p.name in allowed)
    if kept:
        return kept
    who = f"project {view.tenant}" if view.tenant else "the project"
    names = ", ".join(sorted(allowed))
    if spec.partition is not None:
        return (
            f"{who} may not use partition {spec.partition} of cluster {view.name} "
            f"(may use: {names})"
        )
    return f"{who} may use only partitions {names} of cluster {view.name}, which it does not have"
