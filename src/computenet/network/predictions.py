"""How good were the broker's estimates? Error statistics of predicted
against actual start and run times, per cluster (``cnet report predictions``).

Errors are ``predicted - actual``: a positive mean error (bias) means the
broker was pessimistic. Absolute errors are summarised by mean and median,
because a few jobs that waited days dominate the mean.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorStats:
    count: int
    mean_abs_error_s: float
    median_abs_error_s: float
    mean_error_s: float  # bias: > 0 when predictions were late (pessimistic)


@dataclass(frozen=True)
class PredictionRecord:
    """One finished job: what the broker predicted and what happened."""

    cluster: str
    predicted_start: float | None
    actual_start: float | None
    predicted_runtime_s: float | None = None
    actual_runtime_s: float | None = None


@dataclass(frozen=True)
class ClusterPredictions:
    cluster: str
    start: ErrorStats | None
    runtime: ErrorStats | None


def error_stats(predicted: Sequence[float], actual: Sequence[float]) -> ErrorStats | None:
    """Stats over paired values; None when there are no pairs."""
    if len(predicted) != len(actual):
        raise ValueError("predicted and actual must pair up")
    if not predicted:
        return None
    errors = [p - a for p, a in zip(predicted, actual, strict=True)]
    absolute = [abs(e) for e in errors]
    return ErrorStats(
        count=len(errors),
        mean_abs_error_s=sum(absolute) / len(absolute),
        median_abs_error_s=statistics.median(absolute),
        mean_error_s=sum(errors) / len(errors),
    )


def prediction_report(records: Iterable[PredictionRecord]) -> tuple[ClusterPredictions, ...]:
    """Per-cluster start and run-time error stats, sorted by cluster name.

    Records missing either side of a pair are left out of that pair's stats.
    """
    starts: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    runs: dict[str, tuple[list[float], list[float]]] = defaultdict(lambda: ([], []))
    names: set[str] = set()
    for r in records:
        names.add(r.cluster)
        if r.predicted_start is not None and r.actual_start is not None:
            starts[r.cluster][0].append(r.predicted_start)
            starts[r.cluster][1].append(r.actual_start)
        if r.predicted_runtime_s is not None and r.actual_runtime_s is not None:
            runs[r.cluster][0].append(r.predicted_runtime_s)
            runs[r.cluster][1].append(r.actual_runtime_s)
    return tuple(
        ClusterPredictions(name, error_stats(*starts[name]), error_stats(*runs[name]))
        for name in sorted(names)
    )
