"""Network replay on tiny traces whose schedules can be worked out by hand."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from computenet.sim.errors import SimError
from computenet.sim.network import NetworkConfig, pooled, replay_network
from computenet.sim.network_trace import Centre, compress, read_centre


def write_swf(path: Path, capacity: int, jobs: Sequence[tuple[float, int, float, float]]) -> Path:
    """``jobs``: (submit, procs, runtime, requested time)."""
    lines = [f"; MaxProcs: {capacity}", f"; MaxNodes: {capacity}"]
    for i, (submit, procs, run, req) in enumerate(jobs, 1):
        fields = [i, submit, 0, run, procs, -1, -1, procs, req, -1, 1, 1, 1, 1, 1, 1, -1, -1]
        lines.append(" ".join(str(f) for f in fields))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def two_centres(tmp_path: Path) -> list[Centre]:
    """A (4 procs): two full-width 100 s jobs at 0 and 10 s, so the second waits
    90 s at home. B (4 procs): one 1-proc 10 s job at 0 (its clock starts at 5000,
    aligned to 0), so B is empty from 10 s on."""
    a = write_swf(tmp_path / "A-2000-1.swf", 4, [(0, 4, 100, 100), (10, 4, 100, 100)])
    b = write_swf(tmp_path / "B-2000-1.swf", 4, [(5000, 1, 10, 10)])
    return [read_centre(a), read_centre(b)]


def test_home_keeps_everyone_home(two_centres: list[Centre]) -> None:
    r = replay_network(two_centres, NetworkConfig(policy="home", record_schedule=True))
    assert [c.name for c in r.clusters] == ["A", "B"]
    assert r.jobs == 3 and r.moved_fraction == 0.0
    assert r.mean_wait_s == pytest.approx(90 / 3)
    assert r.mean_bsld == pytest.approx((1 + 190 / 100 + 1) / 3)
    assert r.makespan_s == 200.0
    assert r.utilization == pytest.approx((4 * 100 * 2 + 10) / (8 * 200))
    starts = {(s.cluster, s.job_id): (s.start, s.end) for s in r.schedule}
    assert starts == {("A", 1): (0, 100), ("A", 2): (100, 200), ("B", 1): (0, 10)}


@pytest.mark.parametrize("estimator", ["fast", "planner"])
@pytest.mark.parametrize("policy", ["fastest", "balanced", "cheapest"])
def test_broker_moves_the_waiting_job(
    two_centres: list[Centre], policy: str, estimator: str
) -> None:
    r = replay_network(two_centres, NetworkConfig(policy=policy, estimator=estimator))
    assert r.mean_wait_s == 0.0
    assert r.moved_fraction == pytest.approx(1 / 3)
    assert [c.moved_in for c in r.clusters] == [0, 1]
    assert r.predictions is not None and r.predictions.mean_abs_error_s == 0.0


def test_local_first_moves_only_past_the_threshold(two_centres: list[Centre]) -> None:
    # the second job's home wait is 90 s: under the 300 s default it stays
    r = replay_network(two_centres, NetworkConfig(policy="local-first"))
    assert r.moved_fraction == 0.0 and r.mean_wait_s == pytest.approx(30.0)


def test_move_delay_is_paid_and_seen_by_the_broker(two_centres: list[Centre]) -> None:
    r = replay_network(two_centres, NetworkConfig(policy="fastest", move_delay_s=5.0))
    assert r.mean_wait_s == pytest.approx(5 / 3)  # queued at B 5 s after submission
    slow = replay_network(two_centres, NetworkConfig(policy="fastest", move_delay_s=95.0))
    assert slow.moved_fraction == 0.0  # 95 s of staging beats a 90 s wait at home: stay


def test_speed_and_price_change_run_time_and_cost(two_centres: list[Centre]) -> None:
    config = NetworkConfig(
        policy="fastest", speeds=(1.0, 2.0), prices=(1.0, 3.0), record_schedule=True
    )
    r = replay_network(two_centres, config)
    # B runs twice as fast: A's 100 s jobs take 50 s there, so both finish sooner on
    # B even one after the other (0-50, 50-100) than on A (0-100, 100-200). B's own
    # 10 s job, arriving when B is full, runs on A in 20 s instead of waiting 50 s.
    assert [(s.cluster, s.job_id, s.start, s.end) for s in r.schedule] == [
        ("B", 1, 0.0, 50.0),  # A's job 1
        ("A", 1, 0.0, 20.0),  # B's job 1
        ("B", 2, 50.0, 100.0),
    ]
    assert r.clusters[0].cost == pytest.approx(20 / 3600 * 1.0)
    assert r.cost == pytest.approx(20 / 3600 + (4 * 50 * 2) / 3600 * 3.0)


def test_pooled_machine_runs_all_at_once(two_centres: list[Centre]) -> None:
    r = replay_network([pooled(two_centres)], NetworkConfig())
    assert r.clusters[0].capacity == 8
    assert r.mean_wait_s == 0.0 and r.mean_bsld == 1.0


@pytest.mark.parametrize("policy", ["round-robin", "random", "weighted-random", "load", "fastest"])
def test_jobs_wider_than_a_centre_never_go_there(tmp_path: Path, policy: str) -> None:
    jobs = [(t * 10.0, 6, 50, 60) for t in range(20)]
    a = read_centre(write_swf(tmp_path / "A-2000-1.swf", 8, jobs))
    b = read_centre(write_swf(tmp_path / "B-2000-1.swf", 4, [(0, 1, 10, 10)]))
    r = replay_network([a, b], NetworkConfig(policy=policy, seed=3, record_schedule=True))
    assert all(s.cluster == "A" for s in r.schedule if s.procs > 4)
    assert r.jobs == 21


def test_round_robin_alternates(tmp_path: Path) -> None:
    a = read_centre(write_swf(tmp_path / "A-2000-1.swf", 4, [(t, 1, 5, 5) for t in range(4)]))
    b = read_centre(write_swf(tmp_path / "B-2000-1.swf", 4, [(0, 1, 5, 5)]))
    r = replay_network([a, b], NetworkConfig(policy="round-robin"))
    assert [c.jobs for c in r.clusters] == [2, 3]


def test_random_baselines_are_seeded(two_centres: list[Centre]) -> None:
    one = replay_network(two_centres, NetworkConfig(policy="random", seed=7))
    two = replay_network(two_centres, NetworkConfig(policy="random", seed=7))
    assert one.mean_wait_s == two.mean_wait_s
    assert [c.jobs for c in one.clusters] == [c.jobs for c in two.clusters]


def test_window_and_compression(tmp_path: Path) -> None:
    day = 86400.0
    path = write_swf(
        tmp_path / "A-2000-1.swf", 4, [(0, 1, 5, 5), (day / 2, 1, 5, 5), (2 * day, 1, 5, 5)]
    )
    assert len(read_centre(path, window_days=1).jobs) == 2
    squeezed = compress(read_centre(path), 2.0)
    assert [j.submit for j in squeezed.jobs] == [0.0, day / 4, day]
    with pytest.raises(SimError):
        compress(squeezed, 0.0)


def test_bad_options_are_refused(two_centres: list[Centre]) -> None:
    with pytest.raises(SimError, match="unknown policy 'best'"):
        replay_network(two_centres, NetworkConfig(policy="best"))
    with pytest.raises(SimError, match="speeds: got 1 values for 2 centres"):
        replay_network(two_centres, NetworkConfig(speeds=(1.0,)))
