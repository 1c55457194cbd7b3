"""Every shipped application runs for real through the catalogue on an
embedded cluster: REST and SDK in, the Debian-packaged program on this
machine's cores, its performance figure read from its own output."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from computenet.client import Client
from tests.support.clusters import embedded_here
from tests.support.live import TOKEN, LiveServer, live_settings
from tests.unit.api.test_apps_api import wait_figures

pytestmark = pytest.mark.integration

#: CI installs these (scripts/test); a missing one there is a failure, not a skip.
REQUIRED_IN_CI = {"lammps", "openfoam"}


def needs(app: str, *commands: str) -> None:
    missing = [c for c in commands if shutil.which(c, path="/usr/bin:/bin") is None]
    if missing:
        if os.environ.get("CI") and app in REQUIRED_IN_CI:
            pytest.fail(f"{', '.join(missing)} missing in CI (scripts/test installs it)")
        pytest.skip(f"{', '.join(missing)} not installed")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from computenet.core.runtime import Runtime

    root = tmp_path_factory.mktemp("apps-embedded")
    live = LiveServer(Runtime(live_settings(root, [embedded_here()])))
    yield live
    live.stop()


@pytest.fixture
def client(server: LiveServer) -> Iterator[Client]:
    with server.client() as c:
        yield c


def run(
    client: Client, tmp_path: Path, app: str, params: dict[str, Any], *options: str
) -> tuple[dict[str, Any], str]:
    """Run to the end; (the job as shown, with figures, and its output)."""
    job = client.run_app(app, params, options=["--time=5", *options], cwd=str(tmp_path))
    final = client.wait(job["id"], timeout_s=240)
    out = client.logs(job["id"])["data"]
    assert final["state"] == "COMPLETED", (final, out)
    shown = wait_figures(client, job["id"])
    assert shown["spec"]["catalogue"]["name"] == app
    return shown, out


def figure(shown: dict[str, Any]) -> float:
    (f,) = shown["figures"]
    assert f["value"] is not None, f["note"]
    assert f["cluster"] == "here"
    return float(f["value"])


def test_lammps_lennard_jones(client: Client, tmp_path: Path) -> None:
    needs("lammps", "lmp", "mpirun")
    shown, out = run(client, tmp_path, "lammps", {"size": 6, "steps": 100})
    assert "Loop time of" in out and "on 2 procs for 100 steps with 864 atoms" in out
    assert figure(shown) > 100.0  # tau/day; about 1e5 here on 2 ranks
    assert shown["figures"][0]["cpus"] == 2 and shown["figures"][0]["unit"] == "tau/day"
    assert (tmp_path / f"lammps-{shown['attempts'][0]['native_id']}" / "in.lj").is_file()


def test_openfoam_lid_driven_cavity(client: Client, tmp_path: Path) -> None:
    needs("openfoam", "blockMesh", "icoFoam")
    shown, out = run(client, tmp_path, "openfoam", {"cells": 20, "end_time": 0.5})
    assert "steps: 200" in out and "End" in out
    assert figure(shown) > 0  # cell-steps/s


def test_gromacs_water_box(client: Client, tmp_path: Path) -> None:
    needs("gromacs", "gmx")
    shown, out = run(client, tmp_path, "gromacs", {"box": 2.0, "steps": 200})
    assert "Performance:" in out
    assert figure(shown) > 0  # ns/day


def test_quantum_espresso_silicon_scf(client: Client, tmp_path: Path) -> None:
    needs("quantum-espresso", "ld1.x", "pw.x")
    shown, out = run(client, tmp_path, "quantum-espresso", {"kpoints": 2, "ecutwfc": 12})
    energy = next(line for line in out.splitlines() if line.startswith("!"))
    assert -16.5 < float(energy.split("=")[1].split()[0]) < -15.0  # Ry, silicon's two atoms
    assert "convergence has been achieved" in out
    assert 0 < figure(shown) < 60  # seconds per SCF iteration


def test_pytorch_synthetic_training(client: Client, tmp_path: Path) -> None:
    needs("pytorch", "python3")
    import subprocess

    if subprocess.run(["/usr/bin/python3", "-c", "import torch"], capture_output=True).returncode:
        pytest.skip("python3-torch is not installed for /usr/bin/python3")
    shown, out = run(client, tmp_path, "pytorch", {"hidden": 64, "steps": 30, "batch": 64})
    assert "device: cpu" in out
    assert figure(shown) > 0  # samples/s


def test_mpi_program_runs_on_every_task(client: Client, tmp_path: Path) -> None:
    needs("mpi", "mpirun")
    _, out = run(
        client, tmp_path, "mpi", {"program": "printenv", "arguments": "OMPI_COMM_WORLD_RANK"}
    )
    assert sorted(out.split()) == ["0", "1"]


def test_python_script_gets_its_arguments_literally(client: Client, tmp_path: Path) -> None:
    needs("python", "python3")
    script = tmp_path / "show.py"
    script.write_text("import sys\nprint(sys.argv[1:])\n")
    _, out = run(
        client,
        tmp_path,
        "python",
        {"script": str(script), "arguments": "a $(touch PWNED) `id` ; *"},
    )
    assert out.strip() == "['a', '$(touch', 'PWNED)', '`id`', ';', '*']"
    assert not list(tmp_path.rglob("PWNED"))


def test_the_report_has_the_runs_with_costs(client: Client) -> None:
    rows = client.app_report()["rows"]
    if not rows:
        pytest.skip("no application ran in this module")
    for row in rows:
        assert row["cluster"] == "here" and row["runs"] >= 1
        if row["runs_with_figure"]:
            assert row["median_figure"] > 0 and row["cost_per_run"] is not None


def test_the_cnet_command_runs_lammps_and_prints_its_figure(
    server: LiveServer, tmp_path: Path
) -> None:
    needs("lammps", "lmp")
    import subprocess
    import sys

    env = {**os.environ, "CN_SERVER_URL": server.url, "CN_TOKEN": TOKEN, "COLUMNS": "200"}
    base = [sys.executable, "-m", "computenet.cli.main", "apps", "run", "lammps"]
    args = ["-p", "size=4", "-p", "steps=50", "--ntasks=1", "--time=5"]
    proc = subprocess.run(
        [*base, *args, "--wait"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    (line,) = [x for x in proc.stdout.splitlines() if x.startswith("figure: ")]
    assert line.endswith(" tau/day on here (1 CPU)") and float(line.split()[1]) > 0
    bad = subprocess.run(
        [*base, "-p", "steps=5"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2
    assert bad.stderr == "cnet: error: lammps: steps: must be between 10 and 1e+07 (got 5)\n"
