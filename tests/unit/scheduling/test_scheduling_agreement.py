"""The incremental schedulers, the stateless ``select`` and a naive reference agree.

The simulator drives the incremental ``Scheduler``; the live cluster calls
``select``. Both must make the same decisions, job for job.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from computenet.scheduling import QueuedJob, RunningJob, get_policy, make_scheduler
from computenet.scheduling.engine import EngineJob, run

# -- reference: the textbook algorithms written plainly, called afresh at every
# event instant with the engine's ordering (completions, arrivals, decision).

Select = Callable[[Sequence[QueuedJob], Sequence[RunningJob], int, float], list[Hashable]]


def naive_fcfs(
    pending: Sequence[QueuedJob], running: Sequence[RunningJob], capacity: int, now: float
) -> list[Hashable]:
    free = capacity - sum(r.procs for r in running)
    chosen: list[Hashable] = []
    for job in pending:
        if job.procs > free:
            break
        chosen.append(job.id)
        free -= job.procs
    return chosen


def naive_easy(
    pending: Sequence[QueuedJob],
    running: Sequence[RunningJob],
    capacity: int,
    now: float,
    shortest_first: bool = False,
) -> list[Hashable]:
    free = capacity - sum(r.procs for r in running)
    chosen: list[Hashable] = []
    ends = [(r.end, r.procs) for r in running]
    queue = list(pending)
    while queue and queue[0].procs <= free:
        job = queue.pop(0)
        chosen.append(job.id)
        free -= job.procs
        ends.append((now + job.estimate_s, job.procs))
    if not queue:
        return chosen
    head, rest = queue[0], queue[1:]
    ends.sort()
    avail = free
    shadow = float("inf")
    for end, procs in ends:
        avail += procs
        if avail >= head.procs:
            shadow = end
            break
    # the extra processors are all those free at the shadow time, including
    # every job that ends exactly then
    avail = free + sum(procs for end, procs in ends if end <= shadow)
    extra = avail - head.procs
    if shortest_first:
        rest = sorted(rest, key=lambda job: job.estimate_s)  # stable: ties keep queue order
    for job in rest:
        if job.procs > free:
            continue
        if now + job.estimate_s <= shadow:
            pass
        elif job.procs <= extra:
            extra -= job.procs
        else:
            continue
        chosen.append(job.id)
        free -= job.procs
    return chosen


def naive_easy_sjf(
    pending: Sequence[QueuedJob], running: Sequence[RunningJob], capacity: int, now: float
) -> list[Hashable]:
    return naive_easy(pending, running, capacity, now, shortest_first=True)


def simulate_with_select(
    select: Select, jobs: Sequence[EngineJob], capacity: int
) -> dict[int, tuple[float, float]]:
    """job_id -> (start, end), calling ``select`` afresh at every event instant."""
    arrivals = sorted(jobs, key=lambda job: job.submit)
    by_id = {job.job_id: job for job in arrivals}
    pending: list[QueuedJob] = []
    running: dict[int, tuple[float, float]] = {}  # id -> (true end, estimated end)
    result: dict[int, tuple[float, float]] = {}
    index = 0
    while index < len(arrivals) or running:
        times = [end for end, _ in running.values()]
        if index < len(arrivals):
            times.append(arrivals[index].submit)
        now = min(times)
        for job_id in [j for j, (end, _) in running.items() if end <= now]:
            del running[job_id]
        while index < len(arrivals) and arrivals[index].submit <= now:
            job = arrivals[index]
            pending.append(QueuedJob(job.job_id, job.procs, job.estimate_s, job.submit))
            index += 1
        run_view = [RunningJob(j, by_id[j].procs, est) for j, (_, est) in running.items()]
        for job_id in select(pending, run_view, capacity, now):
            job = by_id[job_id]  # type: ignore[index]
            running[job.job_id] = (now + job.runtime_s, now + job.estimate_s)
            result[job.job_id] = (now, now + job.runtime_s)
            pending = [p for p in pending if p.id != job_id]
        if not running and index >= len(arrivals):
            break
    return result


# -- the checks


@st.composite
def workloads(draw: st.DrawFn, oracle: bool = False) -> tuple[int, list[EngineJob]]:
    capacity = draw(st.integers(1, 8))
    count = draw(st.integers(1, 14))
    submit = 0
    jobs = []
    for job_id in range(1, count + 1):
        submit += draw(st.integers(0, 6))
        runtime = draw(st.integers(1, 25))
        estimate = runtime if oracle else runtime + draw(st.integers(0, 20))
        procs = draw(st.integers(1, capacity))
        jobs.append(EngineJob(job_id, float(submit), procs, float(runtime), float(estimate)))
    return capacity, jobs


def engine_schedule(
    policy: str, capacity: int, jobs: list[EngineJob]
) -> dict[int, tuple[float, float]]:
    return {s.job_id: (s.start, s.end) for s in run(make_scheduler(policy, capacity), jobs)}


@settings(max_examples=150, deadline=None)
@given(workloads())
def test_easy_engine_matches_naive_reference(workload: tuple[int, list[EngineJob]]) -> None:
    capacity, jobs = workload
    expected = simulate_with_select(naive_easy, jobs, capacity)
    assert engine_schedule("easy", capacity, jobs) == expected


@settings(max_examples=150, deadline=None)
@given(workloads())
def test_easy_sjf_engine_matches_naive_reference(workload: tuple[int, list[EngineJob]]) -> None:
    capacity, jobs = workload
    expected = simulate_with_select(naive_easy_sjf, jobs, capacity)
    assert engine_schedule("easy-sjf", capacity, jobs) == expected


@settings(max_examples=120, deadline=None)
@given(workloads())
def test_fcfs_engine_matches_naive_reference(workload: tuple[int, list[EngineJob]]) -> None:
    capacity, jobs = workload
    expected = simulate_with_select(naive_fcfs, jobs, capacity)
    assert engine_schedule("fcfs", capacity, jobs) == expected


@settings(max_examples=120, deadline=None)
@given(workloads())
def test_select_matches_engine_for_every_policy(workload: tuple[int, list[EngineJob]]) -> None:
    capacity, jobs = workload
    for name in ("fcfs", "easy", "easy-sjf"):
        expected = engine_schedule(name, capacity, jobs)
        assert simulate_with_select(get_policy(name).select, jobs, capacity) == expected, name


@settings(max_examples=120, deadline=None)
@given(workloads(oracle=True))
def test_conservative_select_matches_engine_with_exact_estimates(
    workload: tuple[int, list[EngineJob]],
) -> None:
    # With exact estimates nothing ends early, so the stateless select
    # (reservations rebuilt in priority order) and the incremental
    # scheduler (reservations kept) must agree exactly.
    capacity, jobs = workload
    expected = engine_schedule("conservative", capacity, jobs)
    select = get_policy("conservative").select
    assert simulate_with_select(select, jobs, capacity) == expected
