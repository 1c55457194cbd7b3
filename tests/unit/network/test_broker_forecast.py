"""The queue forecast answers exactly what the planner answers, for any job
appended to any queue at the snapshot time; later, it lets the queue move on."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from computenet.network.forecast import QueueForecast
from computenet.scheduling import QueuedJob, RunningJob, predict_start

NOW = 1000.0
CAP = 16

durations = st.integers(min_value=1, max_value=400).map(float)
queues = st.tuples(
    st.lists(st.tuples(st.integers(1, CAP), durations), max_size=6),  # running
    st.lists(st.tuples(st.integers(1, CAP + 4), durations), max_size=25),  # pending
)
Spec = list[tuple[int, float]]


def build(running_spec: Spec, pending_spec: Spec) -> tuple[list[QueuedJob], list[RunningJob]]:
    running, used = [], 0
    for i, (procs, left) in enumerate(running_spec):
        if used + procs > CAP:
            break
        used += procs
        running.append(RunningJob(f"r{i}", procs, NOW + left))
    pending = [QueuedJob(f"p{i}", p, e, NOW) for i, (p, e) in enumerate(pending_spec)]
    return pending, running


@settings(max_examples=300, deadline=None)
@given(queues, st.sampled_from(["easy", "fcfs"]), st.integers(1, CAP + 2), durations)
def test_forecast_equals_planner(
    q: tuple[Spec, Spec], policy: str, procs: int, estimate: float
) -> None:
    pending, running = build(*q)
    forecast = QueueForecast(policy, pending, running, CAP, NOW)
    job = QueuedJob("new", procs, estimate, NOW)
    assert forecast.predict_start(procs, estimate) == predict_start(
        policy, pending, running, CAP, NOW, job
    )


@settings(deadline=None)
@given(queues, st.integers(1, CAP), durations)
def test_other_policies_fall_back_to_the_planner(
    q: tuple[Spec, Spec], procs: int, estimate: float
) -> None:
    pending, running = build(*q)
    for policy in ("conservative", "easy-sjf"):
        forecast = QueueForecast(policy, pending, running, CAP, NOW)
        job = QueuedJob("new", procs, estimate, NOW)
        assert forecast.predict_start(procs, estimate) == predict_start(
            policy, pending, running, CAP, NOW, job
        )


def test_a_later_submission_meets_the_queue_as_it_moved_on() -> None:
    # a 1 s job starts at once; asked 1 s later, a full-width job starts then,
    # where the planner fed the stale queue would wait for the 1 s job again
    forecast = QueueForecast("easy", [QueuedJob("p", 1, 1.0, NOW)], [], CAP, NOW)
    assert forecast.predict_start(CAP, 1.0, NOW + 1) == NOW + 1
    assert forecast.predict_start(CAP, 1.0, NOW + 0.5) == NOW + 1
    assert forecast.predict_start(CAP, 1.0, NOW - 5) == NOW + 1  # never before now


def test_hand_case_backfill_and_wait() -> None:
    running = [RunningJob("r", 12, NOW + 100)]
    pending = [QueuedJob("head", 16, 50, NOW)]
    f = QueueForecast("easy", pending, running, CAP, NOW)
    assert f.predict_start(4, 100) == NOW  # ends by the head's shadow: backfills
    assert f.predict_start(4, 101) == NOW + 150  # would delay the head: after it
    assert f.predict_start(17, 1) == float("inf")
    fcfs = QueueForecast("fcfs", pending, running, CAP, NOW)
    assert fcfs.predict_start(4, 100) == NOW + 150  # FCFS never skips the head
