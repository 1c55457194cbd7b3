"""A private PostgreSQL server: its own data directory, socket and port.

``tests/conftest.py`` starts one for the session (shared, it must stay up);
an outage test starts one of its own with ``private_postgres`` and may stop
and start it again."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.ports import free_port


def pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


@dataclass(frozen=True)
class Postgres:
    root: Path
    bindir: Path
    port: int
    prefix: tuple[str, ...]

    @property
    def server_url(self) -> str:
        """The server's URL without a database (append ``/NAME``)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.server_url}/postgres"

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
    root = Path(tempfile.mkdtemp(prefix="cn-pg-"))
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
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    pg = Postgres(root, bindir, free_port(), prefix)
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
