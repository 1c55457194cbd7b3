"""Learned speed factors in the live controller.

The broker predicts a job's run time as its requested time divided by a
factor learned from finished jobs (``network.speed.SpeedModel``). The
controller keeps one model, warms it at start from the last completed
attempts in the store, feeds it each attempt that completes, and hands the
factors to the broker in every cluster view. Jobs already queued or running
at a cluster usually end early too, so their time limits in the snapshot
are shortened by the cluster's factor for any app: the predicted start
behind them moves forward by the same measure. Catalogue applications'
measured speeds (``network.app_speed``, fed by ``core.app_figures``) go
into the views beside the factors and take precedence for their runs;
partitions' speeds measured by benchmark jobs (``network.bench_speed``, fed
by ``core.bench``) replace configured factors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlalchemy import select

from computenet.model import JobSpec, JobState, Snapshot, SnapshotJob
from computenet.network import ClusterView
from computenet.network.app_speed import AppSpeedModel
from computenet.network.bench_speed import BenchSpeed
from computenet.network.speed import ANY_APP, SpeedModel
from computenet.store.db import Store
from computenet.store.tables import AttemptRow, JobRow

#: Completed attempts read at start; the model keeps at most ``window`` per key anyway.
WARM_ATTEMPTS = 300


def observe(
    model: SpeedModel, spec: JobSpec, cluster: str, start_time: float | None, end_time: float
) -> None:
    """Feed one completed attempt (no time limit or no start: no signal)."""
    if spec.time_limit_s is None or start_time is None:
        return
    model.observe(spec.app, cluster, float(spec.time_limit_s), end_time - start_time)


def warm(model: SpeedModel, store: Store, limit: int = WARM_ATTEMPTS) -> int:
    """Feed the model the last ``limit`` completed attempts, oldest first; returns how many."""
    with store.session() as s:
        rows = list(
            s.execute(
                select(AttemptRow.cluster, AttemptRow.start_time, AttemptRow.end_time, JobRow.spec)
                .join(JobRow, JobRow.id == AttemptRow.job_id)
                .where(
                    AttemptRow.state == JobState.COMPLETED.value,
                    AttemptRow.start_time.is_not(None),
                    AttemptRow.end_time.is_not(None),
                )
                .order_by(AttemptRow.end_time.desc())
                .limit(limit)
            )
        )
    for cluster, start, end, spec in reversed(rows):
        limit_s, app = spec.get("time_limit_s"), spec.get("app")
        if isinstance(limit_s, int | float) and start is not None and end is not None:
            app_name = app if isinstance(app, str) else None
            model.observe(app_name, cluster, float(limit_s), end - start)
    return len(rows)


def shorten(job: SnapshotJob, factor: float) -> SnapshotJob:
    """A queue entry's limit as the cluster's jobs really run (only ever shorter)."""
    if factor <= 1.0:
        return job
    return replace(job, time_limit_s=max(1, int(job.time_limit_s / factor)))


def _shortened(snap: Snapshot, factor: float) -> Snapshot:
    return replace(
        snap,
        running=tuple(shorten(j, factor) for j in snap.running),
        pending=tuple(shorten(j, factor) for j in snap.pending),
    )


def with_speed(
    views: dict[str, Any],
    model: SpeedModel,
    measured: AppSpeedModel | None = None,
    bench: Mapping[tuple[str, str], BenchSpeed] | None = None,
) -> dict[str, Any]:
    """The views with each cluster's learned factors (and how many runs each
    rests on), catalogue applications' measured speeds from ``measured``,
    partitions' benchmark speeds from ``bench``, and its queue's limits
    shortened by its any-app factor when that is above 1."""
    out: dict[str, Any] = {}
    for name, view in views.items():
        factors = model.factors(name)
        apps = measured.measured(name) if measured is not None else {}
        benched = {p: b for (c, p), b in (bench or {}).items() if c == name}
        if benched and isinstance(view, ClusterView):
            view = replace(view, bench_speed=benched)
        if not (factors or apps) or not isinstance(view, ClusterView):
            out[name] = view
            continue
        snap = view.snapshot
        factor = factors.get(ANY_APP, 1.0)
        if snap is not None and factor > 1.0:
            snap = _shortened(snap, factor)
        runs = {app: model.samples(None if app == ANY_APP else app, name) for app in factors}
        out[name] = replace(view, speed=factors, speed_runs=runs, app_speed=apps, snapshot=snap)
    return out
