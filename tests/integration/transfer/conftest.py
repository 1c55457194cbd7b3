"""Fixtures: a real sshd on a loopback port (tests/support/sshd.py) and a
directory on it that the SFTP tests write into."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.sshd import SshLogin, running_sshd

sys.path.insert(0, str(Path(__file__).parents[2] / "unit" / "transfer"))


@dataclass(frozen=True)
class Sshd:
    login: SshLogin
    root: Path  # the remote directory the tests use

    @property
    def key(self) -> Path:
        return Path(self.login.key_path)

    @property
    def target(self) -> str:
        return f"{self.login.target}:{self.root}"


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Sshd]:
    with running_sshd(tmp_path / "sshd") as login:
        root = tmp_path / "remote"
        root.mkdir()
        yield Sshd(login, root)
