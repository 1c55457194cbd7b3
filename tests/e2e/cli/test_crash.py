"""kill -9 the server while jobs are submitted, placed and run: after restarts,
no acknowledged job is lost and none runs twice."""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from computenet.client import Client

pytestmark = pytest.mark.slow

TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL"}


def _server(home: Path) -> dict[str, Any]:
    return json.loads((home / ".local/state/computenet/server.json").read_text())


def _client(home: Path) -> Client:
    token = (home / ".local/share/computenet/token").read_text().strip()
    return Client(_server(home)["url"], token, timeout_s=5)


def _kill_server(home: Path) -> None:
    pid = _server(home)["pid"]
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)


def test_kill_minus_nine_loses_nothing_and_runs_nothing_twice(
    cnet: Any, cnet_home: Path, tmp_path: Path
) -> None:
    rng = random.Random(7)
    ledger = tmp_path / "ran.txt"
    assert cnet("server", "start").returncode == 0
    acknowledged: list[int] = []
    for _round in range(4):
        client = _client(cnet_home)
        for _ in range(12):
            try:
                job = client.submit(
                    options=[
                        "--time=1",
                        "--wrap",
                        f"sleep 0.{rng.randint(1, 9)}; echo $CN_JOB_ID >> {ledger}",
                    ],
                    cwd=str(tmp_path),
                    env={"PATH": os.environ["PATH"]},
                )
            except Exception:
                break
            acknowledged.append(job["id"])
            if rng.random() < 0.15:
                break
        time.sleep(rng.uniform(0.0, 0.4))  # let the controller be somewhere mid-pass
        client.close()
        _kill_server(cnet_home)
        proc = cnet("server", "start")
        assert proc.returncode == 0, proc.stderr
    client = _client(cnet_home)
    deadline = time.monotonic() + 120
    while True:
        jobs = {j["id"]: j for j in client.jobs(all=True)}
        if all(jobs.get(i, {}).get("state") in TERMINAL for i in acknowledged):
            break
        assert time.monotonic() < deadline, {i: jobs.get(i, {}).get("state") for i in acknowledged}
        time.sleep(0.3)
    assert len(acknowledged) >= 12
    for job_id in acknowledged:
        assert jobs[job_id]["state"] == "COMPLETED", jobs[job_id]
    runs = Counter(int(line) for line in ledger.read_text().split())
    twice = {k: v for k, v in runs.items() if v > 1}
    assert not twice, f"jobs ran more than once: {twice}"
    assert set(acknowledged) <= set(runs), "an acknowledged job never ran"
    # Jobs the server stored but never acknowledged (killed mid-request) ran once at most.
    assert set(runs) <= set(jobs)
