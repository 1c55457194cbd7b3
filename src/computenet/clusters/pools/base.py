"""The provider interface: create, delete and list a pool's nodes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: a node the provider was asked for and that is not running yet
BOOTING = "booting"
#: running: for a local node, attached or its slurmd up; for a cloud one, the instance runs
RUNNING = "running"
#: the provider gave up on it (an instance in error, a slurmd that would not start)
FAILED = "failed"


@dataclass(frozen=True)
class ProviderNode:
    name: str
    state: str  # booting | running | failed
    provider_id: str | None = None
    address: str | None = None
    error: str | None = None


class NodeProvider(ABC):
    """Where a pool's nodes come from.

    Contract: ``create`` returns at once with the nodes booting (the boot
    delay and the boot itself happen in the background); if it raises
    ``ClusterError``, no node was created unless the error is transient.
    ``delete`` of a node the provider does not hold is not an error.
    ``list`` answers for every node the provider holds for this pool.
    A provider that learns of a change by itself (a node it booted is up)
    calls ``on_change``, so the controller looks at once, not a pass later.
    """

    kind: str = "provider"
    on_change: Callable[[], None] | None = None

    @abstractmethod
    async def create(self, names: Sequence[str]) -> list[ProviderNode]: ...

    @abstractmethod
    async def delete(self, names: Sequence[str]) -> None: ...

    @abstractmethod
    async def list(self) -> list[ProviderNode]: ...

    async def restore(self, names: Sequence[str]) -> None:  # noqa: B027 - optional hook
        """After a restart: nodes the store says are up. Providers whose nodes
        outlive the server (processes, instances) need nothing here."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Stop background boots; nodes already up stay up."""
