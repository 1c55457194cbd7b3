"""Golden schedules: tiny traces whose schedules were worked out by hand.

Each trace is replayed through the real engine and compared job for job
with the start times written below. Then invariants over random traces:
no oversubscription, EASY never delays its head's reservation,
conservative never delays any reservation.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Hashable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from computenet.scheduling import make_scheduler
from computenet.scheduling.conservative_backfill import ConservativeBackfillScheduler
from computenet.scheduling.easy_backfill import EasyBackfillScheduler
from computenet.scheduling.engine import EngineJob, run


def jobs(*rows: tuple[int, float, int, float, float]) -> list[EngineJob]:
    """Rows of (id, submit, procs, runtime, estimate)."""
    return [EngineJob(*row) for row in rows]


def starts(policy: str, capacity: int, trace: list[EngineJob]) -> dict[int, float]:
    return {s.job_id: s.start for s in run(make_scheduler(policy, capacity), trace)}


# Trace A, 4 processors: shows EASY and EASY-SJF picking different backfills.
#
# Derivation for EASY (completions, then arrivals, then one decision):
#   t=0  J1 (3 procs) starts, estimated end 10; 1 proc free.
#   t=1  J2 (2) is the head and blocked. Shadow: at 10 J1 frees 3 -> 4 free,
#        so shadow = 10 and extra = 4 - 2 = 2.
#   t=2  J3 (1, est 20) and J4 (1, est 4) arrive. In queue order J3 comes
#        first: it fits (1 <= 1), ends after the shadow (22 > 10) but uses
#        1 <= extra, so it starts (extra 1, free 0). J4 must wait.
#   t=3  J5 (2) arrives; nothing free.
#   t=10 J1 ends: 3 free. J2 starts (1 free), then J4 (now at the head) fits
#        and starts (0 free). J5 is the head, blocked.
#   t=15 J2 ends: J5 starts.
# EASY-SJF instead tries J4 first at t=2 (shorter estimate): 2 + 4 <= 10, so
# J4 starts at 2 and ends at 6; at 6 one proc is free, J5 (2) does not fit,
# J3 uses the extra and starts at 6; J2 at 10, J5 at 15.
# FCFS: J2, J3, J4 all start at 10 when J1 ends; J5 at 15 when J2 ends.
TRACE_A = jobs(
    (1, 0, 3, 10, 10),
    (2, 1, 2, 5, 5),
    (3, 2, 1, 20, 20),
    (4, 2, 1, 4, 4),
    (5, 3, 2, 3, 6),
)

# Trace B, 4 processors: EASY backfills J4 on the head's spare processors,
# which delays J3 (not the head then) from 20 to 33; conservative gives J3 a
# reservation at 20 on arrival and puts J4 after it, at 25.
TRACE_B = jobs(
    (1, 0, 3, 10, 10),
    (2, 1, 2, 10, 10),
    (3, 2, 4, 5, 5),
    (4, 3, 1, 30, 30),
)

# Trace C, 4 processors: J1 ends at 5 instead of 10. Conservative compresses:
# J2 moves from 10 to 5, J3 from 14 to 13, J4 from 10 to 5; a second pass
# moves J3 again, to 9, where J2 (the last job in its way) ends.
TRACE_C = jobs(
    (1, 0, 4, 5, 10),
    (2, 1, 2, 4, 4),
    (3, 1, 4, 2, 2),
    (4, 2, 2, 3, 3),
)

GOLDEN = [
    ("A", TRACE_A, "fcfs", {1: 0, 2: 10, 3: 10, 4: 10, 5: 15}),
    ("A", TRACE_A, "easy", {1: 0, 2: 10, 3: 2, 4: 10, 5: 15}),
    ("A", TRACE_A, "easy-sjf", {1: 0, 2: 10, 3: 6, 4: 2, 5: 15}),
    ("A", TRACE_A, "conservative", {1: 0, 2: 10, 3: 2, 4: 10, 5: 15}),
    ("B", TRACE_B, "fcfs", {1: 0, 2: 10, 3: 20, 4: 25}),
    ("B", TRACE_B, "easy", {1: 0, 2: 10, 3: 33, 4: 3}),
    ("B", TRACE_B, "easy-sjf", {1: 0, 2: 10, 3: 33, 4: 3}),
    ("B", TRACE_B, "conservative", {1: 0, 2: 10, 3: 20, 4: 25}),
    ("C", TRACE_C, "fcfs", {1: 0, 2: 5, 3: 9, 4: 11}),
    ("C", TRACE_C, "easy", {1: 0, 2: 5, 3: 9, 4: 5}),
    ("C", TRACE_C, "conservative", {1: 0, 2: 5, 3: 9, 4: 5}),
]


@pytest.mark.parametrize(
    ("trace", "policy", "expected"),
    [(trace, policy, expected) for _, trace, policy, expected in GOLDEN],
    ids=[f"{name}-{policy}" for name, _, policy, _ in GOLDEN],
)
def test_golden_schedule(trace: list[EngineJob], policy: str, expected: dict[int, float]) -> None:
    assert starts(policy, 4, trace) == expected


def test_wider_than_machine_job_never_starts_and_blocks_nobody() -> None:
    trace = jobs((1, 0, 8, 5, 5), (2, 1, 2, 5, 5))
    for policy in ("fcfs", "easy", "easy-sjf", "conservative"):
        assert starts(policy, 4, trace) == {2: 1}, policy


# -- invariants over random traces ------------------------------------------


@st.composite
def workloads(draw: st.DrawFn) -> tuple[int, list[EngineJob]]:
    capacity = draw(st.integers(1, 10))
    submit = 0
    trace = []
    for job_id in range(1, draw(st.integers(1, 16)) + 1):
        submit += draw(st.integers(0, 8))
        runtime = draw(st.integers(1, 30))
        estimate = runtime + draw(st.integers(0, 30))
        procs = draw(st.integers(1, capacity))
        trace.append(EngineJob(job_id, float(submit), procs, float(runtime), float(estimate)))
    return capacity, trace


def drive(scheduler: object, trace: list[EngineJob], observe: object) -> dict[int, float]:
    """The engine's loop, calling ``observe(now)`` after every decision."""
    sched = scheduler  # typed loosely: the invariants read policy-specific state
    ends: list[tuple[float, int]] = []
    started: dict[int, float] = {}
    by_id = {job.job_id: job for job in trace}
    index = 0
    while index < len(trace) or ends:
        upcoming = [ends[0][0]] if ends else []
        if index < len(trace):
            upcoming.append(trace[index].submit)
        now = min(upcoming)
        while ends and ends[0][0] <= now:
            sched.finish(heapq.heappop(ends)[1], now)  # type: ignore[attr-defined]
        while index < len(trace) and trace[index].submit <= now:
            job = trace[index]
            sched.submit(job.job_id, job.procs, job.estimate_s, now)  # type: ignore[attr-defined]
            index += 1
        for key in sched.schedule(now):  # type: ignore[attr-defined]
            started[key] = now
            heapq.heappush(ends, (now + by_id[key].runtime_s, key))
        observe(now)  # type: ignore[operator]
    return started


