"""``cnet apps`` and ``cnet report apps`` against a real server over fake clusters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from computenet.cli import context
from computenet.cli.apps import split_run_args
from computenet.cli.main import app
from computenet.config import Settings
from tests.support.clusters import fake_configs
from tests.support.live import TOKEN, LiveServer
from tests.unit.api.test_apps_api import RATER


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    from computenet.core.runtime import Runtime

    site = tmp_path / "site-apps"
    site.mkdir()
    (site / "rater.yaml").write_text(yaml.safe_dump(RATER))
    settings = Settings(
        data_dir=tmp_path / "data",
        state_dir=tmp_path / "state",
        clusters=fake_configs(),
        token=TOKEN,
        user="admin",
        controller_interval_s=0.05,
        apps_dir=site,
    )
    live = LiveServer(Runtime(settings))
    monkeypatch.setenv("CN_SERVER_URL", live.url)
    monkeypatch.setenv("CN_TOKEN", TOKEN)
    monkeypatch.setattr(context, "_client", None)
    yield live
    live.stop()


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "250"})
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


def cnet(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    """The real command, for what only the console entry point does (errors)."""
    env = {**os.environ, "CN_SERVER_URL": server.url, "CN_TOKEN": TOKEN}
    return subprocess.run(
        [sys.executable, "-m", "computenet.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_ls_and_show(server: LiveServer) -> None:
    out = run("apps", "ls")
    assert "lammps" in out and "tau/day" in out and "rater" in out
    names = [a["name"] for a in json.loads(run("apps", "ls", "--json"))["apps"]]
    assert names == sorted(names) and "quantum-espresso" in names
    shown = run("apps", "show", "lammps")
    assert "steps" in shown and "10 to 1e+07" in shown
    assert "default resources: --ntasks=2 --time=00:10:00" in shown
    assert "alpha: yes (path /usr/bin)" in shown
    assert "figure: Simulated time per day in tau/day (higher is better)" in shown
    form = json.loads(run("apps", "show", "openfoam", "--json"))
    assert [f["name"] for f in form["fields"]] == ["cells", "end_time", "viscosity", "lid_speed"]
    assert "icoFoam" in run("apps", "show", "openfoam", "--script")


def test_run_wait_prints_the_figure_and_show_and_report_have_it(server: LiveServer) -> None:
    out = run("apps", "run", "rater", "-p", "rate=50", "--param=seconds=0", "-M", "alpha", "--wait")
    assert "figure: 50 it/s on alpha (2 CPUs)" in out
    job = json.loads(run("apps", "run", "rater", "-p", "rate=70", "-n", "1", "--json"))
    assert job["app"]["params"]["rate"] == 70.0
    with server.client() as c:
        c.wait(job["id"], timeout_s=10)
    shown = run("show", str(job["id"]))
    assert "application: rater 2.0" in shown
    report = json.loads(run("report", "apps", "--json"))
    assert sum(r["runs"] for r in report["rows"]) >= 1
    assert "rater" in run("report", "apps")


def test_test_only_shows_each_cluster_and_its_speed_source(server: LiveServer) -> None:
    out = run("apps", "run", "lammps", "-p", "steps=300", "--ntasks=4", "--test-only")
    assert "alpha" in out and "beta" in out and "configured speed 0.5" in out
    data = json.loads(run("apps", "run", "lammps", "--test-only", "--json"))
    assert data["spec"]["ntasks"] == 2 and "lmp -in in.lj" in data["script"]
    with server.client() as c:
        assert list(c.jobs(all=True)) == []


def test_bad_values_are_one_line_errors_with_the_spec_exit_code(server: LiveServer) -> None:
    proc = cnet(server, "apps", "run", "lammps", "-p", "steps=1", "-p", "size=9999")
    assert proc.returncode == 2
    assert proc.stderr == (
        "cnet: error: lammps: size: must be between 2 and 80 (got 9999); "
        "steps: must be between 10 and 1e+07 (got 1)\n"
    )
    proc = cnet(server, "apps", "run", "lammps", "-p", "compute")
    assert proc.returncode == 2 and "--partition=NAME" in proc.stderr
    proc = cnet(server, "apps", "show", "nope")
    assert proc.returncode == 4 and proc.stderr.startswith("cnet: error: no application 'nope'")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-p", "a=1", "-N", "2", "-pb=2"], (["a=1", "b=2"], ["-N", "2"], set())),
        (["--time", "5", "-W", "--json"], ([], ["--time", "5"], {"--wait", "--json"})),
    ],
)
def test_arguments_split_into_parameters_options_and_flags(
    args: list[str], expected: tuple[Any, ...]
) -> None:
    assert split_run_args(args) == expected
