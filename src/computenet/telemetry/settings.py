"""Telemetry settings, read from ``CN_TELEMETRY_*`` and ``CN_ALERT_*``
environment variables (defaults below)."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields


@dataclass(frozen=True)
class TelemetrySettings:
    interval_s: float = 30.0  # between collections
    timeout_s: float = 10.0  # per cluster and collection
    skew_tolerance_s: float = 5.0  # a cluster clock further ahead is clamped and flagged
    raw_retention_s: float = 2 * 3600.0  # node, partition and job samples
    minute_retention_s: float = 14 * 86400.0
    hour_retention_s: float = 400 * 86400.0
    stats_retention_s: float = 30 * 86400.0  # per-job stats after the job ended
    process_sampler: bool = True  # embedded clusters: read the job's process tree
    # alerts
    webhook_url: str | None = None
    hung_cpu_fraction: float = 0.02  # busy CPUs / allocated CPUs below this ...
    hung_after_s: float = 1800.0  # ... for this long: likely hung
    mem_fraction: float = 0.9  # RSS over this share of the limit
    gpu_idle_fraction: float = 0.05
    gpu_idle_after_s: float = 1800.0
    failure_window_s: float = 3600.0
    failure_baseline_s: float = 7 * 86400.0
    failure_ratio: float = 3.0  # recent failure rate this many times the usual
    failure_min_count: int = 5
    collector_errors_alert: int = 3  # consecutive failures before an alert

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> TelemetrySettings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            prefix = (
                "CN_ALERT_"
                if f.name.startswith(
                    ("webhook", "hung", "mem_", "gpu_", "failure", "collector_errors")
                )
                else "CN_TELEMETRY_"
            )
            name = prefix + f.name.upper()
            if name not in env:
                continue
            raw = env[name]
            kind: type = type(f.default)
            if f.name == "webhook_url":
                values[f.name] = raw or None
            elif kind is bool:
                values[f.name] = raw.lower() in ("1", "true", "yes", "on")
            elif kind is int:
                values[f.name] = int(raw)
            else:
                values[f.name] = float(raw)
        return cls(**values)  # type: ignore[arg-type]
