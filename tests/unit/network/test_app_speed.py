"""Measured application speed: figures normalised per unit of allocation
predict run times, replace configured and learned speeds, and move placements."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from computenet.model import AppFigure, AppRef, ClusterInfo, JobSpec
from computenet.network import ClusterView, place
from computenet.network.app_speed import AppSpeedModel, FigureSample, rate_per_unit

Make = Callable[..., ClusterInfo]
NOW = 1_000_000.0
LJ = AppFigure("Performance: (?P<value>[0-9.]+) tau/day", "tau/day", True)


def lammps(ntasks: int = 4, limit_s: int = 600) -> JobSpec:
    ref = AppRef("lammps", "29Sep2021", ("*",), (), LJ, {})
    return JobSpec(name="lj", app="lammps", catalogue=ref, ntasks=ntasks, time_limit_s=limit_s)


def sample(cluster: str, value: float, units: float, **kw: object) -> FigureSample:
    base = FigureSample(
        app="lammps",
        cluster=cluster,
        partition="batch",
        value=value,
        unit="tau/day",
        higher_is_better=True,
        per="cpu",
        units=units,
        elapsed_s=60.0,
        requested_s=600.0,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def views(make_cluster: Make, model: AppSpeedModel | None = None) -> list[ClusterView]:
    a = make_cluster("a", cores=8, nodes=1, price=0.04, speed=1.0)
    b = make_cluster("b", cores=8, nodes=1, price=0.04, speed=0.5)
    out = []
    for info in (a, b):
        measured = model.measured(info.name) if model is not None else {}
        out.append(ClusterView(info=info, snapshot=None, app_speed=measured))
    return out


def test_rates_are_per_unit_of_allocation_in_both_directions() -> None:
    assert rate_per_unit(100_000, True, 4) == 25_000  # tau/day per CPU
    assert rate_per_unit(0.5, False, 4) == pytest.approx(0.5)  # s/iteration: iterations/s per CPU


def test_a_figure_from_4_cpus_and_one_from_8_agree_when_per_cpu_speed_is_the_same() -> None:
    m = AppSpeedModel()
    m.observe(sample("a", 100_000, 4))
    m.observe(sample("a", 200_000, 8))
    speed = m.measured("a")["lammps"]
    assert speed.rate == 25_000 and speed.runs == 2
    # the job on 8 CPUs runs twice as fast as the same request on 4
    assert speed.runtime_s("batch", 4, 600) == pytest.approx(2 * speed.runtime_s("batch", 8, 600))


def test_work_per_requested_second_anchors_the_run_time() -> None:
    m = AppSpeedModel()
    # ran 60 s of a 600 s request on 4 CPUs at 25,000 tau/day per CPU
    m.observe(sample("a", 100_000, 4))
    speed = m.measured("a")["lammps"]
    assert speed.work_per_requested_s == pytest.approx(25_000 * 4 * 60 / 600)
    assert speed.runtime_s("batch", 4, 600) == pytest.approx(60.0)  # same shape, same time
    assert speed.runtime_s("batch", 4, 1200) == pytest.approx(120.0)


def test_placement_moves_once_figures_exist(make_cluster: Make) -> None:
    spec = lammps()
    before = place(spec, views(make_cluster), now=NOW, policy="fastest")
    assert before.chosen == "a"  # b is configured at half speed
    sources = {c.cluster: c.speed_source for c in before.candidates}
    assert sources == {"a": "configured speed 1", "b": "configured speed 0.5"}
    m = AppSpeedModel()
    m.observe(sample("a", 100_000, 4))  # 25,000 per CPU
    # 75,000 per CPU: b is 3x faster per CPU; the same work took it 40 s on 2 CPUs
    m.observe(sample("b", 150_000, 2, elapsed_s=40.0))
    after = place(spec, views(make_cluster, m), now=NOW, policy="fastest")
    assert after.chosen == "b"
    by = {c.cluster: c for c in after.candidates}
    assert by["a"].predicted_runtime_s == pytest.approx(60.0)
    assert by["b"].predicted_runtime_s == pytest.approx(20.0)
    assert by["b"].speed_source == "measured: lammps 1.5e+05 tau/day on 2 CPUs (1 run)"
    assert by["a"].speed_source == "measured: lammps 1e+05 tau/day on 4 CPUs (1 run)"


def test_measured_speed_replaces_the_learned_factor(make_cluster: Make) -> None:
    m = AppSpeedModel()
    m.observe(sample("a", 100_000, 4))
    a, b = views(make_cluster, m)
    b = replace(b, speed={"lammps": 10.0, "*": 2.0}, speed_runs={"lammps": 12, "*": 30})
    placement = place(lammps(), [a, b], now=NOW, policy="fastest")
    by = {c.cluster: c for c in placement.candidates}
    assert by["b"].speed_source == "learned from 12 runs of lammps"
    assert by["b"].predicted_runtime_s == pytest.approx(60.0)
    assert by["a"].speed_source.startswith("measured: lammps")
    plain = JobSpec(name="x", command="true", ntasks=1, time_limit_s=600)
    any_app = {c.cluster: c for c in place(plain, [a, b], now=NOW).candidates}
    assert any_app["b"].speed_source == "learned from 30 runs"
    assert any_app["a"].speed_source == "configured speed 1"  # figures are for catalogue runs


def test_a_job_that_only_names_the_app_does_not_use_catalogue_figures(make_cluster: Make) -> None:
    m = AppSpeedModel()
    m.observe(sample("b", 150_000, 2))
    labelled = replace(lammps(), catalogue=None)
    by = {c.cluster: c for c in place(labelled, views(make_cluster, m), now=NOW).candidates}
    assert by["b"].speed_source == "configured speed 0.5"


def test_a_partition_with_its_own_figures_uses_them() -> None:
    m = AppSpeedModel()
    m.observe(sample("a", 100_000, 4, partition="slow"))
    m.observe(sample("a", 400_000, 4, partition="fast"))
    speed = m.measured("a")["lammps"]
    assert speed.by_partition == {"slow": 25_000, "fast": 100_000}
    assert speed.runtime_s("fast", 4, 600) < speed.runtime_s("other", 4, 600)
    assert speed.runtime_s("slow", 4, 600) > speed.runtime_s("other", 4, 600)


def test_lower_is_better_figures_predict_longer_runs_for_bigger_figures() -> None:
    m = AppSpeedModel()
    qe = {"unit": "s/iteration", "higher_is_better": False, "app": "qe"}
    m.observe(sample("a", 0.02, 1, **qe))
    m.observe(sample("b", 0.06, 1, **qe))
    a, b = m.measured("a")["qe"], m.measured("b")["qe"]
    assert b.runtime_s("batch", 1, 600) == pytest.approx(3 * a.runtime_s("batch", 1, 600))


def test_unusable_samples_and_a_changed_unit() -> None:
    m = AppSpeedModel()
    assert not m.observe(sample("a", 0.0, 4))
    assert not m.observe(sample("a", 10.0, 0))
    m.observe(sample("a", 100_000, 4))
    m.observe(sample("a", 5.0, 4, unit="timesteps/s"))  # the site changed the figure
    speed = m.measured("a")["lammps"]
    assert speed.unit == "timesteps/s" and speed.runs == 1
    no_anchor = AppSpeedModel()
    no_anchor.observe(sample("a", 100_000, 4, elapsed_s=None))
    assert no_anchor.measured("a") == {}  # without a run time nothing anchors the prediction


def test_the_window_keeps_the_latest_figures() -> None:
    m = AppSpeedModel(window=3)
    for v in (1.0, 1.0, 1.0, 9.0, 9.0, 9.0):
        m.observe(sample("a", v * 1000, 1))
    assert m.measured("a")["lammps"].figure == 9000
