"""Speed learning: the median requested/actual ratio per (app, cluster)."""

from __future__ import annotations

import pytest

from computenet.network.speed import SpeedModel


def test_no_factor_until_enough_samples() -> None:
    m = SpeedModel(min_samples=3)
    m.observe("lammps", "a", 3600, 1800)
    m.observe("lammps", "a", 3600, 1800)
    assert m.factor("lammps", "a") is None
    m.observe("lammps", "a", 3600, 1200)
    assert m.factor("lammps", "a") == 2.0


def test_median_ignores_crashes_and_limit_hits() -> None:
    m = SpeedModel(min_samples=1)
    for actual in (1000, 1000, 1000, 2, 3600):  # one crashed at once, one hit its limit
        m.observe("app", "a", 3600, actual)
    assert m.factor("app", "a") == pytest.approx(3.6)


def test_any_app_pools_every_app_and_apps_stay_apart() -> None:
    m = SpeedModel(min_samples=1)
    m.observe("fast", "a", 100, 25)
    m.observe("slow", "a", 100, 100)
    assert m.factor("fast", "a") == 4.0
    assert m.factor("slow", "a") == 1.0
    assert m.factor(None, "a") == pytest.approx(2.5)
    assert m.factor("fast", "b") is None
    assert m.factors("a") == {"*": pytest.approx(2.5), "fast": 4.0, "slow": 1.0}


def test_window_forgets_old_behaviour() -> None:
    m = SpeedModel(window=3, min_samples=3)
    for _ in range(3):
        m.observe("app", "a", 100, 100)
    for _ in range(3):
        m.observe("app", "a", 100, 50)
    assert m.factor("app", "a") == 2.0


def test_useless_observations_are_ignored() -> None:
    m = SpeedModel(min_samples=1, max_factor=10)
    m.observe("app", "a", 0, 10)
    m.observe("app", "a", 10, 0)
    assert m.samples("app", "a") == 0
    m.observe("app", "a", 1000, 1)
    assert m.factor("app", "a") == 10
