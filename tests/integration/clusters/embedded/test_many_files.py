"""A job that leaves 100,000 files in its working directory, on an embedded
cluster behind a live server: it completes, its log reads back, and the
server answers throughout."""

from __future__ import annotations

import time
from pathlib import Path

import httpx2
import pytest

from computenet.client import Client
from computenet.config import ClusterConfig, PartitionConfig, Settings
from computenet.core.runtime import Runtime
from tests.support.live import LiveServer

pytestmark = pytest.mark.integration
FILES = 100_000
MAKE = (
    "python3 -c \"import os; os.makedirs('many', exist_ok=True); "
    f"[open(f'many/f{{i}}', 'w').close() for i in range({FILES})]\"; ls many | wc -l"
)


def test_a_job_with_100000_files_in_its_working_dir_completes_and_the_server_answers(
    tmp_path: Path,
) -> None:
    settings = Settings(
        data_dir=tmp_path / "d",
        state_dir=tmp_path / "s",
        token="t",
        user="admin",
        controller_interval_s=0.1,
        clusters=[
            ClusterConfig(
                name="emb",
                kind="embedded",
                partitions=[PartitionConfig(name="p", nodes=1, cores=2, default=True)],
            )
        ],
    )
    work = tmp_path / "work"
    work.mkdir()
    server = LiveServer(Runtime(settings))
    slowest_s = 0.0
    try:
        with Client(server.url, "t", timeout_s=30) as client:
            job = client.submit(options=["--wrap", MAKE, "-t", "5"], cwd=str(work))
            deadline = time.monotonic() + 120
            while True:
                t = time.monotonic()
                assert httpx2.get(server.url + "/healthz", timeout=10).status_code == 200
                state = client.job(job["id"])["state"]
                slowest_s = max(slowest_s, time.monotonic() - t)
                if state in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT"):
                    break
                assert time.monotonic() < deadline, state
                time.sleep(0.5)
            assert state == "COMPLETED"
            assert client.logs(job["id"])["data"] == f"{FILES}\n"
            assert sum(1 for _ in (work / "many").iterdir()) == FILES
    finally:
        server.stop()
    assert slowest_s < 5.0, "the server kept answering while the job made its files"
