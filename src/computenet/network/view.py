"""What the broker knows about one cluster when it decides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

from computenet.model import ClusterHealth, ClusterInfo, Snapshot

if TYPE_CHECKING:
    from computenet.network.app_speed import MeasuredSpeed
    from computenet.network.bench_speed import BenchSpeed


class StartModel(Protocol):
    """Answers "when would a job of this size start here?" without a snapshot.

    The simulator keeps one per cluster over its live queue, so that a
    decision does not rebuild a snapshot of thousands of jobs. The live
    controller leaves it unset and the broker replays the snapshot instead.
    """

    def predict_start(self, partition: str, cpus: int, estimate_s: float, now: float) -> float: ...


_EMPTY: Mapping[str, float] = MappingProxyType({})
_NONE: Mapping[str, int] = MappingProxyType({})
_NO_FIGURES: Mapping[str, MeasuredSpeed] = MappingProxyType({})
_NO_BENCH: Mapping[str, BenchSpeed] = MappingProxyType({})


@dataclass(frozen=True)
class ClusterView:
    """One cluster as the broker sees it at decision time.

    ``speed`` maps an app name (or ``"*"`` for any app) to the learned speed
    factor on this cluster (run time = requested / factor), ``speed_runs``
    to how many runs it was learned from. ``app_speed`` holds catalogue
    applications' measured speeds here, which take precedence for their
    runs (``network.app_speed``). ``bench_speed`` maps a partition to its
    speed measured by benchmark jobs, which replaces the node type's
    configured factor (``network.bench_speed``).
    ``bandwidth_bytes_per_s`` is the link to the job's data; None means the
    data is already there. ``image_staging_s`` is how long copying the job's
    container image to this cluster's site takes (0: its store has it).
    ``budget_left`` None means unlimited.
    ``start_model`` (optional) replaces the snapshot replay for start times.
    ``denied`` is why the job's project may not use this cluster at all, and
    ``partitions_allowed`` the only partitions it may use here (None: any);
    ``tenant`` names that project in the reasons (see ``network.access``).
    ``drained``: an administrator drained it; it takes no new jobs (those
    running there go on), and jobs wait for it as for a cluster that is down.
    """

    info: ClusterInfo
    snapshot: Snapshot | None
    health: ClusterHealth = ClusterHealth.UP
    speed: Mapping[str, float] = field(default_factory=lambda: _EMPTY)
    speed_runs: Mapping[str, int] = field(default_factory=lambda: _NONE)
    app_speed: Mapping[str, MeasuredSpeed] = field(default_factory=lambda: _NO_FIGURES)
    bench_speed: Mapping[str, BenchSpeed] = field(default_factory=lambda: _NO_BENCH)
    bandwidth_bytes_per_s: float | None = None
    image_staging_s: float = 0.0
    containers: str | None = None  # why the cluster cannot run images (None: it can)
    home: bool = False
    allowed: bool = True
    budget_left: float | None = None
    start_model: StartModel | None = None
    denied: str | None = None
    partitions_allowed: frozenset[str] | None = None
    tenant: str | None = None
    drained: bool = False

    @property
    def name(self) -> str:
        return self.info.name
