"""Cluster health as a pure state machine, with backoff for re-probes.

UP -> DEGRADED after ``degrade_after`` consecutive failures, -> DOWN after
``down_after``. A success moves DOWN to DEGRADED and DEGRADED to UP, so a
DOWN cluster needs two good answers in a row before it counts as UP again
(a flapping cluster does not get jobs on its first good answer). While failing, the next probe is
due ``base_s * 2**(failures - 1)`` seconds later, capped at ``max_s``; a
healthy cluster is probed every ``base_s``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from computenet.model import ClusterHealth


@dataclass(frozen=True)
class HealthPolicy:
    degrade_after: int = 1
    down_after: int = 3
    base_s: float = 5.0
    max_s: float = 300.0

    def backoff_s(self, failures: int) -> float:
        if failures <= 0:
            return self.base_s
        return min(self.max_s, self.base_s * 2.0 ** (failures - 1))


DEFAULT_HEALTH_POLICY = HealthPolicy()


@dataclass(frozen=True)
class HealthState:
    health: ClusterHealth = ClusterHealth.UP
    failures: int = 0  # consecutive
    successes: int = 0  # consecutive
    retry_at: float = 0.0  # when the next probe is due
    since: float = 0.0  # when ``health`` last changed


def next_health(
    state: HealthState, ok: bool, now: float, policy: HealthPolicy = DEFAULT_HEALTH_POLICY
) -> HealthState:
    """The state after one probe answered (``ok``) or failed at ``now``."""
    if ok:
        successes = state.successes + 1
        health = ClusterHealth.DEGRADED if state.health == ClusterHealth.DOWN else ClusterHealth.UP
        new = replace(
            state, failures=0, successes=successes, health=health, retry_at=now + policy.base_s
        )
    else:
        failures = state.failures + 1
        health = state.health
        if failures >= policy.down_after:
            health = ClusterHealth.DOWN
        elif failures >= policy.degrade_after and health == ClusterHealth.UP:
            health = ClusterHealth.DEGRADED
        new = replace(
            state,
            failures=failures,
            successes=0,
            health=health,
            retry_at=now + policy.backoff_s(failures),
        )
    if new.health != state.health:
        new = replace(new, since=now)
    return new


def probe_due(state: HealthState, now: float) -> bool:
    return now >= state.retry_at
