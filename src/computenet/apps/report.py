"""``cnet report apps``: per application, cluster and partition, the runs,
their median figure, the cost of a run and the cost of a unit of work.

The cost of a unit of work is what the run's allocation costs for the time
one unit of the figure's work takes at the measured speed:

    higher is better, figure F in X per T (ns/day, samples/s, GFLOPS):
        cost per X = allocation price per second x (T in seconds) / F
    lower is better, figure F in T per X (s/iteration):
        cost per X = allocation price per second x F x (T in seconds)

with the allocation price = price per core-hour x CPUs + price per GPU-hour
x GPUs of that run, over 3600. So LAMMPS at 2e5 tau/day on 2 CPUs at 0.04
per core-hour costs 0.08 x 24 / 2e5 = 9.6e-6 per tau. It leaves out what
the run spent outside the measured part (setup, I/O); the cost per run
(the accounted cost of the attempt) includes it. A unit with no time in it
has no cost per unit of work (None).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_SECONDS = {
    "s": 1.0,
    "sec": 1.0,
    "second": 1.0,
    "min": 60.0,
    "minute": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hour": 3600.0,
    "day": 86400.0,
    "d": 86400.0,
}
_FLOPS = {
    "flops": "FLOP",
    "kflops": "kFLOP",
    "mflops": "MFLOP",
    "gflops": "GFLOP",
    "tflops": "TFLOP",
}


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def work_unit(unit: str, higher_is_better: bool) -> tuple[str, float] | None:
    """(the unit of work, seconds in the figure's time unit), e.g.
    ``ns/day`` -> ("ns", 86400); ``s/iteration`` -> ("iteration", 1)."""
    text = unit.strip()
    if text.lower() in _FLOPS:
        return (_FLOPS[text.lower()], 1.0) if higher_is_better else None
    top, slash, bottom = text.partition("/")
    if not slash:
        return None
    thing, time_word = (top, bottom) if higher_is_better else (bottom, top)
    seconds = _SECONDS.get(_singular(time_word.strip().lower()))
    if seconds is None or not thing.strip():
        return None
    return _singular(thing.strip()), seconds


def cost_per_work(
    value: float, unit: str, higher_is_better: bool, price_per_s: float
) -> float | None:
    wu = work_unit(unit, higher_is_better)
    if wu is None or value <= 0:
        return None
    seconds_per_work = wu[1] / value if higher_is_better else value * wu[1]
    return price_per_s * seconds_per_work


@dataclass(frozen=True)
class RunFigure:
    """One recorded run, with what it cost (None when not known)."""

    app: str
    cluster: str
    partition: str
    value: float | None
    unit: str
    higher_is_better: bool
    per: str
    units: float
    cost: float | None
    price_per_s: float | None  # the allocation's price per second
    recorded_at: float


def _median(values: Iterable[float | None]) -> float | None:
    got = [v for v in values if v is not None]
    return float(statistics.median(got)) if got else None


def rows(runs: Iterable[RunFigure]) -> list[dict[str, Any]]:
    """One row per (app, cluster, partition), ordered by app, then by the
    cost of a unit of work (cheapest first; unknown last)."""
    groups: dict[tuple[str, str, str], list[RunFigure]] = defaultdict(list)
    for r in runs:
        groups[(r.app, r.cluster, r.partition)].append(r)
    out = []
    for (app, cluster, partition), items in groups.items():
        last = items[-1]  # the current definition of the figure
        items_now = [
            i for i in items if (i.unit, i.higher_is_better) == (last.unit, last.higher_is_better)
        ]
        with_value = [i for i in items_now if i.value is not None]
        wu = work_unit(last.unit, last.higher_is_better)
        per_work = [
            cost_per_work(i.value, i.unit, i.higher_is_better, i.price_per_s)
            for i in with_value
            if i.value is not None and i.price_per_s is not None
        ]
        out.append(
            {
                "app": app,
                "cluster": cluster,
                "partition": partition,
                "runs": len(items),
                "runs_with_figure": len(with_value),
                "runs_without_figure": len(items_now) - len(with_value),
                "median_figure": _median(i.value for i in with_value),
                "unit": last.unit,
                "higher_is_better": last.higher_is_better,
                "per": last.per,
                "median_units": _median(i.units for i in with_value),
                "cost_per_run": _median(i.cost for i in items),
                "work_unit": wu[0] if wu else None,
                "cost_per_work": _median(per_work),
                "last_run": max(i.recorded_at for i in items),
            }
        )
    out.sort(
        key=lambda r: (
            r["app"],
            r["cost_per_work"] is None,
            r["cost_per_work"] or 0.0,
            r["cluster"],
            r["partition"],
        )
    )
    return out
