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


@dataclass(frozen=True)
class SlurmPair:
    root: Path
    confs: dict[str, str]  # cluster name -> SLURM_CONF

    def stop_slurmctld(self, name: str) -> None:
        pid = int((self.root / name / "slurmctld.pid").read_text().split()[0])
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)

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
        """Start whatever is not running (dev-slurm is idempotent)."""
        subprocess.run(
            [str(DEV_SLURM), "start", "--dir", str(self.root)],
            check=True,
            capture_output=True,
            timeout=300,
        )


@pytest.fixture(scope="session")
def slurm_pair() -> Iterator[SlurmPair]:
    need("slurmctld")
    root = Path(tempfile.mkdtemp(prefix="cn-it-network-"))
    try:
        out = subprocess.run(
            [
                str(DEV_SLURM),
                "start",
                "--dir",
                str(root),
                "--clusters",
                "2",
                "--prefix",
                "nw",
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if out.returncode != 0:
            pytest.fail(f"scripts/dev-slurm start failed: {out.stderr.strip()}")
        yield SlurmPair(root, json.loads(out.stdout)["clusters"])
    finally:
        subprocess.run([str(DEV_SLURM), "stop", "--dir", str(root)], timeout=120, check=False)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def ssh_login(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshLogin]:
    with running_sshd(tmp_path_factory.mktemp("sshd")) as login:
        yield login
