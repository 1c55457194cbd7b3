"""Two servers on one PostgreSQL database: one controller at a time, no job twice."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from computenet.config import ClusterConfig, PartitionConfig, Settings

pytestmark = pytest.mark.integration
TOKEN = "cn_shared_token"


def test_two_servers_share_one_database(
    tmp_path: Path, postgres_url: str, make_live_server: Callable[[Any], Any]
) -> None:
    clusters = [
        ClusterConfig(
            name="alpha",
            kind="fake",
            partitions=[PartitionConfig(name="cpu", nodes=2, cores=8, default=True)],
        )
    ]
    servers = [
        make_live_server(
            Settings(
                data_dir=tmp_path / f"d{i}",
                state_dir=tmp_path / f"s{i}",
                database_url=postgres_url,
                clusters=clusters,
                token=TOKEN,
                user="admin",
                controller_interval_s=0.05,
            )
        )
        for i in range(2)
    ]
    clients = [s.client(TOKEN) for s in servers]
    ids = []
    for i in range(20):
        job = clients[i % 2].submit(options=["--wrap", "sleep 0", "--time=1"])
        ids.append(job["id"])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        states = {clients[0].job(i)["state"] for i in ids}
        if states == {"COMPLETED"}:
            break
        time.sleep(0.1)
    assert states == {"COMPLETED"}
    leaders = [s.runtime.controller.leader for s in servers]
    assert leaders.count(True) == 1, leaders
    # Each job ran once, on the leader's cluster adapter, and both servers see it.
    leader = servers[leaders.index(True)]
    follower = servers[leaders.index(False)]
    assert len(leader.runtime.adapters["alpha"].submitted) == 20
    assert follower.runtime.adapters["alpha"].submitted == []
    for job_id in ids:
        job = clients[1].job(job_id)
        assert len(job["attempts"]) == 1
