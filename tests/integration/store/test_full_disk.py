"""Full disks, on a 4 MB tmpfs mounted for the test (needs root): under the
SQLite store, and under a job's output. A clear error each time, the server
stays up, and it works again once space is freed."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from computenet.client import Client
from computenet.config import ClusterConfig, PartitionConfig, Settings
from computenet.core.runtime import Runtime
from computenet.errors import StoreError
from tests.support.live import LiveServer

pytestmark = pytest.mark.integration
TOKEN = "cn_full_disk_token"
CLUSTERS = [
    ClusterConfig(
        name="emb",
        kind="embedded",
        partitions=[PartitionConfig(name="p", nodes=1, cores=2, default=True)],
    )
]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    where = tmp_path / "small"
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


def fill(where: Path) -> Path:
    """Write a file until the file system is full; returns it."""
    filler = where / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 512, 1):
            while True:
                try:
                    os.write(fd, b"\0" * size)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC
                    break
    finally:
        os.close(fd)
    return filler


def _server(tmp_path: Path, data_dir: Path) -> LiveServer:
    settings = Settings(
        data_dir=data_dir,
        state_dir=tmp_path / "state",
        clusters=CLUSTERS,
        token=TOKEN,
        user="admin",
        controller_interval_s=0.1,
    )
    return LiveServer(Runtime(settings))


def test_full_disk_under_the_store_refuses_writes_clearly_and_recovers(
    small_disk: Path, tmp_path: Path
) -> None:
    server = _server(tmp_path, small_disk / "data")
    work = tmp_path / "work"
    work.mkdir()
    try:
        with Client(server.url, TOKEN) as client:
            job = client.submit(options=["--wrap", "true", "-t", "1"], cwd=str(work))
            assert client.wait(job["id"], timeout_s=30)["state"] == "COMPLETED"
            filler = fill(small_disk)
            with pytest.raises(StoreError) as err:
                for _ in range(50):  # the WAL's free pages go first
                    client.submit(options=["--wrap", "true", "-t", "1"], cwd=str(work))
            assert "database or disk is full" in err.value.message, err.value.message
            assert err.value.transient
            assert client.job(job["id"])["state"] == "COMPLETED"  # reads still answer
            assert httpx2.get(server.url + "/healthz").status_code == 200
            filler.unlink()
            again = client.submit(options=["--wrap", "true", "-t", "1"], cwd=str(work))
            assert client.wait(again["id"], timeout_s=30)["state"] == "COMPLETED"
    finally:
        server.stop()


def test_full_disk_under_a_jobs_output_fails_the_job_saying_why(
    small_disk: Path, tmp_path: Path
) -> None:
    server = _server(tmp_path, tmp_path / "data")
    try:
        with Client(server.url, TOKEN) as client:
            big = client.submit(
                options=["--wrap", "head -c 8000000 /dev/zero", "-t", "1", "-o", "big.out"],
                cwd=str(small_disk),
            )
            done = client.wait(big["id"], timeout_s=30)
            assert done["state"] == "FAILED", done
            reason = done["attempts"][-1]["reason"] or ""
            assert f"no space left on the file system holding {small_disk}/big.out" in reason
            assert httpx2.get(server.url + "/healthz").status_code == 200
            (small_disk / "big.out").unlink()
            ok = client.submit(
                options=["--wrap", "echo fits", "-t", "1", "-o", "ok.out"], cwd=str(small_disk)
            )
            assert client.wait(ok["id"], timeout_s=30)["state"] == "COMPLETED"
            assert (small_disk / "ok.out").read_text() == "fits\n"
    finally:
        server.stop()
