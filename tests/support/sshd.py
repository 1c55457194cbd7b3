"""A real OpenSSH server on a free loopback port, for SSH and SFTP tests.

Runs as root with generated host and client keys and a known_hosts file; it
is stopped by PID when the context ends.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.ports import free_port

SSHD = "/usr/sbin/sshd"


def need(binary: str) -> None:
    """Skip when a program is missing; in CI that is a failure instead."""
    if shutil.which(binary) is None and not Path("/usr/sbin", binary).exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{binary} is missing in CI")
        pytest.skip(f"{binary} is not installed")


@dataclass(frozen=True)
class SshLogin:
    port: int
    key_path: str
    known_hosts: str
    sshd_pid: int
    root: Path  # the server's own files
    user: str = "root"

    @property
    def target(self) -> str:
        return f"{self.user}@127.0.0.1:{self.port}"


def _sftp_server() -> str:
    for path in ("/usr/lib/openssh/sftp-server", "/usr/libexec/openssh/sftp-server"):
        if os.path.exists(path):
            return path
    return "internal-sftp"


@contextmanager
def running_sshd(root: Path, *, per_user_keys: bool = False) -> Iterator[SshLogin]:
    """``per_user_keys``: each account logs in only with the keys in
    ``root/authorized/ACCOUNT`` (root's client key is put there for root)."""
    need("sshd")
    if os.geteuid() != 0:
        pytest.skip("the test sshd runs as root")
    root.mkdir(parents=True, exist_ok=True)
    # sshd reads each account's keys as that account: let it through (not list)
    os.chmod(root, 0o711 if per_user_keys else 0o700)
    for name in ("host_key", "client_key"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / name)],
            check=True,
            timeout=30,
        )
    shutil.copy(root / "client_key.pub", root / "authorized_keys")
    keys_file = root / "authorized_keys"
    if per_user_keys:
        (root / "authorized").mkdir(exist_ok=True)
        os.chmod(root / "authorized", 0o755)
        shutil.copy(root / "client_key.pub", root / "authorized" / "root")
        keys_file = root / "authorized" / "%u"
    port = free_port()
    kind, key = (root / "host_key.pub").read_text().split()[:2]
    (root / "known_hosts").write_text(f"[127.0.0.1]:{port} {kind} {key}\n")
    (root / "sshd_config").write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {root / 'host_key'}",
                f"PidFile {root / 'sshd.pid'}",
                f"AuthorizedKeysFile {keys_file}",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "PermitRootLogin prohibit-password",
                "StrictModes no",
                "UsePAM no",
                f"Subsystem sftp {_sftp_server()}",
                "LogLevel ERROR",
                "MaxStartups 50",
                "MaxSessions 50",
                "",
            ]
        )
    )
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege-separation dir
    with open(root / "sshd.log", "wb") as log:
        proc = subprocess.Popen(
            [SSHD, "-f", str(root / "sshd_config"), "-D", "-e"],
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 15
            while True:
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"sshd did not start: {(root / 'sshd.log').read_text()}")
                time.sleep(0.05)
            yield SshLogin(
                port, str(root / "client_key"), str(root / "known_hosts"), proc.pid, root
            )
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
