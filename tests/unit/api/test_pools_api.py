"""/pools over a real HTTP server: listing for anyone signed in, resume and
suspend for administrators only, hostile hostlists refused."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from computenet.client import Client
from computenet.config import ClusterConfig, PartitionConfig, PoolConfig, Settings
from computenet.errors import ComputeNetError, ForbiddenError, NotFoundError, SpecError
from tests.unit.api.conftest import TOKEN


@pytest.fixture
def pooled(tmp_path: Path, make_live_server: Callable[[Any], Any]) -> Any:
    cluster = ClusterConfig(
        name="alpha",
        kind="fake",
        partitions=[
            PartitionConfig(name="cpu", nodes=1, cores=4, default=True),
            PartitionConfig(name="cloud", cores=4),
        ],
        pools=[PoolConfig(name="burst", partition="cloud", max_nodes=2, price_per_node_hour=0.8)],
    )
    settings = Settings(
        data_dir=tmp_path / "data",
        state_dir=tmp_path / "state",
        clusters=[cluster],
        token=TOKEN,
        user="admin",
        controller_interval_s=0.05,
    )
    return make_live_server(settings)


def test_pools_are_listed_for_any_user_with_their_cluster(pooled: Any) -> None:
    with pooled.client(TOKEN) as admin:
        token = admin.post("/users", {"name": "alice", "project": "chem"})["token"]
        (row,) = admin.pools()
        assert (row["name"], row["cluster"], row["partition"], row["max_nodes"]) == (
            "burst",
            "alpha",
            "cloud",
            2,
        )
        # a fake cluster has no local provider: the pool is listed with the reason
        assert row["error"] is not None and "embedded or Slurm" in row["error"]
        (cluster,) = admin.clusters()
        assert cluster["pools"] == [{"name": "burst", "partition": "cloud", "max_nodes": 2}]
    with Client(pooled.url, token) as alice:
        assert [p["name"] for p in alice.pools()] == ["burst"]
        assert alice.pool_events() == []
        with pytest.raises(ForbiddenError):
            alice.post("/pools/resume", {"cluster": "alpha", "hostlist": "burst-1"})
        with pytest.raises(ForbiddenError):
            alice.post("/pools/suspend", {"cluster": "alpha", "hostlist": "burst-1"})
        with pytest.raises(NotFoundError):
            alice.pool_events("nosuch")


def test_bad_resume_requests_are_refused_and_change_nothing(pooled: Any) -> None:
    with pooled.client(TOKEN) as admin:
        with pytest.raises(SpecError, match="names more than 10000 hosts"):
            admin.post("/pools/resume", {"cluster": "alpha", "hostlist": "n[1-99999999]"})
        with pytest.raises(SpecError, match="unbalanced brackets"):
            admin.post("/pools/resume", {"cluster": "alpha", "hostlist": "n[1-2"})
        with pytest.raises(ComputeNetError, match="cluster: String should match pattern"):
            admin.post("/pools/resume", {"cluster": "../etc", "hostlist": "n1"})
        with pytest.raises(ComputeNetError, match="extra: Extra inputs are not permitted"):
            admin.post("/pools/resume", {"cluster": "alpha", "hostlist": "n1", "extra": 1})
        with pytest.raises(NotFoundError, match="cluster beta has no pools"):
            admin.post("/pools/resume", {"cluster": "beta", "hostlist": "n1"})
        out = admin.post("/pools/resume", {"cluster": "alpha", "hostlist": "x[1-2]"})
        assert out == {"resumed": [], "refused": [], "unknown": ["x1", "x2"]}
        assert admin.pool_events() == []
        assert admin.pools()[0]["nodes"] == []
