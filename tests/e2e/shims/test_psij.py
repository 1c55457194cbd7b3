"""PSI/J's Slurm executor, unchanged, on the network through the shims: it
writes a batch script that reads ``$SLURM_JOB_ID`` and runs ``scontrol show
hostnames``, submits it with ``sbatch``, polls ``squeue -O ...`` and cancels
with ``scancel``. These are the cases of PSI/J's own executor tests."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.e2e.shims.conftest import Net

psij = pytest.importorskip("psij")
pytestmark = pytest.mark.slow

TIMEOUT = timedelta(seconds=120)


def _executor(tmp_path: Path):  # type: ignore[no-untyped-def]
    from psij.executors.batch.slurm import SlurmExecutorConfig

    config = SlurmExecutorConfig(
        work_directory=tmp_path / "psij-work",
        keep_files=True,
        queue_polling_interval=1,
        initial_queue_polling_delay=1,
    )
    return psij.JobExecutor.get_instance("slurm", config=config)


_apart: list[bool] = []


@pytest.fixture(autouse=True)
def ids_apart(net: Net) -> None:
    """Network ids ahead of the clusters' own (once per module's server): held jobs
    take ids and never reach a cluster, so a script that met the cluster's id
    instead would look for its files in vain."""
    if _apart:
        return
    _apart.append(True)
    held = [
        net.run("sbatch", "--parsable", "--hold", "--wrap", "true").stdout.strip() for _ in range(3)
    ]
    assert all(h.isdigit() for h in held), held
    assert net.run("scancel", *held).returncode == 0


def _job(**spec: object):  # type: ignore[no-untyped-def]
    return psij.Job(psij.JobSpec(**spec))


def test_simple_job_runs_and_completes(net: Net, tmp_path: Path) -> None:
    ex = _executor(tmp_path)
    out = tmp_path / "out.txt"
    job = _job(executable="/bin/echo", arguments=["_x_", "y z"], stdout_path=out)
    ex.submit(job)
    status = job.wait(timeout=TIMEOUT)
    assert status is not None and status.state == psij.JobState.COMPLETED, status
    assert status.exit_code == 0
    assert out.read_text() == "_x_ y z\n"


def test_failing_job_reports_its_exit_code(net: Net, tmp_path: Path) -> None:
    ex = _executor(tmp_path)
    job = _job(executable="/bin/sh", arguments=["-c", "echo oops >&2; exit 3"])
    ex.submit(job)
    status = job.wait(timeout=TIMEOUT)
    assert status is not None and status.state == psij.JobState.FAILED, status
    assert status.exit_code == 3


def test_environment_directory_and_nodefile(net: Net, tmp_path: Path) -> None:
    ex = _executor(tmp_path)
    out = tmp_path / "env.txt"
    workdir = tmp_path / "wd"
    workdir.mkdir()
    job = _job(
        executable="/bin/sh",
        arguments=["-c", 'echo "$PSIJ_TEST_VAR" "$PWD"; wc -l < "$PSIJ_NODEFILE"'],
        environment={"PSIJ_TEST_VAR": "value with spaces"},
        directory=workdir,
        stdout_path=out,
    )
    ex.submit(job)
    status = job.wait(timeout=TIMEOUT)
    assert status is not None and status.state == psij.JobState.COMPLETED, status
    first, count = out.read_text().splitlines()
    assert first == f"value with spaces {workdir}"
    assert int(count) == 1  # one node, one line in PSI/J's node file


def test_cancel_a_running_job(net: Net, tmp_path: Path) -> None:
    ex = _executor(tmp_path)
    job = _job(executable="/bin/sleep", arguments=["600"])
    ex.submit(job)
    job.wait(target_states=[psij.JobState.ACTIVE], timeout=TIMEOUT)
    job.cancel()
    status = job.wait(timeout=TIMEOUT)
    assert status is not None and status.state == psij.JobState.CANCELED, status


def test_list_shows_the_submitted_job(net: Net, tmp_path: Path) -> None:
    ex = _executor(tmp_path)
    job = _job(executable="/bin/sleep", arguments=["600"])
    ex.submit(job)
    try:
        assert job.native_id in ex.list()
    finally:
        job.cancel()
        job.wait(timeout=TIMEOUT)
