"""ClusterAdapter: what the controller needs from any resource manager.

Every method may raise ``ClusterError`` (or ``ClusterUnavailable``, which is
transient). An adapter translates its backend's errors at this boundary.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from computenet.model import AttemptRequest, AttemptStatus, ClusterInfo, Snapshot, Usage

#: Feature names an adapter reports on (value None = supported, else the reason not).
FEATURES = (
    "arrays",
    "dependencies",
    "gpus",
    "cpu_mode_core",
    "cpu_mode_smt",
    "mpi",
    "containers",
    "exclusive",
    "signal",
    "reservation",
    "usage",
    "start_estimate",
)


class ClusterAdapter(ABC):
    """One resource-manager instance.

    Contract for implementers:
    - ``submit`` returns the native id; if it raises, nothing was submitted
      unless the error is transient (then ``find(tag)`` tells).
    - ``status`` answers for every id it is given; an id the cluster no
      longer knows maps to the last state it had, or raises nothing and is
      left out (the controller then asks ``find``).
    - ``cancel`` of a finished job is not an error.
    """

    name: str

    @abstractmethod
    async def info(self) -> ClusterInfo: ...

    @abstractmethod
    async def snapshot(self) -> Snapshot: ...

    @abstractmethod
    async def submit(self, request: AttemptRequest) -> str: ...

    @abstractmethod
    async def find(self, tag: str) -> str | None:
        """The native id of a job submitted with this tag, or None."""

    @abstractmethod
    async def status(self, native_ids: Sequence[str]) -> dict[str, AttemptStatus]: ...

    @abstractmethod
    async def cancel(self, native_id: str) -> None: ...

    @abstractmethod
    async def output(
        self, native_id: str, stream: str = "stdout", offset: int = 0, limit: int = 1 << 20
    ) -> bytes:
        """Bytes of the job's stdout or stderr from ``offset`` (empty if none yet)."""

    @abstractmethod
    async def usage(self, native_ids: Sequence[str]) -> dict[str, Usage]: ...

    @abstractmethod
    def features(self) -> dict[str, str | None]: ...

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Begin background work (daemons, connections). Idempotent."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; running jobs keep running."""
