"""The callable-scale check in trace replay: answers, injection, real starts."""

from __future__ import annotations

import pytest

from computenet.network.capacity import parse_shape
from computenet.scheduling.engine import EngineJob
from computenet.sim.callable_hold import probe_trace, summarise
from computenet.sim.errors import SimError

SHORT = parse_shape("cpus=1,time=1:00")  # 60 s


def job(i: int, submit: float, procs: int, runtime: float, estimate: float) -> EngineJob:
    return EngineJob(i, submit, procs, runtime, estimate)


def test_a_full_machine_offers_nothing_now_and_everything_once_it_drains() -> None:
    jobs = [job(1, 0, 4, 100, 100), job(2, 5000, 1, 10, 10)]
    probes = probe_trace(jobs, 4, [SHORT], [0.0, 100.0], at=[10.0])
    now, later = probes
    assert (now.nodes, now.held, now.start) == (0, True, None)  # zero holds trivially
    assert (later.nodes, later.held, later.start) == (4, True, 100.0)
    assert later.tight is None  # the whole machine: nothing larger to try


def test_answers_use_requests_and_the_real_run_only_starts_earlier() -> None:
    # the running job asked for 1000 s and ends after 50: the forecast waits for
    # 1000 s, the replay sees it end at 50, so the answer holds and is not tight
    jobs = [job(1, 0, 3, 50, 1000), job(2, 9000, 1, 10, 10)]
    (p,) = probe_trace(jobs, 4, [SHORT], [1000.0], at=[10.0])
    assert p.nodes == 4 and p.held and p.start == 50.0
    (q,) = probe_trace(jobs, 4, [SHORT], [500.0], at=[10.0])
    assert q.nodes == 1 and q.held and q.tight is False  # 2 would have started at 50 too


def test_a_short_job_may_start_before_a_wide_head_it_does_not_delay() -> None:
    """EASY backfills a short job into the CPUs free before the queued wide
    job's reservation; the answer counts on exactly that."""
    jobs = [
        job(1, 0, 2, 100, 100),
        job(2, 1, 4, 100, 100),  # queued behind: needs the whole machine at 100
        job(3, 20, 2, 50, 50),  # arrives after the probe; backfills into 2 free CPUs
    ]
    (p,) = probe_trace(jobs, 4, [SHORT], [30.0], at=[10.0])
    # 2 CPUs are free now, and a 60 s job ends before the wide job's start at 100
    assert p.nodes == 2 and p.start == 10.0 and p.held
    summary = summarise([p])[0]
    assert (summary.probes, summary.held, summary.fraction) == (1, 1, 1.0)


def test_the_naive_baseline_ignores_the_queue_and_can_fail() -> None:
    jobs = [job(1, 0, 4, 100, 100), job(2, 1, 4, 100, 100), job(3, 9000, 1, 1, 1)]
    (p,) = probe_trace(jobs, 4, [SHORT], [150.0], at=[10.0], naive=True)
    assert p.nodes == 4 and not p.held  # job 2 takes the machine at 100
    (q,) = probe_trace(jobs, 4, [SHORT], [150.0], at=[10.0])
    assert q.nodes == 0  # the forecast knows job 2 comes first


def test_bad_input_is_a_sim_error() -> None:
    with pytest.raises(SimError):
        probe_trace([], 4, [SHORT], [60.0])
    with pytest.raises(SimError, match="policy"):
        probe_trace([job(1, 0, 1, 1, 1)], 4, [SHORT], [60.0], policy="conservative")
    with pytest.raises(SimError, match="shorter"):
        probe_trace([job(1, 0, 1, 1, 1), job(2, 10, 1, 1, 1)], 4, [SHORT], [3600.0])
