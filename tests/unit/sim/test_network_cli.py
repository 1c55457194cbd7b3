"""``cnet sim-network`` on tiny traces written here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from computenet.cli.main import app
from computenet.sim.errors import SimError


def write_swf(path: Path, capacity: int, jobs: list[tuple[float, int, float, float]]) -> Path:
    lines = [f"; MaxProcs: {capacity}"]
    for i, (submit, procs, run, req) in enumerate(jobs, 1):
        fields = [i, submit, 0, run, procs, -1, -1, procs, req, -1, 1, 1, 1, 1, 1, 1, -1, -1]
        lines.append(" ".join(str(f) for f in fields))
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def traces(tmp_path: Path) -> list[str]:
    a = write_swf(tmp_path / "A-2000-1.swf", 4, [(0, 4, 100, 100), (10, 4, 100, 100)])
    b = write_swf(tmp_path / "B-2000-1.swf", 4, [(0, 1, 10, 10)])
    return [str(a), str(b)]


def run(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(app, ["sim-network", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def test_json_report_has_every_key(traces: list[str]) -> None:
    out = run(*traces, "--policy", "home")
    assert set(out) >= {
        "jobs",
        "mean_wait_s",
        "mean_bsld",
        "utilization",
        "makespan_s",
        "wall_s",
        "jobs_per_s",
        "moved_fraction",
        "cost",
        "clusters",
    }
    assert out["jobs"] == 3 and out["mean_wait_s"] == 30.0
    assert [c["name"] for c in out["clusters"]] == ["A", "B"]  # type: ignore[union-attr]


def test_broker_and_pooled_beat_home(traces: list[str]) -> None:
    assert run(*traces, "--policy", "fastest")["mean_wait_s"] == 0.0
    pooled = run(*traces, "--pooled")
    assert pooled["policy"] == "pooled" and pooled["mean_wait_s"] == 0.0


def test_prices_speeds_and_delay_are_passed(traces: list[str]) -> None:
    out = run(*traces, "--policy", "home", "--prices", "3600,0")
    assert out["cost"] == 800.0  # A: 2 jobs x 4 procs x 100 s at 1 per core-second
    delayed = run(*traces, "--policy", "fastest", "--move-delay", "5")
    assert delayed["mean_wait_s"] == pytest.approx(5 / 3, abs=1e-3)


def test_schedule_csv(traces: list[str], tmp_path: Path) -> None:
    csv = tmp_path / "out.csv"
    run(*traces, "--policy", "home", "--schedule-out", str(csv))
    lines = csv.read_text().splitlines()
    assert lines[0] == "job_id,submit,start,end,procs,cluster"
    assert sorted(lines[1:]) == ["1,0,0,10,1,B", "1,0,0,100,4,A", "2,10,100,200,4,A"]


def test_table_output(traces: list[str]) -> None:
    result = CliRunner().invoke(app, ["sim-network", *traces, "--policy", "load"])
    assert result.exit_code == 0
    assert "network replay: load, 3 jobs" in result.output


def test_errors_are_project_errors(traces: list[str]) -> None:
    result = CliRunner().invoke(app, ["sim-network", *traces, "--speeds", "1,x"])
    assert isinstance(result.exception, SimError)
    assert "expected numbers separated by commas" in str(result.exception)
    result = CliRunner().invoke(app, ["sim-network", *traces, "--policy", "nearest"])
    assert isinstance(result.exception, SimError)
