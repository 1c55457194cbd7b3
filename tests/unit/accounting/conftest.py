"""A runtime over fake clusters and a fake clock, with the accounting service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from computenet.accounting.service import AccountingService
from computenet.clock import FakeClock
from computenet.clusters.fake import FakeCluster
from computenet.config import ClusterConfig, PartitionConfig, Settings
from computenet.core.runtime import Runtime
from computenet.model import JobSpec
from computenet.store import jobs as repo


def fake_configs() -> list[ClusterConfig]:
    return [
        ClusterConfig(
            name="alpha",
            kind="fake",
            partitions=[
                PartitionConfig(
                    name="cpu",
                    nodes=2,
                    cores=4,
                    default=True,
                    max_time_s=7200,
                    price_per_core_hour=0.04,
                    price_per_gpu_hour=1.0,
                )
            ],
        ),
        ClusterConfig(
            name="beta",
            kind="fake",
            partitions=[
                PartitionConfig(
                    name="cheap",
                    nodes=1,
                    cores=4,
                    default=True,
                    speed=0.5,
                    price_per_core_hour=0.01,
                )
            ],
        ),
    ]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_800_000_000.0)


@pytest.fixture
async def runtime(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Runtime]:
    settings = Settings(
        data_dir=tmp_path / "data",
        state_dir=tmp_path / "state",
        clusters=fake_configs(),
        token="cn_test_token",
    )
    adapters = {c.name: FakeCluster(c.to_info(), clock) for c in settings.clusters}
    rt = Runtime(settings, clock=clock, adapters=adapters)  # type: ignore[arg-type]
    await rt.controller.clusters.refresh()
    yield rt
    rt.store.close()


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
