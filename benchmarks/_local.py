"""Helpers for benchmarks that need a private local server or dev Slurm clusters."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEV_SLURM = REPO / "scripts" / "dev-slurm"


@contextmanager
def private_server(env_extra: dict[str, str] | None = None) -> Iterator[dict[str, str]]:
    """A local computenet server under a temporary HOME; yields the environment to use."""
    home = tempfile.mkdtemp(prefix="cn-bench-home-")
    env = dict(
        os.environ,
        HOME=home,
        XDG_CONFIG_HOME=f"{home}/.config",
        XDG_DATA_HOME=f"{home}/.local/share",
        XDG_STATE_HOME=f"{home}/.local/state",
        **(env_extra or {}),
    )
    env = {k: v for k, v in env.items() if not k.startswith("CN_") or k in (env_extra or {})}
    subprocess.run(
        [sys.executable, "-m", "computenet.cli.main", "server", "start"],
        env=env,
        check=True,
        capture_output=True,
    )
    try:
        yield env
    finally:
        subprocess.run(
            [sys.executable, "-m", "computenet.cli.main", "server", "stop"],
            env=env,
            capture_output=True,
        )


@contextmanager
def dev_slurm(prefix: str, *args: str) -> Iterator[tuple[Path, str]]:
    """``scripts/dev-slurm start ARGS`` in a fresh directory named from
    ``prefix``: yields (the directory, what the script printed), then stops
    the clusters by PID and removes the directory."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        out = subprocess.run(
            [str(DEV_SLURM), "start", "--dir", str(root), *args],
            capture_output=True,
            text=True,
            timeout=900,
            check=True,
        )
        yield root, out.stdout
    finally:
        subprocess.run([str(DEV_SLURM), "stop", "--dir", str(root)], timeout=120, check=False)
        shutil.rmtree(root, ignore_errors=True)


def slurm_sbatch_rate(jobs: int = 200) -> float | None:
    """Sequential sbatch/s on a dev Slurm cluster started for the purpose, or None."""
    script = REPO / "benchmarks" / "slurm_submit_rate.py"
    try:
        out = subprocess.run(
            [sys.executable, str(script), "--jobs", str(jobs)],
            capture_output=True,
            text=True,
            timeout=600,
        )
    except subprocess.TimeoutExpired:
        return None
    for line in reversed(out.stdout.strip().splitlines()):
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if data.get("figure") == "slurm_submit_rate":
            return float(data["value"])
    sys.stderr.write(f"slurm baseline unavailable: {out.stderr[-500:]}\n")
    return None


def timed(fn: object, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return sorted(times)
