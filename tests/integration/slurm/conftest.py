"""Real Slurm behind a real sshd login node, both on loopback, both stopped by PID.

Fixtures: ``slurm_dev`` (one dev cluster without accounting: its SLURM_CONF
and its directory, for fault tests that stop its slurmctld) and ``ssh_login``
(an OpenSSH server as root on a free loopback port, with a generated host
key, client key and known_hosts).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.sshd import SshLogin, need, running_sshd

REPO = Path(__file__).resolve().parents[3]
DEV_SLURM = REPO / "scripts" / "dev-slurm"

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
        """Start whatever of the cluster is not running (dev-slurm is idempotent)."""
        subprocess.run(
            [str(DEV_SLURM), "start", "--dir", str(self.root)],
            check=True,
            capture_output=True,
            timeout=300,
        )

    def stop_slurmctld(self) -> None:
        pid = int((self.root / self.name / "slurmctld.pid").read_text().split()[0])
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)


@pytest.fixture(scope="session")
def slurm_dev() -> Iterator[SlurmDev]:
    need("slurmctld")
    root = Path(tempfile.mkdtemp(prefix="cn-it-slurm-"))
    try:
        out = subprocess.run(
            [str(DEV_SLURM), "start", "--dir", str(root), "--clusters", "1", "--prefix", "it"],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if out.returncode != 0:
            pytest.fail(f"scripts/dev-slurm start failed: {out.stderr.strip()}")
        yield SlurmDev(root, "it1", out.stdout.strip().splitlines()[0])
    finally:
        subprocess.run([str(DEV_SLURM), "stop", "--dir", str(root)], timeout=120, check=False)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def ssh_login(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshLogin]:
    with running_sshd(tmp_path_factory.mktemp("sshd")) as login:
        yield login
