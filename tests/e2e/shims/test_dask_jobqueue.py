"""dask-jobqueue's SLURMCluster, unchanged, on the network through the shims:
it writes a batch script, submits it with ``sbatch``, and stops workers
with ``scancel``."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.e2e.shims.conftest import Net

pytest.importorskip("dask_jobqueue")
pytestmark = [
    pytest.mark.slow,
    # dask and distributed warn about their own deprecations and event loops
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore:.*:UserWarning:distributed.*"),
]


def _active_jobs(net: Net) -> dict[str, str]:
    doc = json.loads(net.run("squeue", "--json").stdout)
    return {str(j["job_id"]): j["job_state"] for j in doc["jobs"]}


def test_slurm_cluster_runs_a_computation(net: Net, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from dask.distributed import Client
    from dask_jobqueue import SLURMCluster

    cluster = SLURMCluster(
        cores=1,
        processes=1,
        memory="1GB",
        walltime="00:10:00",
        interface="lo",  # scheduler and workers talk over loopback only
        log_directory=str(tmp_path / "logs"),
        job_extra_directives=["--job-name=dask-worker"],
    )
    try:
        script = cluster.job_script()
        assert "#SBATCH" in script
        cluster.scale(jobs=1)
        with Client(cluster) as client:
            client.wait_for_workers(1, timeout=120)
            jobs = _active_jobs(net)
            assert list(jobs.values()) == ["RUNNING"], jobs
            total = client.submit(sum, range(101)).result(timeout=60)
            squares = client.gather(client.map(lambda x: x * x, range(10)), errors="raise")
            assert (total, sum(squares)) == (5050, 285)

            cluster.scale(jobs=2)
            client.wait_for_workers(2, timeout=120)
            assert sorted(_active_jobs(net).values()) == ["RUNNING", "RUNNING"]
            assert sum(client.gather(client.map(lambda x: x + 1, range(20)))) == 210
    finally:
        cluster.close()
    # close() scancels every worker job: none may stay behind
    deadline = time.monotonic() + 60
    while _active_jobs(net) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _active_jobs(net) == {}
    acct = net.run("sacct", "-X", "-n", "-P", "-o", "JobName,State", "-S", "now-1hour")
    names = [line.split("|") for line in acct.stdout.splitlines()]
    assert len(names) == 2 and all(n == "dask-worker" for n, _ in names), acct.stdout
    assert all(s.startswith("CANCELLED") for _, s in names), acct.stdout
