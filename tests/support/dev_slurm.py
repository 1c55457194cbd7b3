"""Throwaway Slurm clusters from ``scripts/dev-slurm``, for integration tests."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

DEV_SLURM = Path(__file__).resolve().parents[2] / "scripts" / "dev-slurm"


@contextmanager
def dev_slurm(prefix: str, *args: str) -> Iterator[tuple[Path, str]]:
    """``scripts/dev-slurm start ARGS`` in a fresh directory named from
    ``prefix``: yields (the directory, what the script printed), then stops
    every daemon it started and removes the directory. A failed start fails
    the test. Run with this Python, so the clusters' programs (a pool's
    resume and suspend) import the computenet under test."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        out = subprocess.run(
            [sys.executable, str(DEV_SLURM), "start", "--dir", str(root), *args],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if out.returncode != 0:
            pytest.fail(f"scripts/dev-slurm start failed: {out.stderr.strip()}")
        yield root, out.stdout
    finally:
        subprocess.run(
            [sys.executable, str(DEV_SLURM), "stop", "--dir", str(root)], timeout=120, check=False
        )
        shutil.rmtree(root, ignore_errors=True)


def restart_dev_slurm(root: Path) -> None:
    """Start whatever of the clusters in ``root`` is not running (dev-slurm is idempotent)."""
    subprocess.run(
        [sys.executable, str(DEV_SLURM), "start", "--dir", str(root)],
        check=True,
        capture_output=True,
        timeout=300,
    )


def stop_slurmctld(root: Path, name: str) -> None:
    """Stop cluster ``name``'s slurmctld (by its pid file) and wait until it is gone."""
    pid = int((root / name / "slurmctld.pid").read_text().split()[0])
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
