"""Pools in the network replay, on traces small enough to work out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from computenet.sim.elastic_study import Point, cost_at, static_curve, threshold_curve
from computenet.sim.errors import SimError
from computenet.sim.network import NetworkConfig, replay_network
from computenet.sim.network_trace import Centre, read_centre
from computenet.sim.pools import PoolSettings
from tests.unit.sim.test_network_replay import write_swf


@pytest.fixture
def busy(tmp_path: Path) -> list[Centre]:
    """One centre of 4 procs: a 4-wide 1000 s job at 0, then a 4-wide 100 s job at 10 s
    (waits 990 s at home)."""
    a = write_swf(tmp_path / "A-2000-1.swf", 4, [(0, 4, 1000, 1000), (10, 4, 100, 100)])
    return [read_centre(a)]


def pools(**kw: object) -> PoolSettings:
    base = {
        "cpus_per_node": 4,
        "max_nodes": 2,
        "boot_delay_s": 60.0,
        "price_per_node_hour": 3.6,
        "idle_release_s": 30.0,
    }
    return PoolSettings(**(base | kw))  # type: ignore[arg-type]


def config(**kw: object) -> NetworkConfig:
    base = {
        "policy": "local-first",
        "remote": False,
        "pools": pools(),
        "wait_threshold_s": 300.0,
        "record_schedule": True,
    }
    return NetworkConfig(**(base | kw))  # type: ignore[arg-type]


def test_the_second_job_bursts_after_the_boot_delay_and_the_node_is_paid_to_its_release(
    busy: list[Centre],
) -> None:
    r = replay_network(busy, config())
    burst = next(s for s in r.schedule if s.job_id == 2)
    assert (burst.cluster, burst.start, burst.end) == ("A-pool", 70.0, 170.0)
    (pool,) = r.pools
    assert (pool.jobs, pool.grown, pool.peak_nodes) == (1, 1, 1)
    # asked at 10, up at 70, job to 170, idle 30 s: released at 200 -> 190 s paid
    assert pool.node_hours == pytest.approx(190 / 3600)
    assert pool.cost == pytest.approx(0.19)
    assert r.mean_wait_s == pytest.approx(60 / 2)
    assert r.moved_fraction == 0.5


def test_a_high_threshold_or_a_hard_cap_keeps_the_job_home(busy: list[Centre]) -> None:
    for cfg in (config(wait_threshold_s=5000.0), config(pools=pools(hard_cap_per_hour=1.0))):
        r = replay_network(busy, cfg)
        assert r.pools[0].grown == 0 and r.mean_wait_s == pytest.approx(990 / 2)


def test_static_capacity_and_the_study_curves(busy: list[Centre]) -> None:
    more = replay_network(busy, NetworkConfig(policy="home", extra_capacity=(4,)))
    assert more.mean_wait_s == 0.0
    with pytest.raises(SimError, match="extra capacity: got 2 values for 1 centres"):
        replay_network(busy, NetworkConfig(policy="home", extra_capacity=(4, 4)))
    static = static_curve(busy, step_procs=4, price_per_proc_hour=1.0, target_wait_s=10.0)
    assert [p.detail for p in static] == [(0,), (4,)]
    # 4 procs for the replay's 1000 s span at 1.0 per processor-hour
    assert static[-1].cost == pytest.approx(4 * 1000 / 3600)
    elastic = threshold_curve(busy, config(record_schedule=False), [0.0, 5000.0])
    assert [round(p.mean_wait_s) for p in elastic] == [30, 495]


def test_cost_at_interpolates_between_the_points_around_the_target() -> None:
    points = [Point("a", 1000.0, 0.0), Point("b", 500.0, 10.0), Point("c", 100.0, 30.0)]
    assert cost_at(points, 1000.0) == 0.0
    assert cost_at(points, 750.0) == pytest.approx(5.0)
    assert cost_at(points, 300.0) == pytest.approx(20.0)
    assert cost_at(points, 50.0) is None


def test_bad_pool_settings_are_refused(busy: list[Centre]) -> None:
    with pytest.raises(SimError, match="at least one CPU per node"):
        replay_network(busy, config(pools=pools(cpus_per_node=0)))
    with pytest.raises(SimError, match="must be >= 0"):
        replay_network(busy, config(pools=pools(boot_delay_s=-1.0)))
