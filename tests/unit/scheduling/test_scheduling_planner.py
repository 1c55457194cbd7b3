"""predict_start: the broker's question, answered by playing the queue forward."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from computenet.scheduling import (
    POLICY_NAMES,
    QueuedJob,
    RunningJob,
    get_policy,
    make_scheduler,
    predict_start,
)
from computenet.scheduling.engine import EngineJob, run
from computenet.scheduling.profile import Profile


def test_fcfs_prediction_waits_for_everyone_ahead() -> None:
    pending = [QueuedJob("a", 4, 100.0), QueuedJob("b", 2, 10.0)]
    running = [RunningJob("r", 3, 20.0)]
    job = QueuedJob("new", 2, 5.0)
    # a (ends 120) and b (ends 30) start at 20 and fill the machine
    assert predict_start("fcfs", pending, running, 6, 0.0, job) == 30.0


def test_easy_prediction_backfills_a_short_job() -> None:
    pending = [QueuedJob("a", 4, 100.0)]
    running = [RunningJob("r", 3, 20.0)]
    job = QueuedJob("new", 3, 5.0)  # fits in the 3 free procs and ends before 20
    assert predict_start("easy", pending, running, 6, 0.0, job) == 0.0
    # behind a (4 of 6 procs until 120), 3 procs are free only at 120
    assert predict_start("fcfs", pending, running, 6, 0.0, job) == 120.0


def test_conservative_prediction_is_the_reservation() -> None:
    pending = [QueuedJob("a", 4, 100.0)]
    running = [RunningJob("r", 3, 20.0)]
    long_job = QueuedJob("new", 3, 50.0)  # would overlap a's reservation at 20
    assert predict_start("conservative", pending, running, 6, 0.0, long_job) == 120.0


def test_overrun_running_job_is_taken_to_end_now() -> None:
    running = [RunningJob("late", 4, 50.0)]  # estimate passed at 50, still running at 60
    job = QueuedJob("new", 2, 5.0)
    for policy in POLICY_NAMES:
        start = predict_start(policy, [], running, 4, 60.0, job)
        assert 60.0 < start < 60.1, policy


def test_job_wider_than_cluster_never_starts() -> None:
    assert predict_start("easy", [], [], 4, 0.0, QueuedJob("w", 5, 1.0)) == math.inf


def test_unknown_policy_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown queue policy"):
        predict_start("lottery", [], [], 4, 0.0, QueuedJob("j", 1, 1.0))
    with pytest.raises(ValueError, match="unknown queue policy"):
        get_policy("lottery")


@st.composite
def queues(draw: st.DrawFn) -> tuple[int, list[QueuedJob], QueuedJob]:
    capacity = draw(st.integers(1, 8))
    pending = [
        QueuedJob(i, draw(st.integers(1, capacity)), float(draw(st.integers(1, 30))))
        for i in range(draw(st.integers(0, 12)))
    ]
    job = QueuedJob("new", draw(st.integers(1, capacity)), float(draw(st.integers(1, 30))))
    return capacity, pending, job


@settings(max_examples=150, deadline=None)
@given(queues(), st.sampled_from(POLICY_NAMES))
def test_prediction_equals_replay_with_exact_estimates(
    queue: tuple[int, list[QueuedJob], QueuedJob], policy: str
) -> None:
    # With estimates as runtimes and no later arrivals, the prediction must
    # be exactly what the simulator does with the same queue.
    capacity, pending, job = queue
    predicted = predict_start(policy, pending, [], capacity, 0.0, job)
    stream = [EngineJob(i, 0.0, q.procs, q.estimate_s, q.estimate_s) for i, q in enumerate(pending)]
    stream.append(EngineJob(-1, 0.0, job.procs, job.estimate_s, job.estimate_s))
    replayed = {s.job_id: s.start for s in run(make_scheduler(policy, capacity), stream)}
    assert predicted == replayed[-1]


def test_profile_earliest_fit_reserve_release() -> None:
    profile = Profile(4, origin=0.0)
    profile.reserve(0.0, 10.0, 3)
    profile.reserve(10.0, 20.0, 4)
    assert profile.earliest_fit(1, 5.0, 0.0) == 0.0
    assert profile.earliest_fit(1, 15.0, 0.0) == 20.0  # would cross the full step
    assert profile.earliest_fit(2, 1.0, 0.0) == 20.0
    assert profile.earliest_fit(5, 1.0, 0.0) == math.inf
    profile.release(10.0, 20.0, 4)
    assert profile.steps() == [(0.0, 1), (10.0, 4)]  # equal steps merged back
    profile.advance(5.0)
    assert profile.steps() == [(5.0, 1), (10.0, 4)]
    assert profile.free_at(7.0) == 1
