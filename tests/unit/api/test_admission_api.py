"""Admission control through a real server: one busy user gets 429 with
Retry-After; other users, and the SDK's reads, carry on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from computenet.client import Client
from computenet.clock import FakeClock
from computenet.core.runtime import Runtime
from computenet.errors import RateLimitError
from tests.support.live import LiveServer

from .conftest import TOKEN, ClockedServer, clocked_settings


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[ClockedServer]:
    """A server allowing 1 request a second in bursts of 3, on a fake clock
    (so the buckets refill only when the test says)."""
    clock = FakeClock(1_800_000_000.0)
    settings = clocked_settings(tmp_path, request_rate_per_s=1.0, request_burst=3)
    server = LiveServer(Runtime(settings, clock=clock))
    try:
        yield ClockedServer(server, clock)
    finally:
        server.stop()


def _token(server: ClockedServer, name: str) -> str:
    with server.client() as admin:
        return str(admin.post("/users", {"name": name, "project": "chem"})["token"])


def test_over_the_burst_is_429_with_retry_after_and_others_carry_on(
    limited: ClockedServer,
) -> None:
    alice = {"Authorization": f"Bearer {_token(limited, 'alice')}"}
    bob = {"Authorization": f"Bearer {_token(limited, 'bob')}"}
    url = limited.url + "/api/v1/jobs"
    assert [httpx2.get(url, headers=alice).status_code for _ in range(3)] == [200] * 3
    refused = httpx2.get(url, headers=alice)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    error = refused.json()["error"]
    assert error["code"] == "rate_limited" and error["transient"] is True
    assert error["details"]["retry_after_s"] == pytest.approx(1.0)
    # Nothing was done for the refused submission.
    post = httpx2.post(url, headers=alice, json={"options": ["--wrap", "true"]})
    assert post.status_code == 429
    # Another user, and the administrator (not limited by default), are served.
    assert httpx2.get(url, headers=bob).status_code == 200
    admin = {"Authorization": f"Bearer {TOKEN}"}
    assert all(httpx2.get(url, headers=admin).status_code == 200 for _ in range(10))
    limited.clock.advance(1.0)
    assert httpx2.get(url, headers=alice).status_code == 200
    with limited.client() as c:
        assert [j["owner"] for j in c.jobs(all=True, all_users=True)] == []


def test_the_sdk_retries_reads_after_retry_after_but_not_writes(limited: ClockedServer) -> None:
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # the fake clock moves as the client waits
        waits.append(seconds)
        limited.clock.advance(seconds)

    with Client(limited.url, _token(limited, "alice"), sleep=sleep) as alice:
        for _ in range(3):
            assert list(alice.jobs()) == []
        assert list(alice.jobs()) == []  # refused once, waited, served
        assert waits == [pytest.approx(1.0)]
        with pytest.raises(RateLimitError) as caught:
            alice.submit(options=["--wrap", "true"], cwd="/tmp")
        assert caught.value.details["retry_after_s"] == pytest.approx(1.0)
        assert waits == [pytest.approx(1.0)]
    with Client(limited.url, _token(limited, "bob"), sleep=waits.append) as bob:
        for _ in range(3):
            bob.clusters()
        with pytest.raises(RateLimitError):  # the clock stands still: retries run out
            bob.clusters()
        assert len(waits) == 1 + bob.rate_limit_retries


def test_the_cli_prints_one_line_transient_error(limited: ClockedServer) -> None:
    token = _token(limited, "carol")
    with Client(limited.url, token) as carol:
        for _ in range(3):
            carol.clusters()
    env = {**os.environ, "CN_SERVER_URL": limited.url, "CN_TOKEN": token}

    def cnet(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "computenet.cli.main", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    plain = cnet("submit", "--wrap", "true")
    assert plain.returncode == 13
    assert plain.stderr.count("\n") == 1 and "Traceback" not in plain.stderr
    assert plain.stderr.startswith("cnet: error: too many requests from carol")
    assert "retry in 1.00 s" in plain.stderr
    as_json = cnet("submit", "--wrap", "true", "--json")
    error = json.loads(as_json.stdout)["error"]
    assert as_json.returncode == 13
    assert error["code"] == "rate_limited" and error["transient"] is True
