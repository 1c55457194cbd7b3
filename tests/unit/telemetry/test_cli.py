"""The report, alert, diagnose, usage and budget commands against a real server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from computenet.cli import context
from computenet.cli.main import app
from tests.support.live import TOKEN, LiveServer

from .test_api import _server, _wait


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[CliRunner, LiveServer]]:
    server = _server(tmp_path, monkeypatch)
    monkeypatch.setenv("CN_SERVER_URL", server.url)
    monkeypatch.setenv("CN_TOKEN", TOKEN)
    monkeypatch.setattr(context, "_client", None)
    yield CliRunner(), server
    server.stop()


def run(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


def test_reports_usage_and_diagnosis(cli: tuple[CliRunner, LiveServer], tmp_path: Path) -> None:
    runner, server = cli
    with server.client() as c:
        ok = c.submit(options=["--wrap", "sleep 1", "-n", "2", "--time=5"], cwd="/tmp")
        bad = c.submit(
            options=["--wrap", "echo gromacs: command not found; exit 127", "--time=5"], cwd="/tmp"
        )
        c.wait(ok["id"], timeout_s=20)
        c.wait(bad["id"], timeout_s=20)
        _wait(lambda: len(c.get("/usage/sacct")["lines"]) == 3)
    d = json.loads(run(runner, "diagnose", str(bad["id"]), "--json"))
    assert set(d) == {"cause", "evidence", "hint"} and d["cause"] == "command_not_found"
    assert "cause: command_not_found" in run(runner, "diagnose", str(bad["id"]))
    u = json.loads(
        run(
            runner,
            "report",
            "utilization",
            "--since",
            "-1d",
            "--by",
            "day",
            "--json",
            "--plot",
            str(tmp_path / "plots"),
        )
    )
    assert u["total"]["core_hours"] > 0 and Path(u["plot"]).stat().st_size > 1000
    assert "utilization by cluster" in run(runner, "report", "utilization")
    for what in ("waits", "efficiency", "idle", "predictions"):
        json.loads(run(runner, "report", what, "--json"))
    stmt = json.loads(run(runner, "usage", "--json"))
    (proj,) = stmt["projects"]
    assert proj["core_seconds"] > 0 and {"core_seconds", "gpu_seconds", "cost"} <= set(
        proj["users"][0]
    )
    assert run(runner, "usage", "--csv").startswith("month,project,user,core_seconds")
    sacct = run(runner, "usage", "--sacct").splitlines()
    assert sacct[0].split("|")[0] == "JobID" and len(sacct) == 3
    out = tmp_path / "usage.parquet"
    assert "wrote 2 rows" in run(runner, "report", "export", "usage_records", "--out", str(out))
    import pyarrow.parquet as pq

    assert pq.read_table(out).num_rows == 2
    assert json.loads(run(runner, "alerts", "--json")) == {"alerts": []}


def test_budget_commands(cli: tuple[CliRunner, LiveServer]) -> None:
    runner, _ = cli
    assert "hard budget 12 per month" in run(runner, "budget", "set", "default", "12")
    (b,) = json.loads(run(runner, "budget", "ls", "--json"))["budgets"]
    assert (b["project"], b["amount"], b["hard"]) == ("default", 12.0, True)
    run(runner, "budget", "set", "default", "3", "--soft", "--period", "total")
    (b,) = json.loads(run(runner, "budget", "ls", "--json"))["budgets"]
    assert (b["hard"], b["period"]) == (False, "total")
    run(runner, "quota", "set", "default", "--max-cpus", "4")
    assert "project  default" in run(runner, "quota", "ls")
    run(runner, "budget", "rm", "default")
    assert json.loads(run(runner, "budget", "ls", "--json")) == {"budgets": []}
