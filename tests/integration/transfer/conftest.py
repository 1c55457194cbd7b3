"""Fixtures: a real sshd on a loopback port, with a generated host key and user key."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "unit" / "transfer"))

SSHD = "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Sshd:
    def __init__(self, port: int, key: Path, user: str, root: Path) -> None:
        self.port, self.key, self.user, self.root = port, key, user, root

    @property
    def target(self) -> str:
        return f"{self.user}@127.0.0.1:{self.port}:{self.root}"


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Sshd]:
    if not os.path.exists(SSHD) or shutil.which("ssh-keygen") is None or os.geteuid() != 0:
        pytest.skip("needs openssh-server and root")
    d = tmp_path / "sshd"
    d.mkdir(mode=0o700)
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "host")], check=True
    )
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "user")], check=True
    )
    (d / "authorized_keys").write_text((d / "user.pub").read_text())
    os.chmod(d / "authorized_keys", 0o600)
    port = free_port()
    sftp_server = next(
        (
            p
            for p in ("/usr/lib/openssh/sftp-server", "/usr/libexec/openssh/sftp-server")
            if os.path.exists(p)
        ),
        "internal-sftp",
    )
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d / 'host'}\n"
        f"AuthorizedKeysFile {d / 'authorized_keys'}\nPasswordAuthentication no\n"
        f"PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n"
        f"PidFile {d / 'sshd.pid'}\nSubsystem sftp {sftp_server}\n"
    )
    Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation directory
    proc = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(d / "sshd_config")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                err = proc.stderr.read().decode() if proc.stderr else ""
                pytest.fail(f"sshd did not start: {err}")
            time.sleep(0.05)
    root = tmp_path / "remote"
    root.mkdir()
    yield Sshd(port, d / "user", "root", root)
    proc.terminate()
    proc.wait(10)
