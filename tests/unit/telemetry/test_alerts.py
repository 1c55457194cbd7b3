"""Anomaly rules, alert life cycle and the webhook (a real HTTP receiver)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from computenet.clusters.fake import FakeCluster
from computenet.store.tables_telemetry import AlertRow
from computenet.telemetry.anomalies import (
    FailureCounts,
    JobView,
    failure_findings,
    job_findings,
)
from computenet.telemetry.settings import TelemetrySettings

from .conftest import SkewedCluster, telemetry

CFG = TelemetrySettings()


def view(**kw: Any) -> JobView:
    base = dict(
        job_id=1,
        cluster="c",
        project="p",
        cpus=4,
        gpus=0,
        low_cpu_since=None,
        gpu_idle_since=None,
        last_rss_bytes=None,
        mem_limit_bytes=None,
    )
    return JobView(**{**base, **kw})  # type: ignore[arg-type]


def test_job_rules() -> None:
    now = 10_000.0
    assert job_findings([view(low_cpu_since=now - 100)], now, CFG) == []
    (hung,) = job_findings([view(low_cpu_since=now - 3600)], now, CFG)
    assert hung.kind == "job_hung" and "60 min" in hung.message
    (mem,) = job_findings([view(last_rss_bytes=95, mem_limit_bytes=100)], now, CFG)
    assert mem.kind == "job_memory_high" and "95%" in mem.message
    assert job_findings([view(last_rss_bytes=50, mem_limit_bytes=100)], now, CFG) == []
    (gpu,) = job_findings([view(gpus=2, gpu_idle_since=now - 7200)], now, CFG)
    assert gpu.kind == "job_gpu_idle"
    assert job_findings([view(gpus=0, gpu_idle_since=now - 7200)], now, CFG) == []


def test_failure_rate_far_above_usual() -> None:
    usual = FailureCounts("c", recent_ended=20, recent_failed=8, usual_ended=1000, usual_failed=20)
    (f,) = failure_findings([usual], CFG)
    assert f.kind == "cluster_failures" and "8 of 20" in f.message
    normal = FailureCounts(
        "c", recent_ended=20, recent_failed=6, usual_ended=1000, usual_failed=300
    )
    assert failure_findings([normal], CFG) == []
    few = FailureCounts("c", recent_ended=3, recent_failed=3, usual_ended=1000, usual_failed=0)
    assert failure_findings([few], CFG) == []


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    _Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", _Receiver.received
    server.shutdown()
    server.server_close()


async def test_webhook_gets_each_alert_once(make_runtime, receiver) -> None:
    url, received = receiver
    rt = make_runtime({"alpha": FakeCluster, "ahead": SkewedCluster})
    svc = telemetry(rt, webhook_url=url)
    await svc.step()
    await svc.step()
    assert len(received) == 1
    (alert,) = received[0]["alerts"]
    assert alert["kind"] == "cluster_clock_skew" and alert["cluster"] == "ahead"
    with rt.store.session() as s:
        assert all(a.notified for a in s.scalars(select(AlertRow)))


async def test_webhook_down_keeps_alerts_for_later(make_runtime) -> None:
    rt = make_runtime({"ahead": SkewedCluster})
    svc = telemetry(rt, webhook_url="http://127.0.0.1:9/none")
    await svc.step()
    with rt.store.session() as s:
        assert [a.notified for a in s.scalars(select(AlertRow))] == [False]
