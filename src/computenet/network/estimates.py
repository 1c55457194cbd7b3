"""Estimates for one (job, cluster, partition): start, run time, staging, cost.

Start times come from the cluster's own queue: the snapshot's running jobs
(ending at start + time limit) and pending jobs, replayed with the queue
policy the cluster runs (``ClusterInfo.scheduler``). The controller places
many jobs against one snapshot, so each snapshot's queue is replayed once
into a ``QueueForecast`` (memoised per snapshot object and partition) that
answers every later query as the planner would.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from dataclasses import dataclass

from computenet.model import ClusterInfo, JobSpec, PartitionInfo, Snapshot
from computenet.network.app_speed import units_of
from computenet.network.feasibility import Fit
from computenet.network.forecast import QueueForecast
from computenet.network.view import ClusterView
from computenet.scheduling import QueuedJob, RunningJob


@dataclass(frozen=True)
class Estimate:
    start: float  # predicted start (after staging and queueing)
    runtime_s: float
    staging_s: float
    cost: float
    speed_source: str = ""  # where runtime_s came from (``cnet why``)

    @property
    def end(self) -> float:
        return self.start + self.runtime_s


# id(snapshot) -> (weak reference to it, {partition: forecast}). The entry
# goes when its snapshot does: holding the snapshots (as a 256-entry memo
# once did) kept every pass's nodes and jobs alive, and under load the
# garbage collector's full passes over them stalled the server's loop for
# 100-200 ms each.
_FORECASTS: dict[int, tuple[weakref.ref[Snapshot], dict[str, QueueForecast]]] = {}
#: queues whose last forecast is kept for reuse (``_same_queue``)
_FORECASTS_MAX = 256


def _forecasts_of(snapshot: Snapshot) -> dict[str, QueueForecast]:
    """The memo of ``snapshot``'s forecasts, made on first use."""
    key = id(snapshot)
    entry = _FORECASTS.get(key)
    if entry is not None and entry[0]() is snapshot:
        return entry[1]

    def forget(ref: weakref.ref[Snapshot]) -> None:
        # Only this snapshot's entry: its id may already name a newer one.
        if _FORECASTS.get(key, (None,))[0] is ref:
            del _FORECASTS[key]

    memo: dict[str, QueueForecast] = {}
    _FORECASTS[key] = (weakref.ref(snapshot, forget), memo)
    return memo


def _units(per: str, fit: Fit) -> int:
    return units_of(per, fit.cpus, fit.gpus, fit.nodes)


def runtime(spec: JobSpec, view: ClusterView, fit: Fit) -> tuple[float, str]:
    """Predicted run time and its source, best first: the measured speed of
    a catalogue application here, the factor learned from this app's runs,
    from any app's runs, the partition's speed measured by benchmark jobs,
    else the node type's configured speed."""
    if spec.catalogue is not None and spec.app is not None:
        measured = view.app_speed.get(spec.app)
        if measured is not None and _units(measured.per, fit) > 0:
            units = _units(measured.per, fit)
            seconds = measured.runtime_s(fit.partition.name, units, float(fit.time_limit_s))
            return seconds, measured.describe()
    for key in (spec.app, "*"):
        if key is not None and key in view.speed:
            runs = view.speed_runs.get(key)
            what = f"runs of {key}" if key != "*" else "runs"
            count = f"{runs} " if runs else ""
            return fit.time_limit_s / view.speed[key], f"learned from {count}{what}"
    bench = view.bench_speed.get(fit.partition.name)
    if bench is not None and bench.factor > 0:
        return fit.time_limit_s / bench.factor, bench.describe()
    speed = fit.partition.node_type.speed
    return fit.time_limit_s / speed, f"configured speed {speed:g}"


def _forecast(view: ClusterView, snapshot: Snapshot, fit: Fit) -> QueueForecast:
    return partition_forecast(view, snapshot, fit.partition)


