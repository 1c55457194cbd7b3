"""The embedded cluster: a resource manager for this machine inside the server.

``EmbeddedCluster`` is imported lazily so that the per-job supervisor, which
lives in this package, starts without loading the rest of computenet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from computenet.clusters.embedded.cluster import EmbeddedCluster

__all__ = ["EmbeddedCluster"]


def __getattr__(name: str) -> Any:
    if name == "EmbeddedCluster":
        from computenet.clusters.embedded.cluster import EmbeddedCluster

        return EmbeddedCluster
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
