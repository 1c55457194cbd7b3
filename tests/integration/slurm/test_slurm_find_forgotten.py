"""find(tag) after slurmctld forgot the job, on a real cluster without accounting.

The cluster keeps an ended job for MinJobAge=2 s (and purges about once a
minute): a job submitted and finished leaves squeue and ``scontrol show job``
within about a minute. Only its start marker then says it ran, and find must
still return its id, so a server that crashed between sbatch and recording the
id does not send the job again: on this machine, and through an SSH login.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from computenet.clusters.slurm.adapter import SlurmCluster
from computenet.clusters.slurm.ssh_transport import SshTransport
from computenet.clusters.transport import LocalTransport, Transport
from computenet.config import ClusterConfig
from computenet.model import AttemptRequest, JobSpec
from tests.support.dev_slurm import dev_slurm
from tests.support.sshd import SshLogin, need

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def forgetful() -> Iterator[str]:
    """A one-cluster dev Slurm that forgets ended jobs fast: its SLURM_CONF."""
    need("slurmctld")
    args = ("--clusters", "1", "--nodes", "1", "--prefix", "fg", "--min-job-age", "2")
    with dev_slurm("cn-it-forget-", *args) as (_, out):
        yield out.strip().splitlines()[0]


def _known(conf: str, job: str) -> bool:
    """Whether slurmctld still holds the job (squeue or scontrol answer for it)."""
    env = {**os.environ, "SLURM_CONF": conf}
    sq = subprocess.run(
        ["squeue", "-h", "-t", "all", "-j", job, "-o", "%i"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    sc = subprocess.run(
        ["scontrol", "show", "job", job], env=env, capture_output=True, text=True, timeout=30
    )
    return bool(sq.stdout.strip()) or sc.returncode == 0


def _transport(how: str, conf: str, home: Path, request: pytest.FixtureRequest) -> Transport:
    env = {"SLURM_CONF": conf, "HOME": str(home)}  # the job's account's home, kept in tmp
    if how == "local":
        return LocalTransport(base_env=env)
    login: SshLogin = request.getfixturevalue("ssh_login")
    return SshTransport(
        login.target, key_path=login.key_path, known_hosts=login.known_hosts, base_env=env
    )


@pytest.mark.anyio
@pytest.mark.parametrize("how", ["local", "ssh"])
async def test_find_returns_the_id_of_a_job_slurm_has_forgotten(
    how: str, forgetful: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    transport = _transport(how, forgetful, home, request)
    cluster = SlurmCluster(ClusterConfig(name="fg1", kind="slurm"), transport)
    await cluster.start()
    assert not await cluster.accounting()
    tag = f"cn-it0forget-7-{1 if how == 'local' else 2}"
    script = "#!/bin/bash\n#SBATCH -o /dev/null\n#SBATCH -t 1\nset -eu\ntrue\n"
    request = AttemptRequest(
        tag=tag, job_id="7", attempt=1, partition=None, owner="u", spec=JobSpec(script=script)
    )  # type: ignore[arg-type]
    native = await cluster.submit(request)

    deadline = time.monotonic() + 240
    while _known(forgetful, native):
        assert time.monotonic() < deadline, f"slurmctld still holds job {native}"
        await asyncio.sleep(2)
    assert all(j.job_id != native for j in await cluster._squeue())

    assert await cluster.find(tag) == native
    marker = home / ".computenet" / "jobs" / "fg1" / tag
    assert marker.read_text() == f"{tag} {native}\n"
    # the marker alone answered: without it the forgotten job is not found
    marker.unlink()
    assert await cluster.find(tag) is None
    await cluster.close()
