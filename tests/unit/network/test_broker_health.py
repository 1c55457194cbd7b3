"""Cluster health: UP -> DEGRADED -> DOWN on failures, back through DEGRADED,
with exponentially spaced re-probes."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from computenet.model import ClusterHealth
from computenet.network.health import HealthPolicy, HealthState, next_health, probe_due

UP, DEGRADED, DOWN = ClusterHealth.UP, ClusterHealth.DEGRADED, ClusterHealth.DOWN


def run(oks: list[bool], policy: HealthPolicy = HealthPolicy()) -> list[HealthState]:
    state, out, now = HealthState(), [], 0.0
    for ok in oks:
        state = next_health(state, ok, now, policy)
        out.append(state)
        now = state.retry_at
    return out


def test_failures_degrade_then_take_down_with_doubling_backoff() -> None:
    states = run([False, False, False, False, False])
    assert [s.health for s in states] == [DEGRADED, DEGRADED, DOWN, DOWN, DOWN]
    gaps = [b.retry_at - a.retry_at for a, b in itertools.pairwise(states)]
    assert gaps == [10.0, 20.0, 40.0, 80.0]  # base 5 s doubling from the 2nd failure


def test_backoff_is_capped() -> None:
    policy = HealthPolicy(base_s=5.0, max_s=60.0)
    assert [policy.backoff_s(n) for n in (1, 2, 3, 4, 5, 6)] == [5, 10, 20, 40, 60, 60]


def test_down_needs_two_good_answers_to_be_up() -> None:
    states = run([False, False, False, True, True])
    assert [s.health for s in states] == [DEGRADED, DEGRADED, DOWN, DEGRADED, UP]


def test_one_good_answer_clears_degraded() -> None:
    assert [s.health for s in run([False, True])] == [DEGRADED, UP]


def test_a_failure_in_recovery_resets_the_count() -> None:
    states = run([False, False, False, True, False])
    assert states[-1].health == DEGRADED
    assert states[-1].failures == 1


def test_since_marks_the_last_change_and_probe_due_follows_retry_at() -> None:
    s = next_health(HealthState(), False, 100.0)
    assert s.since == 100.0 and s.retry_at == 105.0
    assert not probe_due(s, 104.0) and probe_due(s, 105.0)
    s2 = next_health(s, False, 105.0)
    assert s2.since == 100.0  # still DEGRADED: no change


@given(st.lists(st.booleans(), max_size=40))
def test_state_always_matches_the_run_of_failures(oks: list[bool]) -> None:
    policy = HealthPolicy()
    for ok, state in zip(oks, run(oks, policy), strict=True):
        if state.failures >= policy.down_after:
            assert state.health == DOWN
        if ok:
            assert state.failures == 0
            assert state.health != DOWN
        assert state.retry_at > 0
