"""A catalogue run on a real Slurm cluster: the install entry of the
cluster's network name is chosen inside the job (CN_CLUSTER reaches it
through sbatch), LAMMPS runs, and its figure is read through the adapter."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from computenet.config import ClusterConfig
from tests.support.dev_slurm import dev_slurm
from tests.support.live import LiveServer, live_settings
from tests.support.sshd import need
from tests.unit.api.test_apps_api import wait_figures

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def slurm_conf() -> Iterator[str]:
    need("slurmctld")
    args = ("--clusters", "1", "--prefix", "capp", "--nodes", "1", "--cpus", "2", "--json")
    with dev_slurm("cn-it-apps-", *args) as (_, out):
        (conf,) = json.loads(out)["clusters"].values()
        yield conf


def test_lammps_on_slurm_under_its_network_name(slurm_conf: str, tmp_path: Path) -> None:
    from computenet.core.runtime import Runtime

    if shutil.which("lmp", path="/usr/bin:/bin") is None:
        pytest.skip("lmp not installed")
    site = tmp_path / "apps"
    site.mkdir()
    shipped = yaml.safe_load((REPO / "src/computenet/apps/shipped/lammps.yaml").read_text())
    # Installed under the network's name only: the run fails (exit 127) unless
    # the job is told which cluster it is on.
    shipped["install"] = {"site-hpc": {"path": "/usr/bin", "check": ["lmp"]}}
    (site / "lammps.yaml").write_text(yaml.safe_dump(shipped))
    cluster = ClusterConfig(
        name="site-hpc", kind="slurm", slurm_conf=slurm_conf, price_per_core_hour=0.02
    )
    settings = live_settings(tmp_path, [cluster], controller_interval_s=0.2, apps_dir=site)
    server = LiveServer(Runtime(settings))
    try:
        with server.client() as client:
            deadline = time.monotonic() + 60
            while not all(c["partitions"] for c in client.clusters()):
                assert time.monotonic() < deadline, "the Slurm cluster did not describe itself"
                time.sleep(0.3)
            job = client.run_app(
                "lammps", {"size": 4, "steps": 50}, options=["--ntasks=1", "--time=5"],
                cwd=str(tmp_path),
            )  # fmt: skip
            final = client.wait(job["id"], timeout_s=240)
            out = client.logs(job["id"])["data"]
            assert final["state"] == "COMPLETED", (final, out)
            assert final["cluster"] == "site-hpc"
            (figure,) = wait_figures(client, job["id"])["figures"]
            assert figure["value"] is not None and figure["value"] > 0, figure
            assert figure["cluster"] == "site-hpc" and figure["unit"] == "tau/day"
            assert "Performance:" in (figure["line"] or "")
    finally:
        server.stop()
