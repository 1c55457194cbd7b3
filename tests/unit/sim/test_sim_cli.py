"""``cnet sim`` through Typer's runner on a trace written here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from computenet.cli.sim import register
from computenet.sim.errors import SimError


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:
        """Root, so ``sim`` stays a sub-command."""

    return app


def write_trace(tmp_path: Path) -> Path:
    rows = [(1, 0, 100, 4, 100), (2, 10, 50, 2, 60), (3, 20, 5, 2, 10)]
    text = "; MaxProcs: 4\n" + "".join(
        " ".join(map(str, [i, s, -1, r, p, -1, -1, p, q] + [-1] * 9)) + "\n"
        for i, s, r, p, q in rows
    )
    path = tmp_path / "tiny.swf"
    path.write_text(text)
    return path


def test_json_output_has_stable_names(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["sim", str(write_trace(tmp_path)), "--json", "--policy", "fcfs"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    for key in (
        "jobs",
        "mean_wait_s",
        "mean_bsld",
        "utilization",
        "makespan_s",
        "wall_s",
        "jobs_per_s",
        "p50_wait_s",
        "p90_wait_s",
        "p99_wait_s",
        "policy",
    ):
        assert key in report
    assert report["jobs"] == 3 and report["policy"] == "fcfs"
    assert report["mean_wait_s"] == pytest.approx(170 / 3)


def test_table_plots_and_schedule(app: typer.Typer, tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    result = CliRunner().invoke(
        app,
        [
            "sim",
            str(write_trace(tmp_path)),
            "--plot",
            str(tmp_path / "plots"),
            "--schedule-out",
            str(out),
            "--procs",
            "8",
            "--estimate",
            "oracle",
            "--limit",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "mean wait" in result.output
    assert (tmp_path / "plots" / "waits.png").exists()
    assert len(out.read_text().splitlines()) == 3  # header + 2 jobs


def test_bad_policy_raises_a_sim_error(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["sim", str(write_trace(tmp_path)), "--policy", "x"])
    assert result.exit_code != 0
    assert isinstance(result.exception, SimError)
    assert "unknown policy 'x'" in str(result.exception)
