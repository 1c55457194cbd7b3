"""The API while the database is unreachable (the store's breaker held open):
reads it can answer, writes refused with a transient 503, back by itself."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from computenet.client import Client
from computenet.errors import StoreError


def cut(live: Any, seconds: float = 60.0) -> None:
    breaker = live.runtime.store.breaker
    breaker.open_s = seconds
    breaker._next_open_s = seconds
    breaker.failed("connection refused")


def restore(live: Any) -> None:
    live.runtime.store.breaker._open_until = 0.0


def test_reads_are_answered_and_writes_refused_while_the_database_is_away(
    live: Any, alice: Client, bob: Client
) -> None:
    job = alice.submit(options=["--wrap", "true", "-t", "1"], cwd="/tmp")
    done = alice.wait(job["id"], timeout_s=10)
    bob.clusters()  # bob is known to the server; alice's job was read by alice only
    cut(live)
    try:
        assert alice.job(job["id"]) == done  # her last answer, replayed
        raw = alice._http.get(f"/jobs/{job['id']}")
        assert raw.status_code == 200
        assert int(raw.headers["Age"]) >= 0
        assert raw.headers["X-Computenet-Stale"].startswith("database unreachable")
        assert [c["name"] for c in bob.clusters()] == ["alpha", "beta"]  # from memory
        with pytest.raises(StoreError) as err:
            bob.job(job["id"])  # never read by bob: not replayed to him
        assert err.value.transient
        with pytest.raises(StoreError) as err:
            alice.submit(options=["--wrap", "true", "-t", "1"], cwd="/tmp")
        assert err.value.transient and "database unreachable" in err.value.message
        refused = alice._http.post(
            "/jobs", json={"options": ["--wrap", "true"], "cwd": "/tmp", "env": {}}
        )
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "store"
        assert int(refused.headers["Retry-After"]) >= 1
    finally:
        restore(live)
    again = alice.submit(options=["--wrap", "true", "-t", "1"], cwd="/tmp")
    assert alice.wait(again["id"], timeout_s=10)["state"] == "COMPLETED"
    assert not live.runtime.store.breaker.failing


def test_an_unknown_token_is_refused_while_the_database_is_away(live: Any) -> None:
    cut(live)
    try:
        r = httpx2.get(f"{live.url}/api/v1/clusters", headers={"Authorization": "Bearer cn_nobody"})
        assert r.status_code == 503 and r.json()["error"]["code"] == "store", r.text
    finally:
        restore(live)
