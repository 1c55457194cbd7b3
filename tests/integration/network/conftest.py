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
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
DEV_SLURM = REPO / "scripts" / "dev-slurm"

pytestmark = pytest.mark.integration


def _need(binary: str) -> None:
    if shutil.which(binary) is None and not Path("/usr/sbin", binary).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{binary} is missing in CI")
        pytest.skip(f"{binary} is not installed")


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
    _need("slurmctld")
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


@dataclass(frozen=True)
class SshLogin:
    target: str  # root@127.0.0.1:PORT
    key_path: str
    known_hosts: str
    sshd_pid: int
    root: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def ssh_login() -> Iterator[SshLogin]:
    _need("sshd")
    root = Path(tempfile.mkdtemp(prefix="cn-it-sshd-"))
    os.chmod(root, 0o700)
    for name in ("host_key", "client_key"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / name)],
            check=True,
            timeout=30,
        )
    shutil.copy(root / "client_key.pub", root / "authorized_keys")
    port = _free_port()
    host_pub = (root / "host_key.pub").read_text().split()
    (root / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_pub[0]} {host_pub[1]}\n")
    (root / "sshd_config").write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {root / 'host_key'}",
                f"PidFile {root / 'sshd.pid'}",
                f"AuthorizedKeysFile {root / 'authorized_keys'}",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "PermitRootLogin prohibit-password",
                "StrictModes no",
                "UsePAM no",
                "Subsystem sftp internal-sftp",
                "LogLevel ERROR",
                "MaxStartups 50",
                "MaxSessions 50",
                "",
            ]
        )
    )
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # sshd's privilege-separation dir
    log = open(root / "sshd.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        ["/usr/sbin/sshd", "-f", str(root / "sshd_config"), "-D", "-e"],
        stdout=log,
        stderr=log,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None:
                pytest.fail(f"sshd exited: {(root / 'sshd.log').read_text()}")
            time.sleep(0.05)
        yield SshLogin(
            f"root@127.0.0.1:{port}",
            str(root / "client_key"),
            str(root / "known_hosts"),
            proc.pid,
            root,
        )
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)
