"""Learned speed factors: how fast an app really runs on a cluster.

The broker predicts run time as ``requested / factor``. A finished job gives
one observation of the factor on its cluster: ``requested_s / actual_s``.
That ratio folds together the hardware's speed and how much users pad their
requests, which is exactly what the prediction needs. We keep, per (app,
cluster) and per cluster for any app (``"*"``), the last ``window`` ratios
and report their median once ``min_samples`` are in: the median ignores the
jobs that crash at once (huge ratios, also capped at ``max_factor``) or hit
their limit. Until then ``factor`` is None and the broker falls back to the
node type's claimed speed.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field

ANY_APP = "*"


@dataclass
class SpeedModel:
    """Mutable, but pure: no clock, no I/O; the caller feeds observations."""

    window: int = 50
    min_samples: int = 3
    max_factor: float = 100.0  # caps a ratio from a job that died at once
    _ratios: dict[tuple[str, str], deque[float]] = field(default_factory=dict, repr=False)

    def observe(self, app: str | None, cluster: str, requested_s: float, actual_s: float) -> None:
        """Record one finished job. Non-positive times are ignored (no signal)."""
        if requested_s <= 0 or actual_s <= 0:
            return
        ratio = min(self.max_factor, requested_s / actual_s)
        keys = [(ANY_APP, cluster)]
        if app is not None and app != ANY_APP:
            keys.append((app, cluster))
        for key in keys:
            samples = self._ratios.get(key)
            if samples is None:
                samples = self._ratios[key] = deque(maxlen=self.window)
            samples.append(ratio)

    def samples(self, app: str | None, cluster: str) -> int:
        return len(self._ratios.get((app or ANY_APP, cluster), ()))

    def factor(self, app: str | None, cluster: str) -> float | None:
        """Median ratio for the app on the cluster, else None (too few samples)."""
        samples = self._ratios.get((app or ANY_APP, cluster))
        if samples is None or len(samples) < self.min_samples:
            return None
        return float(statistics.median(samples))

    def factors(self, cluster: str) -> dict[str, float]:
        """Every known factor on a cluster, keyed by app (``"*"`` for any):
        what ``ClusterView.speed`` takes."""
        out: dict[str, float] = {}
        for (app, name), samples in self._ratios.items():
            if name == cluster and len(samples) >= self.min_samples:
                out[app] = float(statistics.median(samples))
        return out
