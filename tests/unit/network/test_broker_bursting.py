"""Bursting: pool offers, pool plans, and local-first choosing between a
remote cluster and growing a pool."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from computenet.model import ClusterInfo, JobSpec, PartitionInfo
from computenet.network import ClusterView, place
from computenet.network.bursting import BOOTING, UP, Caps, PoolNode, PoolView, offer, plan

NOW = 1_000_000.0
Make = Callable[..., ClusterInfo]
Snap = Callable[..., object]


def pool(**kw: object) -> PoolView:
    base = PoolView(
        name="burst",
        cluster="home",
        partition="cloud",
        cpus_per_node=4,
        max_nodes=3,
        price_per_node_hour=1.0,
        boot_delay_s=120.0,
        idle_release_s=300.0,
        resume_timeout_s=600.0,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def up(name: str, free: int, idle_since: float | None = None) -> PoolNode:
    return PoolNode(name, UP, NOW - 1000, cpus_free=free, idle_since=idle_since)


def booting(name: str, since: float) -> PoolNode:
    return PoolNode(name, BOOTING, since)


# ----- offer ----------------------------------------------------------------------------
def test_an_empty_pool_grows_and_starts_after_the_boot_delay() -> None:
    o = offer(pool(), cpus=4, nodes=1, runtime_s=3600, now=NOW, caps=Caps())
    assert not isinstance(o, str)
    assert (o.start, o.grow) == (NOW + 120, 1)
    # the node is paid from boot to release: boot + run + idle time
    assert o.cost == pytest.approx((120 + 3600 + 300) / 3600)
    assert o.reason == "grows 1 node (boot 120 s)"


def test_nodes_up_start_the_job_now_at_its_share_of_the_price() -> None:
    o = offer(pool(nodes=(up("n1", 4),)), cpus=2, nodes=1, runtime_s=3600, now=NOW, caps=Caps())
    assert not isinstance(o, str)
    assert (o.start, o.grow, o.cost) == (NOW, 0, pytest.approx(0.5))


def test_booting_nodes_are_used_before_growing_more() -> None:
    p = pool(nodes=(booting("n1", NOW - 60),))
    o = offer(p, cpus=4, nodes=1, runtime_s=60, now=NOW, caps=Caps())
    assert not isinstance(o, str)
    assert (o.start, o.grow) == (NOW + 60, 0)
    # work already queued there takes the booting node: this job grows its own
    o = offer(replace(p, queued_cpus=4), cpus=4, nodes=1, runtime_s=60, now=NOW, caps=Caps())
    assert not isinstance(o, str) and o.grow == 1


def test_a_full_pool_a_blocked_pool_and_the_hard_cap_refuse_growth() -> None:
    full = pool(nodes=(up("n1", 0), up("n2", 0), up("n3", 0)))
    assert "at its maximum of 3" in str(offer(full, 4, 1, 60, NOW, Caps()))
    blocked = pool(blocked_until=NOW + 30, blocked_why="n1 did not boot")
    assert "does not grow for 30 s: n1 did not boot" in str(offer(blocked, 4, 1, 60, NOW, Caps()))
    capped = offer(pool(), 8, 2, 60, NOW, Caps(spend_per_hour=1.5, hard_per_hour=2.5))
    assert isinstance(capped, str) and "hard cap of 2.50/h" in capped
    assert not isinstance(offer(pool(), 4, 1, 60, NOW, Caps(1.5, 2.5)), str)
    too_wide = offer(pool(), 16, 1, 60, NOW, Caps())
    assert isinstance(too_wide, str) and "at most 3 node(s)" in too_wide


def test_the_soft_cap_warns_but_grows() -> None:
    o = offer(pool(), 4, 1, 60, NOW, Caps(spend_per_hour=0.5, soft_per_hour=1.0))
    assert not isinstance(o, str) and o.grow == 1
    assert o.warning == "pool spending 1.50/h passes the soft cap of 1.00/h"


# ----- plan -----------------------------------------------------------------------------
def test_plan_grows_for_queued_work_up_to_the_maximum() -> None:
    assert plan(pool(), 6, NOW, Caps()).grow == 2
    assert plan(pool(), 100, NOW, Caps()).grow == 3
    assert plan(pool(nodes=(booting("n1", NOW),)), 4, NOW, Caps()).grow == 0
    assert plan(pool(min_nodes=2), 0, NOW, Caps()).grow == 2
    capped = plan(pool(), 100, NOW, Caps(spend_per_hour=0.0, hard_per_hour=1.0))
    assert capped.grow == 1
    none = plan(pool(), 100, NOW, Caps(spend_per_hour=1.0, hard_per_hour=1.0))
    assert none.grow == 0 and "hard cap" in none.reason


def test_plan_releases_only_nodes_idle_past_their_time_and_keeps_the_minimum() -> None:
    nodes = (up("n1", 4, idle_since=NOW - 400), up("n2", 4, idle_since=NOW - 100))
    assert plan(pool(nodes=nodes), 0, NOW, Caps()).release == ("n1",)
    assert plan(pool(nodes=nodes, min_nodes=2), 0, NOW, Caps()).release == ()
    # queued work keeps the nodes it needs
    assert plan(pool(nodes=nodes), 8, NOW, Caps()).release == ()
    busy = (up("n1", 0, idle_since=None),)
    assert plan(pool(nodes=busy), 0, NOW, Caps()).release == ()


def test_plan_fails_nodes_not_up_within_the_resume_timeout_and_grows_no_more_while_blocked() -> (
    None
):
    late = pool(nodes=(booting("n1", NOW - 601),))
    p = plan(late, 4, NOW, Caps())
    assert p.failed == ("n1",)
    assert p.grow == 1  # the failed node no longer counts as capacity
    blocked = replace(late, blocked_until=NOW + 60, blocked_why="n1 did not boot")
    assert plan(blocked, 4, NOW, Caps()).grow == 0


# ----- local-first with a pool ------------------------------------------------------------
@pytest.fixture
def setting(make_cluster: Make, make_snapshot: Snap) -> tuple[list[ClusterView], PoolView]:
    base = make_cluster("home", price=0.0)
    cloud = PartitionInfo("cloud", base.partitions[0].node_type, 3, price_per_core_hour=0.25)
    home = ClusterInfo("home", "fake", (base.partitions[0], cloud))
    remote = make_cluster("remote", price=0.5)
    views = [
        ClusterView(home, make_snapshot(home, NOW, running=[(8, NOW, 7200)]), home=True),
        ClusterView(remote, make_snapshot(remote, NOW, running=[(8, NOW, 1800)])),
    ]
    return views, pool()


def test_local_first_grows_the_pool_when_it_beats_the_remote(
    setting: tuple[list[ClusterView], PoolView],
) -> None:
    views, p = setting
    spec = JobSpec(ntasks=4, time_limit_s=3600)
    d = place(spec, views, now=NOW, policy="local-first", pools={("home", "cloud"): p})
    assert (d.chosen, d.partition) == ("home", "cloud")
    chosen = next(c for c in d.candidates if c.partition == "cloud")
    assert (chosen.pool, chosen.grow_nodes) == ("burst", 1)
    assert "bursts from home: its predicted wait 2.0 h passes 300 s" in d.reason
    assert "pool burst grows 1 node (boot 120 s)" in d.reason
    assert "remote remote finishes 28 min later" in d.reason


def test_local_first_prefers_the_remote_when_it_finishes_first(
    setting: tuple[list[ClusterView], PoolView],
) -> None:
    views, p = setting
    slow = replace(p, boot_delay_s=3600.0)
    spec = JobSpec(ntasks=4, time_limit_s=3600)
    d = place(spec, views, now=NOW, policy="local-first", pools={("home", "cloud"): slow})
    assert d.chosen == "remote"
    assert "pool burst grows 1 node (boot 60 min) finishes 30 min later" in d.reason


def test_a_short_home_wait_keeps_the_job_home_and_other_policies_do_not_grow(
    setting: tuple[list[ClusterView], PoolView],
    make_snapshot: Snap,
) -> None:
    views, p = setting
    quiet = [replace(views[0], snapshot=make_snapshot(views[0].info, NOW)), views[1]]
    spec = JobSpec(ntasks=4, time_limit_s=3600)
    d = place(spec, quiet, now=NOW, policy="local-first", pools={("home", "cloud"): p})
    assert (d.chosen, d.partition) == ("home", "batch")
    f = place(spec, views, now=NOW, policy="fastest", pools={("home", "cloud"): p})
    cloud = next(c for c in f.candidates if c.partition == "cloud")
    assert not cloud.feasible and "grows only for local-first jobs" in str(cloud.why_not)
    asked = place(
        replace(spec, partition="cloud"),
        views,
        now=NOW,
        policy="fastest",
        pools={("home", "cloud"): p},
    )
    assert (asked.chosen, asked.partition) == ("home", "cloud")


def test_hysteresis_keeps_nodes_already_up_busy_below_the_threshold(
    setting: tuple[list[ClusterView], PoolView],
    make_snapshot: Snap,
) -> None:
    views, p = setting
    warm = replace(p, nodes=(up("n1", 4, idle_since=NOW - 10),))
    # home's wait 200 s: within 300 s, above 0.5 x 300 s
    waiting = [
        replace(views[0], snapshot=make_snapshot(views[0].info, NOW, running=[(8, NOW, 200)]))
    ]
    spec = JobSpec(ntasks=4, time_limit_s=3600)
    pools = {("home", "cloud"): warm}
    d = place(spec, waiting, now=NOW, policy="local-first", pools=pools, hysteresis=0.5)
    assert d.partition == "cloud"
    assert "nodes already up keep taking work" in d.reason
    # without hysteresis, or with an empty pool, the job waits at home
    assert place(spec, waiting, now=NOW, policy="local-first", pools=pools).partition == "batch"
    cold = {("home", "cloud"): p}
    assert (
        place(spec, waiting, now=NOW, policy="local-first", pools=cold, hysteresis=0.5).partition
        == "batch"
    )


def test_a_hard_budget_bounds_the_growth(setting: tuple[list[ClusterView], PoolView]) -> None:
    views, p = setting
    poor = [replace(v, budget_left=0.5) for v in views]
    spec = JobSpec(ntasks=4, time_limit_s=3600)
    d = place(spec, poor, now=NOW, policy="local-first", pools={("home", "cloud"): p})
    assert (d.chosen, d.partition) == ("home", "batch")
    cloud = next(c for c in d.candidates if c.partition == "cloud")
    assert "budget left 0.50" in str(cloud.why_not)
