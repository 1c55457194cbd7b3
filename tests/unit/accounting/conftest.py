"""A runtime over fake clusters and a fake clock, with the accounting service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from computenet.accounting.service import AccountingService
from computenet.client import Client
from computenet.config import ClusterConfig, Settings
from computenet.core.runtime import Runtime
from computenet.model import JobSpec
from computenet.store import jobs as repo
from tests.support.clusters import fake_configs
from tests.support.live import TOKEN, LiveServer


@pytest.fixture
def fake_cluster_configs() -> list[ClusterConfig]:
    """The shared two fake clusters, with a GPU price on alpha."""
    alpha, beta = fake_configs()
    gpu_priced = alpha.partitions[0].model_copy(update={"price_per_gpu_hour": 1.0})
    return [alpha.model_copy(update={"partitions": [gpu_priced]}), beta]


def accounting(rt: Runtime) -> AccountingService:
    for service in rt.services:
        if isinstance(service, AccountingService):
            return service
    raise AssertionError("the accounting service is not installed")


def submit(rt: Runtime, spec: JobSpec, owner: str = "alice", project: str = "chem") -> int:
    with rt.store.session() as s:
        rows = repo.create_jobs(s, [repo.NewJob(spec, owner, project)], rt.clock.now())
        return rows[0].id


async def run_passes(rt: Runtime, n: int = 3) -> None:
    for _ in range(n):
        await rt.controller.step()


@pytest.fixture
def live(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_cluster_configs: list[ClusterConfig]
) -> Iterator[LiveServer]:
    """A real server with fast accounting and telemetry loops."""
    monkeypatch.setenv("CN_ACCOUNTING_INTERVAL_S", "0.1")
    monkeypatch.setenv("CN_TELEMETRY_INTERVAL_S", "0.2")
    settings = Settings(
        data_dir=tmp_path / "live-data",
        state_dir=tmp_path / "live-state",
        clusters=fake_cluster_configs,
        token=TOKEN,
        user="admin",
        controller_interval_s=0.05,
    )
    server = LiveServer(Runtime(settings))
    yield server
    server.stop()


@pytest.fixture
def second(live: LiveServer) -> Iterator[LiveServer]:
    """Another server on the same database (as several API servers share PostgreSQL)."""
    settings = live.runtime.settings.model_copy(
        update={"database_url": live.runtime.settings.effective_database_url}
    )
    server = LiveServer(Runtime(settings))
    yield server
    server.stop()


@pytest.fixture
def admin(live: LiveServer) -> Iterator[Client]:
    with live.client() as c:
        yield c


@pytest.fixture
def alice(live: LiveServer, admin: Client) -> Iterator[Client]:
    token = admin.post("/users", {"name": "alice", "project": "chem"})["token"]
    with live.client(token) as c:
        yield c
