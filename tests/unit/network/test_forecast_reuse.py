"""A forecast kept for an unchanged queue answers exactly as a fresh one made
later would, for as long as it says it is valid."""

from __future__ import annotations

import gc
import weakref

from hypothesis import given, settings
from hypothesis import strategies as st

from computenet.model import Snapshot
from computenet.network import ClusterView, estimates
from computenet.network.estimates import partition_forecast
from computenet.network.forecast import QueueForecast
from computenet.scheduling import QueuedJob, RunningJob

from .conftest import cluster, snapshot

NOW = 1000.0
CAP = 16

durations = st.integers(min_value=1, max_value=400).map(float)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, CAP), st.floats(-50, 400)), max_size=6),
    st.lists(st.tuples(st.integers(1, CAP + 4), durations), max_size=20),
    st.sampled_from(["easy", "fcfs"]),
    st.floats(0, 500),
    st.integers(1, CAP),
    durations,
)
def test_a_kept_forecast_answers_as_a_fresh_one(
    running_spec: list[tuple[int, float]],
    pending_spec: list[tuple[int, float]],
    policy: str,
    later: float,
    procs: int,
    estimate: float,
) -> None:
    running, used = [], 0
    for i, (p, left) in enumerate(running_spec):
        if used + p <= CAP:
            running.append(RunningJob(f"r{i}", p, NOW + left))
            used += p
    pending = [QueuedJob(f"p{i}", p, e, NOW - 1) for i, (p, e) in enumerate(pending_spec)]
    kept = QueueForecast(policy, pending, running, CAP, NOW)
    at = NOW + later
    if not at < kept.valid_until:
        return
    fresh = QueueForecast(policy, pending, running, CAP, at)
    assert kept.predict_start(procs, estimate, at) == fresh.predict_start(procs, estimate, at)


def test_the_broker_keeps_the_forecast_of_an_unchanged_queue_only() -> None:
    info = cluster("a", cores=4, nodes=2, scheduler="easy")
    first = snapshot(info, NOW, running=[(8, NOW, 600)], pending=[(4, 300)])
    part = info.partitions[0]
    f1 = partition_forecast(ClusterView(info, first), first, part)
    # the same queue 10 s later (a new snapshot object): the same forecast
    again = Snapshot(NOW + 10, first.nodes, first.running, first.pending)
    assert partition_forecast(ClusterView(info, again), again, part) is f1
    # past the running job's end it is not valid any more
    late = Snapshot(NOW + 700, first.nodes, first.running, first.pending)
    assert partition_forecast(ClusterView(info, late), late, part) is not f1
    # a changed queue gets a new one
    changed = snapshot(info, NOW + 20, running=[(8, NOW, 600)], pending=[(4, 300), (1, 60)])
    assert partition_forecast(ClusterView(info, changed), changed, part) is not f1


def test_the_memo_of_forecasts_keeps_no_snapshot_alive() -> None:
    """Each pass makes new snapshots; a memo that held them kept every pass's
    nodes and jobs on the heap (and the collector's full passes over them
    stalled the server)."""
    info = cluster("a", cores=4, nodes=2, scheduler="easy")
    part = info.partitions[0]
    before = len(estimates._FORECASTS)
    snaps = [snapshot(info, NOW + i, running=[(8, NOW, 600)]) for i in range(20)]
    made = [partition_forecast(ClusterView(info, s), s, part) for s in snaps]
    # the memo answers while the snapshot lives
    assert partition_forecast(ClusterView(info, snaps[3]), snaps[3], part) is made[3]
    probe = weakref.ref(snaps[0])
    del snaps
    gc.collect()
    assert probe() is None
    assert len(estimates._FORECASTS) == before
