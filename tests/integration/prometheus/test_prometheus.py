"""A real Prometheus server scrapes /metrics and answers a query about it.

Needs Debian's ``prometheus`` package (``apt-get install -y
--no-install-recommends prometheus``); skipped when the binary is missing.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from computenet.config import ClusterConfig, PartitionConfig, Settings
from computenet.core.runtime import Runtime
from tests.support.live import TOKEN, LiveServer
from tests.support.ports import free_port

pytestmark = pytest.mark.integration
PROMETHEUS = shutil.which("prometheus")


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    monkeypatch.setenv("CN_ACCOUNTING_INTERVAL_S", "0.1")
    monkeypatch.setenv("CN_TELEMETRY_INTERVAL_S", "0.2")
    cluster = ClusterConfig(
        name="alpha",
        kind="fake",
        partitions=[
            PartitionConfig(name="cpu", nodes=2, cores=4, default=True, price_per_core_hour=0.04)
        ],
    )
    settings = Settings(
        data_dir=tmp_path / "data",
        state_dir=tmp_path / "state",
        clusters=[cluster],
        token=TOKEN,
        user="admin",
        project="chem",
        controller_interval_s=0.05,
    )
    server = LiveServer(Runtime(settings))
    yield server
    server.stop()


@pytest.fixture
def prometheus(tmp_path: Path, live: LiveServer) -> Iterator[str]:
    if PROMETHEUS is None:
        pytest.skip("prometheus is not installed (apt-get install prometheus)")
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n"
        "  - job_name: computenet\n"
        "    metrics_path: /metrics\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{live.port}']\n"
    )
    log = (tmp_path / "prometheus.log").open("w")
    proc = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx2.get(url + "/-/ready", timeout=1).status_code == 200:
                    break
            except httpx2.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError((tmp_path / "prometheus.log").read_text()[-2000:])
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _query(url: str, expr: str) -> list[dict[str, Any]]:
    resp = httpx2.get(url + "/api/v1/query", params={"query": expr}, timeout=5)
    resp.raise_for_status()
    body = resp.json()
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def _wait_for(url: str, expr: str, timeout_s: float = 40.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = _query(url, expr)
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"Prometheus never had {expr}")


def test_prometheus_scrapes_and_answers(live: LiveServer, prometheus: str) -> None:
    with live.client() as c:
        job = c.submit(options=["--wrap", "sleep 2", "-n", "2", "--time=5"], cwd="/tmp")
        c.wait(job["id"], timeout_s=20)
    (cpus,) = _wait_for(prometheus, 'cn_cluster_cpus{cluster="alpha"}')
    assert float(cpus["value"][1]) == 8
    assert _wait_for(prometheus, 'up{job="computenet"} == 1')
    (core,) = _wait_for(prometheus, 'cn_core_seconds_total{cluster="alpha",project="chem"} > 0')
    assert float(core["value"][1]) == pytest.approx(4.0)  # 2 CPUs x 2 s
    buckets = _wait_for(prometheus, 'cn_queue_wait_seconds_count{cluster="alpha"}')
    assert float(buckets[0]["value"][1]) == 1
