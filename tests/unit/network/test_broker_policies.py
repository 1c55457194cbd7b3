"""Which cluster each policy picks on hand-built queues, and the sentence why."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from computenet.errors import SpecError
from computenet.model import ClusterInfo, JobSpec, Snapshot
from computenet.network import ClusterView, place

NOW = 1000.0
Make = Callable[..., ClusterInfo]
Snap = Callable[..., Snapshot]


def busy_and_idle(make_cluster: Make, make_snapshot: Snap) -> list[ClusterView]:
    """``busy`` (cheap) is full for another 600 s; ``idle`` (dear) is empty."""
    busy = make_cluster("busy", cores=4, nodes=2, price=0.1)
    idle = make_cluster("idle", cores=4, nodes=2, price=1.0)
    return [
        ClusterView(busy, make_snapshot(busy, NOW, running=[(8, NOW - 400, 1000)]), home=True),
        ClusterView(idle, make_snapshot(idle, NOW)),
    ]


def test_fastest_goes_where_the_queue_is_empty(make_cluster: Make, make_snapshot: Snap) -> None:
    p = place(
        JobSpec(ntasks=4, time_limit_s=120),
        busy_and_idle(make_cluster, make_snapshot),
        now=NOW,
        policy="fastest",
    )
    assert p.chosen == "idle"
    assert p.reason == (
        "idle: predicted start in 0 s, finish in 120 s, cost 0.13, the earliest finish; "
        "next best busy finishes 10 min later"
    )
    by = {c.cluster: c for c in p.candidates}
    assert by["busy"].predicted_start == NOW + 600
    assert by["busy"].predicted_end == NOW + 720
    assert by["idle"].score == 120.0


def test_queued_jobs_ahead_push_the_start_back(make_cluster: Make, make_snapshot: Snap) -> None:
    a = make_cluster("a", cores=4, nodes=1)
    b = make_cluster("b", cores=4, nodes=1)
    views = [
        # a: running until +100, then a queued full-width job for 500 s
        ClusterView(a, make_snapshot(a, NOW, running=[(4, NOW, 100)], pending=[(4, 500)])),
        # b: running until +300, nothing queued
        ClusterView(b, make_snapshot(b, NOW, running=[(4, NOW, 300)])),
    ]
    p = place(JobSpec(ntasks=4, time_limit_s=60), views, now=NOW)
    starts = {c.cluster: c.predicted_start for c in p.candidates}
    assert starts == {"a": NOW + 600, "b": NOW + 300}
    assert p.chosen == "b"


def test_backfill_is_seen_by_the_planner(make_cluster: Make, make_snapshot: Snap) -> None:
    a = make_cluster("a", cores=4, nodes=1)
    # 2 CPUs free, the head needs 4 at +100: a 2-CPU job of 50 s backfills now
    snap = make_snapshot(a, NOW, running=[(2, NOW, 100)], pending=[(4, 500)])
    p = place(JobSpec(ntasks=2, time_limit_s=50), [ClusterView(a, snap)], now=NOW)
    assert p.candidates[0].predicted_start == NOW


def test_cheapest_takes_the_low_price_and_waits(make_cluster: Make, make_snapshot: Snap) -> None:
    p = place(
        JobSpec(ntasks=4, time_limit_s=3600),
        busy_and_idle(make_cluster, make_snapshot),
        now=NOW,
        policy="cheapest",
    )
    assert p.chosen == "busy"
    assert p.reason == (
        "busy: predicted start in 10 min, finish in 70 min, cost 0.40, "
        "the lowest cost; next best idle costs 3.60 more and finishes 10 min earlier"
    )


def test_cheapest_respects_the_deadline(make_cluster: Make, make_snapshot: Snap) -> None:
    views = busy_and_idle(make_cluster, make_snapshot)
    spec = JobSpec(ntasks=4, time_limit_s=3600, deadline=NOW + 3700)
    p = place(spec, views, now=NOW, policy="cheapest")
    assert p.chosen == "idle"  # busy would finish at +4200
    assert "meeting the deadline" in p.reason


def test_cheapest_with_no_cluster_meeting_the_deadline_takes_the_earliest(
    make_cluster: Make, make_snapshot: Snap
) -> None:
    spec = JobSpec(ntasks=4, time_limit_s=3600, deadline=NOW + 60)
    p = place(spec, busy_and_idle(make_cluster, make_snapshot), now=NOW, policy="cheapest")
    assert p.chosen == "idle"
    assert "no cluster meets the deadline, this one finishes earliest (59 min after it)" in (
        p.reason
    )


def test_balanced_mixes_normalised_finish_and_cost(make_cluster: Make, make_snapshot: Snap) -> None:
    # three clusters: fast+dear, slow+cheap, middling on both
    infos = [
        make_cluster("dear", price=1.0),
        make_cluster("cheap", price=0.1),
        make_cluster("mid", price=0.3),
    ]
    snaps = {
        "dear": make_snapshot(infos[0], NOW),
        "cheap": make_snapshot(infos[1], NOW, running=[(8, NOW, 3600)]),
        "mid": make_snapshot(infos[2], NOW, running=[(8, NOW, 600)]),
    }
    views = [ClusterView(i, snaps[i.name]) for i in infos]
    p = place(JobSpec(ntasks=4, time_limit_s=3600), views, now=NOW, policy="balanced")
    scores = {c.cluster: c.score for c in p.candidates}
    # finish: dear 3600, mid 4200, cheap 7200 -> f = 0, 1/6, 1
    # cost: dear 4.0, mid 1.2, cheap 0.4 -> c = 1, 2.8/3.6, 0
    assert scores["dear"] == pytest.approx(0.5)
    assert scores["cheap"] == pytest.approx(0.5)
    assert scores["mid"] == pytest.approx(0.5 / 6 + 0.5 * 0.8 / 3.6)
    assert p.chosen == "mid"


def test_local_first_stays_home_within_the_threshold(
    make_cluster: Make, make_snapshot: Snap
) -> None:
    home = make_cluster("home")
    away = make_cluster("away")
    views = [
        ClusterView(home, make_snapshot(home, NOW, running=[(8, NOW, 200)]), home=True),
        ClusterView(away, make_snapshot(away, NOW)),
    ]
    p = place(JobSpec(ntasks=4, time_limit_s=60), views, now=NOW, policy="local-first")
    assert p.chosen == "home"
    assert "stays on the home cluster: predicted wait 200 s is within 300 s" in p.reason
    burst = place(
        JobSpec(ntasks=4, time_limit_s=60),
        views,
        now=NOW,
        policy="local-first",
        wait_threshold_s=100,
    )
    assert burst.chosen == "away"
    assert "bursts from home: its predicted wait 200 s passes 100 s" in burst.reason


def test_local_first_does_not_burst_beyond_the_budget(
    make_cluster: Make, make_snapshot: Snap
) -> None:
    home = make_cluster("home")
    away = make_cluster("away", price=10.0)
    views = [
        ClusterView(home, make_snapshot(home, NOW, running=[(8, NOW, 5000)]), home=True),
        ClusterView(away, make_snapshot(away, NOW), budget_left=1.0),
    ]
    p = place(JobSpec(ntasks=4, time_limit_s=600), views, now=NOW, policy="local-first")
    assert p.chosen == "home"


def test_speed_factor_for_the_app_shortens_the_run(make_cluster: Make) -> None:
    a = make_cluster("a")
    b = make_cluster("b", speed=1.5)
    views = [ClusterView(a, None, speed={"lammps": 2.0}), ClusterView(b, None)]
    p = place(JobSpec(app="lammps", time_limit_s=600), views, now=NOW)
    runs = {c.cluster: c.predicted_runtime_s for c in p.candidates}
    assert runs == {"a": 300.0, "b": 400.0}
    assert p.chosen == "a"
    other = place(JobSpec(app="gromacs", time_limit_s=600), views, now=NOW)
    assert other.chosen == "b"


def test_staging_time_delays_the_far_cluster(make_cluster: Make) -> None:
    near = make_cluster("near")
    far = make_cluster("far", speed=1.2)
    views = [ClusterView(near, None), ClusterView(far, None, bandwidth_bytes_per_s=1e6)]
    p = place(JobSpec(time_limit_s=600), views, now=NOW, input_bytes=10**9)
    by = {c.cluster: c for c in p.candidates}
    assert by["far"].staging_s == 1000.0
    assert by["far"].predicted_start == NOW + 1000.0
    assert p.chosen == "near"


def test_decision_does_not_depend_on_input_order(make_cluster: Make, make_snapshot: Snap) -> None:
    infos = [make_cluster(f"c{i}", price=0.5) for i in range(6)]
    views = [ClusterView(i, make_snapshot(i, NOW)) for i in infos]
    first = place(JobSpec(ntasks=2, time_limit_s=60), views, now=NOW, policy="balanced")
    for seed in range(5):
        shuffled = views[:]
        random.Random(seed).shuffle(shuffled)
        again = place(JobSpec(ntasks=2, time_limit_s=60), shuffled, now=NOW, policy="balanced")
        assert again == first
    assert first.chosen == "c0"  # a full tie falls to the name


def test_home_wins_a_tie(make_cluster: Make) -> None:
    views = [ClusterView(make_cluster("a"), None), ClusterView(make_cluster("z"), None, home=True)]
    assert place(JobSpec(), views, now=NOW).chosen == "z"


def test_policy_comes_from_the_spec_and_unknown_is_refused(make_cluster: Make) -> None:
    views = [ClusterView(make_cluster("a"), None)]
    assert place(JobSpec(policy="cheapest"), views, now=NOW).policy == "cheapest"
    with pytest.raises(SpecError, match="unknown placement policy 'nearest'"):
        place(JobSpec(), views, now=NOW, policy="nearest")


def test_placement_round_trips_through_a_dict(make_cluster: Make, make_snapshot: Snap) -> None:
    from computenet.model import Placement

    p = place(
        JobSpec(ntasks=4, time_limit_s=60), busy_and_idle(make_cluster, make_snapshot), now=NOW
    )
    assert Placement.from_dict(p.to_dict()) == p
