"""Estimates for one (job, cluster, partition): start, run time, staging, cost.

Start times come from the cluster's own queue: the snapshot's running jobs
(ending at start + time limit) and pending jobs, replayed through the
planner with the queue policy the cluster runs (``ClusterInfo.scheduler``).
The conversion of a snapshot into planner input is memoised per snapshot
object, because the controller places many jobs against one snapshot.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from computenet.model import JobSpec, Snapshot
from computenet.network.feasibility import Fit
from computenet.network.view import ClusterView
from computenet.scheduling import QueuedJob, RunningJob

_NEW_JOB_ID = "__placement__"


@dataclass(frozen=True)
class Estimate:
    start: float  # predicted start (after staging and queueing)
    runtime_s: float
    staging_s: float
    cost: float

    @property
    def end(self) -> float:
        return self.start + self.runtime_s


@dataclass(frozen=True)
class _Queue:
    pending: tuple[QueuedJob, ...]
    running: tuple[RunningJob, ...]
    capacity: int


# id(snapshot) -> (snapshot, {partition: queue}); the snapshot is held so
# its id cannot be reused while the entry lives.
_QUEUES: OrderedDict[int, tuple[Snapshot, dict[str, _Queue]]] = OrderedDict()
_QUEUES_MAX = 256


def speed_factor(spec: JobSpec, view: ClusterView, fit: Fit) -> float:
    """Learned factor for the job's app, else for any app, else the node type's."""
    if spec.app is not None and spec.app in view.speed:
        return view.speed[spec.app]
    if "*" in view.speed:
        return view.speed["*"]
    return fit.partition.node_type.speed


def _queue(snapshot: Snapshot, fit: Fit) -> _Queue:
    entry = _QUEUES.get(id(snapshot))
    if entry is None or entry[0] is not snapshot:
        entry = (snapshot, {})
        _QUEUES[id(snapshot)] = entry
        if len(_QUEUES) > _QUEUES_MAX:
            _QUEUES.popitem(last=False)
    by_partition = entry[1]
    name = fit.partition.name
    queue = by_partition.get(name)
    if queue is None:
        now = snapshot.time
        running = tuple(
            RunningJob(
                j.native_id,
                j.cpus,
                max(now, (j.start_time if j.start_time is not None else now) + j.time_limit_s),
            )
            for j in snapshot.running
            if j.partition == name
        )
        pending = tuple(
            QueuedJob(j.native_id, j.cpus, float(j.time_limit_s), j.submit_time)
            for j in snapshot.pending
            if j.partition == name
        )
        live = [n for n in snapshot.nodes if n.partition == name]
        if live:
            capacity = sum(n.cpus for n in live if n.state not in ("down", "drained"))
        else:
            capacity = fit.partition.total_cpus
        queue = _Queue(pending, running, capacity)
        by_partition[name] = queue
    return queue


def queue_start(view: ClusterView, fit: Fit, now: float) -> float:
    """When the cluster's queue would start the job if submitted now."""
    if view.start_model is not None:
        return view.start_model.predict_start(
            fit.partition.name, fit.cpus, float(fit.time_limit_s), now
        )
    if view.snapshot is None:
        return now  # never answered: nothing known about its queue
    queue = _queue(view.snapshot, fit)
    if queue.capacity < fit.cpus:
        return float("inf")  # nodes down: cannot start until they return
    from computenet.scheduling.planner import predict_start

    job = QueuedJob(_NEW_JOB_ID, fit.cpus, float(fit.time_limit_s), now)
    return max(
        now,
        predict_start(view.info.scheduler, queue.pending, queue.running, queue.capacity, now, job),
    )


def estimate(
    spec: JobSpec, view: ClusterView, fit: Fit, *, now: float, input_bytes: int
) -> Estimate:
    runtime_s = fit.time_limit_s / speed_factor(spec, view, fit)
    staging_s = 0.0
    if input_bytes > 0 and view.bandwidth_bytes_per_s:
        staging_s = input_bytes / view.bandwidth_bytes_per_s
    # data arrives before the job is queued, so the queue is asked at arrival
    start = queue_start(view, fit, now + staging_s)
    hours = runtime_s / 3600.0
    p = fit.partition
    cost = (p.price_per_core_hour * fit.cpus + p.price_per_gpu_hour * fit.gpus) * hours
    return Estimate(start=start, runtime_s=runtime_s, staging_s=staging_s, cost=cost)
