"""Reports, alerts, diagnosis and /metrics through a real server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from computenet.client import Client
from computenet.config import Settings
from computenet.core.runtime import Runtime
from tests.support.live import TOKEN, LiveServer

from .conftest import config


def _server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **extra: Any) -> LiveServer:
    monkeypatch.setenv("CN_ACCOUNTING_INTERVAL_S", "0.1")
    monkeypatch.setenv("CN_TELEMETRY_INTERVAL_S", "0.2")
    settings = Settings(
        data_dir=tmp_path / "data",
        state_dir=tmp_path / "state",
        clusters=[config("alpha"), config("beta", nodes=1)],
        token=TOKEN,
        user="admin",
        controller_interval_s=0.05,
        **extra,
    )
    return LiveServer(Runtime(settings))


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    server = _server(tmp_path, monkeypatch)
    yield server
    server.stop()


@pytest.fixture
def alice(live: LiveServer) -> Iterator[Client]:
    with live.client() as admin:
        token = admin.post("/users", {"name": "alice", "project": "chem"})["token"]
    with live.client(token) as c:
        yield c


def _wait(cond: Any, timeout_s: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_reports_over_empty_ranges_are_zeros(live: LiveServer) -> None:
    with live.client() as c:
        params = {"since": "2001-01-01", "until": "2001-01-03"}
        u = c.get("/reports/utilization", {**params, "by": "day"})
        assert [r["core_hours"] for r in u["rows"]] == [0, 0]
        assert u["total"]["core_hours"] == 0 and u["total"]["utilization"] == 0
        assert u["top_users"] == [] and u["top_projects"] == []
        assert c.get("/reports/waits", params)["rows"] == []
        eff = c.get("/reports/efficiency", params)
        assert eff["rows"] == [] and eff["worst"] == []
        assert c.get("/reports/predictions", params)["rows"] == []
        assert (
            c.get("/reports/utilization", {"since": "2001-01-03", "until": "2001-01-01"})["rows"]
            == []
        )
        idle = c.get("/reports/idle")
        assert {r["cluster"] for r in idle["last_day"]} == {"alpha", "beta"}
        assert c.get("/alerts")["alerts"] == []


def test_reports_after_jobs(live: LiveServer, alice: Client) -> None:
    jobs = [
        alice.submit(options=["--wrap", "sleep 1", "-n", "2", "--time=5"], cwd="/tmp")
        for _ in range(3)
    ]
    for j in jobs:
        alice.wait(j["id"], timeout_s=20)
    with live.client() as admin:
        u = _wait(
            lambda: (
                (d := admin.get("/reports/utilization", {"since": "-1d"}))
                and d["total"]["core_hours"] > 0
                and d
            )
        )
        assert u["top_projects"][0]["name"] == "chem"
        assert u["top_users"][0]["name"] == "alice"
        w = _wait(lambda: admin.get("/reports/waits", {"since": "-1d"})["rows"])
        assert {r["size"] for r in w} >= {"all", "2-4"}
        assert all(r["p50_s"] <= r["p95_s"] for r in w)
        p = admin.get("/reports/predictions", {"since": "-1d"})["rows"]
        assert p and p[0]["start"]["count"] >= 1
        idle = _wait(lambda: (d := admin.get("/reports/idle"))["now"] and d)
        assert {r["cluster"] for r in idle["now"]} == {"alpha", "beta"}
    mine = alice.get("/reports/utilization", {"since": "-1d"})
    assert mine["top_users"] == []  # other users' names are for administrators


def test_diagnosis_reads_the_log_tail(alice: Client) -> None:
    oom = alice.submit(options=["--wrap", "oom", "--time=5", "--mem=1G"], cwd="/tmp")
    missing = alice.submit(
        options=["--wrap", "echo cat: data.csv: No such file or directory; exit 1", "--time=5"],
        cwd="/tmp",
    )
    for j in (oom, missing):
        alice.wait(j["id"], timeout_s=20)
    d = alice.get(f"/jobs/{oom['id']}/diagnosis")
    assert d["cause"] == "out_of_memory" and "--mem=" in d["hint"]
    d = alice.get(f"/jobs/{missing['id']}/diagnosis")
    assert d["cause"] == "missing_input" and "data.csv" in d["hint"]
    assert any("No such file" in e for e in d["evidence"])


def test_metrics_on_loopback_without_a_token(live: LiveServer, alice: Client) -> None:
    job = alice.submit(options=["--wrap", "sleep 1", "-n", "2", "--time=5"], cwd="/tmp")
    alice.wait(job["id"], timeout_s=20)

    def scrape() -> str:
        resp = httpx2.get(live.url + "/metrics")
        assert resp.status_code == 200
        return resp.text

    text = _wait(lambda: (t := scrape()) and "cn_core_seconds_total{cluster=" in t and t)
    assert 'project="chem"' in text
    assert "cn_queue_wait_seconds_bucket" in text and 'le="+Inf"' in text
    assert 'cn_cluster_up{cluster="alpha"} 1.0' in text
    assert "cn_cluster_cpus" in text
    assert "alice" not in text  # never a user name as a label


def test_metrics_need_a_token_when_loopback_is_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = _server(tmp_path, monkeypatch, metrics_public_loopback=False)
    try:
        assert httpx2.get(server.url + "/metrics").status_code == 401
        assert (
            httpx2.get(server.url + "/metrics", headers={"Authorization": "Bearer nope"})
        ).status_code == 401
        ok = httpx2.get(server.url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200 and "cn_jobs" in ok.text
    finally:
        server.stop()
