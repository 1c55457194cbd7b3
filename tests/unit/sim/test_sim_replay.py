"""Replay of a tiny trace: metrics checked by hand, the schedule CSV, plots."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from computenet.sim.errors import SimError
from computenet.sim.plots import utilization_series, write_plots
from computenet.sim.replay import SCHEDULE_CSV_HEADER, recorded_metrics, replay

# 4 processors. (id, submit, wait, run, procs, requested time)
ROWS = [(11, 0, 0, 100, 4, 100), (12, 10, 90, 50, 2, 60), (13, 20, 80, 5, 2, 10)]


def write_trace(tmp_path: Path) -> Path:
    lines = ["; MaxProcs: 4\n"]
    for job_id, submit, wait, run, procs, req in ROWS:
        fields = [job_id, submit, wait, run, procs, -1, -1, procs, req] + [-1] * 9
        lines.append(" ".join(map(str, fields)) + "\n")
    path = tmp_path / "tiny.swf"
    path.write_text("".join(lines))
    return path


def test_easy_replay_metrics_by_hand(tmp_path: Path) -> None:
    # Job 11 fills the machine until 100; 12 and 13 both start at 100.
    # waits 0, 90, 80 -> mean 56.67; bsld: 1, (90+50)/50 = 2.8, (80+5)/10 = 8.5
    # makespan 150 - 0; work 400 + 100 + 10 = 510 over 4 * 150 = 600.
    result = replay(write_trace(tmp_path), "easy")
    m = result.metrics
    assert m.jobs == 3
    assert m.mean_wait_s == pytest.approx(170 / 3)
    assert m.p50_wait_s == 80
    assert m.mean_bsld == pytest.approx((1 + 2.8 + 8.5) / 3)
    assert m.makespan_s == 150
    assert m.utilization == pytest.approx(510 / 600)
    assert result.capacity == 4


def test_schedule_csv(tmp_path: Path) -> None:
    out = tmp_path / "schedule.csv"
    replay(write_trace(tmp_path), "fcfs", schedule_out=out)
    text = out.read_text()
    assert text.splitlines()[0] == SCHEDULE_CSV_HEADER
    rows = list(csv.DictReader(text.splitlines()))
    assert [(r["job_id"], r["start"], r["end"], r["procs"]) for r in rows] == [
        ("11", "0", "100", "4"),
        ("12", "100", "150", "2"),
        ("13", "100", "105", "2"),
    ]


def test_limit_procs_and_oracle(tmp_path: Path) -> None:
    path = write_trace(tmp_path)
    assert replay(path, "easy", limit=2).metrics.jobs == 2
    # on 8 processors nobody waits
    assert replay(path, "conservative", capacity=8).metrics.mean_wait_s == 0
    assert replay(path, "easy-sjf", estimate="oracle").metrics.jobs == 3


def test_recorded_metrics_use_the_trace_waits(tmp_path: Path) -> None:
    m = recorded_metrics(write_trace(tmp_path))
    assert m.mean_wait_s == pytest.approx(170 / 3)
    assert m.makespan_s == 150


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"policy": "lottery"}, "unknown policy"),
        ({"estimate": "guess"}, "unknown estimate rule"),
        ({"capacity": 0}, "machine size must be positive"),
        ({"limit": -1}, "--limit must be >= 0"),
    ],
)
def test_bad_options_are_sim_errors(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(SimError, match=message):
        replay(write_trace(tmp_path), **kwargs)  # type: ignore[arg-type]


def test_plots_are_pngs_and_utilisation_is_exact(tmp_path: Path) -> None:
    result = replay(write_trace(tmp_path), "easy")
    _hours, fraction = utilization_series(result.recorder, 4, bin_s=50.0)
    assert list(fraction) == pytest.approx([1.0, 1.0, (4 * 5 + 2 * 45) / 200])
    paths = write_plots(result.recorder, 4, tmp_path / "plots", title="tiny")
    assert [p.name for p in paths] == ["utilization.png", "waits.png"]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