def partition_forecast(
    view: ClusterView,
    snapshot: Snapshot,
    partition: PartitionInfo,
    capacity: int | None = None,
) -> QueueForecast:
    """The forecast of ``partition``'s queue in ``snapshot``, memoised per
    snapshot object; ``capacity`` replaces the CPUs its nodes report (the
    capacity a pool reaches once grown)."""
    by_partition = _forecasts_of(snapshot)
    name = partition.name
    key = name if capacity is None else f"{name}\0{capacity}"
    forecast = by_partition.get(key)
    if forecast is None:
        now = snapshot.time
        running = [
            RunningJob(
                j.native_id,
                j.cpus,
                (j.start_time if j.start_time is not None else now) + j.time_limit_s,
            )
            for j in snapshot.running
            if j.partition == name
        ]
        pending = [
            QueuedJob(j.native_id, j.cpus, float(j.time_limit_s), j.submit_time)
            for j in snapshot.pending
            if j.partition == name
        ]
        if capacity is None:
            live = [n for n in snapshot.nodes if n.partition == name]
            if live:
                capacity = sum(n.cpus for n in live if n.state not in ("down", "drained"))
            else:
                capacity = partition.total_cpus
        forecast = _same_queue(view.info, name, capacity, running, pending, now)
        by_partition[key] = forecast
    return forecast


# (cluster, partition, policy, capacity) -> (running, pending, forecast): the
# last forecast of each queue, kept while a new snapshot shows it unchanged.
_BY_QUEUE: OrderedDict[
    tuple[str, str, str, int], tuple[list[RunningJob], list[QueuedJob], QueueForecast]
] = OrderedDict()


def _same_queue(
    info: ClusterInfo,
    partition: str,
    capacity: int,
    running: list[RunningJob],
    pending: list[QueuedJob],
    now: float,
) -> QueueForecast:
    """A forecast of this queue: the last one made, when the queue has not
    changed since and it is still valid at ``now`` (``QueueForecast.valid_until``)."""
    key = (info.name, partition, info.scheduler, capacity)
    kept = _BY_QUEUE.get(key)
    if kept is not None:
        old_running, old_pending, old = kept
        if old.now <= now < old.valid_until and old_running == running and old_pending == pending:
            _BY_QUEUE.move_to_end(key)
            return old
    forecast = QueueForecast(info.scheduler, pending, running, capacity, now)
    _BY_QUEUE[key] = (running, pending, forecast)
    _BY_QUEUE.move_to_end(key)
    if len(_BY_QUEUE) > _FORECASTS_MAX:
        _BY_QUEUE.popitem(last=False)
    return forecast


def queue_start(view: ClusterView, fit: Fit, now: float) -> float:
    """When the cluster's queue would start the job if submitted at ``now``."""
    if view.start_model is not None:
        return view.start_model.predict_start(
            fit.partition.name, fit.cpus, float(fit.time_limit_s), now
        )
    if view.snapshot is None:
        return now  # never answered: nothing known about its queue
    forecast = _forecast(view, view.snapshot, fit)
    return max(now, forecast.predict_start(fit.cpus, float(fit.time_limit_s), now))


def estimate(
    spec: JobSpec, view: ClusterView, fit: Fit, *, now: float, input_bytes: int
) -> Estimate:
    runtime_s, source = runtime(spec, view, fit)
    staging_s = view.image_staging_s  # the container image, copied like an input
    if input_bytes > 0 and view.bandwidth_bytes_per_s:
        staging_s += input_bytes / view.bandwidth_bytes_per_s
    # data arrives before the job is queued, so the queue is asked at arrival
    start = queue_start(view, fit, now + staging_s)
    hours = runtime_s / 3600.0
    p = fit.partition
    cost = (p.price_per_core_hour * fit.cpus + p.price_per_gpu_hour * fit.gpus) * hours
    return Estimate(
        start=start, runtime_s=runtime_s, staging_s=staging_s, cost=cost, speed_source=source
    )
