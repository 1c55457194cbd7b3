"""Measured application speed: run times predicted from performance figures.

A catalogue run reports a figure (LAMMPS tau/day, GROMACS ns/day, QE
seconds per SCF iteration, ...). Divided by the allocation it ran on (CPUs,
GPUs or nodes, as the application file says), a figure becomes a rate per
unit of allocation, comparable between a run on 4 CPUs and one on 8:

    rate per unit = figure / units          (higher is better: tau/day)
    rate per unit = 1 / (figure * units)    (lower is better: s/iteration)

A run's work is rate per unit x units x elapsed time (tau simulated, SCF
iterations done), and its work per requested second is that work over its
time limit: how much a request of one second buys, whatever the cluster.
The broker then predicts a new run of the application on a cluster as

    run time = (median work per requested second x requested time)
               / (the cluster's median rate per unit x the job's units there)

with the partition's own rate when that partition has figures. Limits: it
assumes work scales linearly with the allocation (perfect strong scaling,
optimistic for large counts), that runs of one application do comparable
work per requested second (users who pad their limits pad them alike), and
that a site does not change the figure's unit (a new unit starts afresh).

Pure: no clock, no I/O; the controller feeds samples.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

UNIT_WORDS = {"cpu": "CPUs", "gpu": "GPUs", "node": "nodes"}


@dataclass(frozen=True)
class FigureSample:
    """One completed catalogue run's figure, with its allocation and times."""

    app: str
    cluster: str
    partition: str
    value: float
    unit: str
    higher_is_better: bool
    per: str  # cpu | gpu | node
    units: float  # how many of ``per`` the run held
    elapsed_s: float | None = None
    requested_s: float | None = None


def units_of(per: str, cpus: int, gpus: int, nodes: int) -> int:
    """How many units of ``per`` (cpu | gpu | node) an allocation holds."""
    return gpus if per == "gpu" else nodes if per == "node" else cpus


def rate_per_unit(value: float, higher_is_better: bool, units: float) -> float:
    return value / units if higher_is_better else 1.0 / (value * units)


@dataclass(frozen=True)
class MeasuredSpeed:
    """An application's measured speed on one cluster."""

    app: str
    unit: str
    per: str
    rate: float  # median rate per unit of allocation on the cluster
    figure: float  # median raw figure there (what ``describe`` shows)
    units: float  # median allocation of those runs
    runs: int
    work_per_requested_s: float  # across all clusters
    by_partition: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def runtime_s(self, partition: str, units: float, requested_s: float) -> float:
        """Predicted run time of a run holding ``units`` that asked for ``requested_s``."""
        rate = self.by_partition.get(partition, self.rate)
        return self.work_per_requested_s * requested_s / (rate * max(units, 1e-9))

    def describe(self) -> str:
        word = UNIT_WORDS.get(self.per, self.per)
        return (
            f"measured: {self.app} {self.figure:.4g} {self.unit} on {self.units:g} {word} "
            f"({self.runs} run{'s' if self.runs != 1 else ''})"
        )


@dataclass
class AppSpeedModel:
    """The last ``window`` figures per (app, cluster, partition) and the
    last ``window`` work-per-requested-second samples per app."""

    window: int = 50
    _rates: dict[tuple[str, str, str], deque[tuple[float, float, float]]] = field(
        default_factory=dict, repr=False
    )
    _work: dict[str, deque[float]] = field(default_factory=dict, repr=False)
    _kind: dict[str, tuple[str, bool, str]] = field(default_factory=dict, repr=False)

    def observe(self, s: FigureSample) -> bool:
        """Take one sample; False when it cannot be used (no positive figure
        or allocation). A sample whose unit, direction or allocation unit
        differs from the app's earlier ones replaces them all."""
        if s.value <= 0 or s.units <= 0:
            return False
        kind = (s.unit, s.higher_is_better, s.per)
        if self._kind.get(s.app, kind) != kind:
            self._forget(s.app)
        self._kind[s.app] = kind
        rate = rate_per_unit(s.value, s.higher_is_better, s.units)
        key = (s.app, s.cluster, s.partition)
        samples = self._rates.get(key)
        if samples is None:
            samples = self._rates[key] = deque(maxlen=self.window)
        samples.append((rate, s.value, s.units))
        if s.elapsed_s and s.requested_s and s.elapsed_s > 0 and s.requested_s > 0:
            work = self._work.get(s.app)
            if work is None:
                work = self._work[s.app] = deque(maxlen=self.window)
            work.append(rate * s.units * s.elapsed_s / s.requested_s)
        return True

    def _forget(self, app: str) -> None:
        for key in [k for k in self._rates if k[0] == app]:
            del self._rates[key]
        self._work.pop(app, None)

    def measured(self, cluster: str) -> dict[str, MeasuredSpeed]:
        """Every app with figures on ``cluster`` and a known work per
        requested second: what ``ClusterView.app_speed`` takes."""
        by_app: dict[str, dict[str, deque[tuple[float, float, float]]]] = {}
        for (app, name, partition), samples in self._rates.items():
            if name == cluster and samples:
                by_app.setdefault(app, {})[partition] = samples
        out: dict[str, MeasuredSpeed] = {}
        for app, parts in by_app.items():
            work = self._work.get(app)
            if not work:
                continue
            every = [x for samples in parts.values() for x in samples]
            unit, _, per = self._kind[app]
            out[app] = MeasuredSpeed(
                app=app,
                unit=unit,
                per=per,
                rate=float(statistics.median(r for r, _, _ in every)),
                figure=float(statistics.median(v for _, v, _ in every)),
                units=float(statistics.median(u for _, _, u in every)),
                runs=len(every),
                work_per_requested_s=float(statistics.median(work)),
                by_partition=MappingProxyType(
                    {p: float(statistics.median(r for r, _, _ in s)) for p, s in parts.items()}
                ),
            )
        return out