@settings(max_examples=200, deadline=None)
@given(workloads(), st.sampled_from(["fcfs", "easy", "easy-sjf", "conservative"]))
def test_no_schedule_oversubscribes(workload: tuple[int, list[EngineJob]], policy: str) -> None:
    capacity, trace = workload
    events: list[tuple[float, int]] = []
    for s in run(make_scheduler(policy, capacity), trace):
        assert s.start >= s.submit
        events += [(s.start, s.procs), (s.end, -s.procs)]
    busy = 0
    for _, delta in sorted(events, key=lambda e: (e[0], e[1])):  # ends before starts
        busy += delta
        assert busy <= capacity
    assert len(events) == 2 * len(trace)  # every job ran


@settings(max_examples=200, deadline=None)
@given(workloads())
def test_easy_never_delays_the_head_reservation(workload: tuple[int, list[EngineJob]]) -> None:
    capacity, trace = workload
    scheduler = EasyBackfillScheduler(capacity)
    promised: dict[Hashable, float] = {}

    def observe(now: float) -> None:
        head = scheduler.head_reservation()
        if head is not None:
            key, shadow = head
            promised[key] = min(shadow, promised.get(key, shadow))

    started = drive(scheduler, trace, observe)
    for key, shadow in promised.items():
        assert started[key] <= shadow  # type: ignore[index]


@settings(max_examples=200, deadline=None)
@given(workloads())
def test_conservative_never_delays_any_reservation(
    workload: tuple[int, list[EngineJob]],
) -> None:
    capacity, trace = workload
    scheduler = ConservativeBackfillScheduler(capacity)
    history: dict[Hashable, list[float]] = {}

    def observe(now: float) -> None:
        for key, start in scheduler.reservations().items():
            history.setdefault(key, []).append(start)

    started = drive(scheduler, trace, observe)
    for key, reserved in history.items():
        assert all(later <= earlier for earlier, later in itertools.pairwise(reserved)), reserved
        assert started[key] <= reserved[-1]  # type: ignore[index]
