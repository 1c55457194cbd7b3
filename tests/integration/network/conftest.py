"""Real Slurm dev clusters and a real sshd login node for the network tests.

``slurm_pair``: two dev clusters without accounting (names -> SLURM_CONF,
plus the directory, to stop and restart a slurmctld), started once per
session by ``scripts/dev-slurm`` and stopped by PID. ``ssh_login``: an
OpenSSH server on a free loopback port (same pattern as
tests/integration/slurm/conftest.py).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.dev_slurm import dev_slurm, restart_dev_slurm, stop_slurmctld
from tests.support.sshd import SshLogin, need, running_sshd

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class SlurmPair:
    root: Path
    confs: dict[str, str]  # cluster name -> SLURM_CONF

    def stop_slurmctld(self, name: str) -> None:
        stop_slurmctld(self.root, name)

    def start_slurmctld(self, name: str) -> None:
        conf = self.confs[name]
        subprocess.run(
            ["/usr/sbin/slurmctld", "-f", conf],
            env=dict(os.environ, SLURM_CONF=conf),
            check=True,
            capture_output=True,
            timeout=60,
        )

    def restart(self) -> None:
        """Start whatever is not running."""
        restart_dev_slurm(self.root)


@pytest.fixture(scope="session")
def slurm_pair() -> Iterator[SlurmPair]:
    need("slurmctld")
    args = ("--clusters", "2", "--prefix", "nw", "--json")
    with dev_slurm("cn-it-network-", *args) as (root, out):
        yield SlurmPair(root, json.loads(out)["clusters"])


@pytest.fixture(scope="session")
def ssh_login(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshLogin]:
    with running_sshd(tmp_path_factory.mktemp("sshd")) as login:
        yield login
