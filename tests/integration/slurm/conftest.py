"""Real Slurm behind a real sshd login node, both on loopback, both stopped by PID.

Fixtures: ``slurm_dev`` (one dev cluster without accounting: its SLURM_CONF
and its directory, for fault tests that stop its slurmctld) and ``ssh_login``
(an OpenSSH server as root on a free loopback port, with a generated host
key, client key and known_hosts).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.dev_slurm import dev_slurm, restart_dev_slurm, stop_slurmctld
from tests.support.sshd import SshLogin, need, running_sshd

pytestmark = pytest.mark.integration


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass(frozen=True)
class SlurmDev:
    root: Path
    name: str
    slurm_conf: str

    def restart(self) -> None:
        """Start whatever of the cluster is not running."""
        restart_dev_slurm(self.root)

    def stop_slurmctld(self) -> None:
        stop_slurmctld(self.root, self.name)


@pytest.fixture(scope="session")
def slurm_dev() -> Iterator[SlurmDev]:
    need("slurmctld")
    with dev_slurm("cn-it-slurm-", "--clusters", "1", "--prefix", "it") as (root, out):
        yield SlurmDev(root, "it1", out.strip().splitlines()[0])


@pytest.fixture(scope="session")
def ssh_login(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshLogin]:
    with running_sshd(tmp_path_factory.mktemp("sshd")) as login:
        yield login
