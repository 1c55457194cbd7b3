"""A private PostgreSQL server that a test may stop and start again (by its
own data directory and port), for outage tests. The session-wide server of
``tests/conftest.py`` is shared and must stay up; this one is the test's own."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest


def pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Postgres:
    root: Path
    bindir: Path
    port: int
    prefix: tuple[str, ...]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.prefix, str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.root / 'sock'} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-o", opts, "-w", "-l", str(self.root / "log"), "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; ``fast`` ends every connection (as a restart does)."""
        self._ctl("-m", mode, "-w", "stop")


@contextmanager
def private_postgres() -> Iterator[Postgres]:
    """Start a PostgreSQL server of its own; skip when the binaries are absent
    (a failure in CI)."""
    bindir = pg_bin()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL server binaries are missing in CI")
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="cn-pg-outage-"))
    (root / "sock").mkdir()
    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(root, "postgres")
        shutil.chown(root / "sock", "postgres")
        prefix = ("runuser", "-u", "postgres", "--")
    subprocess.run(
        [
            *prefix,
            str(bindir / "initdb"),
            "-D",
            str(root / "data"),
            "--auth=trust",
            "-U",
            "postgres",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pg = Postgres(root, bindir, _free_port(), prefix)
    pg.start()
    try:
        yield pg
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(root / "data"), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)
