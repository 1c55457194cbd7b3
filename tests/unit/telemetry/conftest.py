"""Runtimes over fake clusters (some of them misbehaving) and a fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from computenet.clock import FakeClock
from computenet.clusters.fake import FakeCluster
from computenet.config import ClusterConfig, PartitionConfig, Settings
from computenet.core.runtime import Runtime
from computenet.model import JobSpec, Snapshot
from computenet.store import jobs as repo
from computenet.telemetry.service import TelemetryService
from computenet.telemetry.settings import TelemetrySettings


def config(name: str, nodes: int = 2, cores: int = 4, price: float = 0.04) -> ClusterConfig:
    return ClusterConfig(
        name=name,
        kind="fake",
        partitions=[
            PartitionConfig(
                name="cpu",
                nodes=nodes,
                cores=cores,
                default=True,
                mem_bytes=4 * 2**30,
                price_per_core_hour=price,
            )
        ],
    )


class HangingCluster(FakeCluster):
    async def snapshot(self) -> Snapshot:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")


class GarbageCluster(FakeCluster):
    async def snapshot(self) -> Any:
        snap = await super().snapshot()
        bad = replace(snap.nodes[0], cpus_alloc=snap.nodes[0].cpus + 5)
        return replace(snap, nodes=(bad, *snap.nodes[1:]))


class BrokenCluster(FakeCluster):
    async def snapshot(self) -> Snapshot:
        raise RuntimeError("boom")


class SkewedCluster(FakeCluster):
    skew_s = 120.0

    async def snapshot(self) -> Snapshot:
        snap = await super().snapshot()
        return replace(snap, time=snap.time + self.skew_s)


class LiveStatsCluster(FakeCluster):
    """A fake cluster that also reports live job numbers (as sstat would)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.live: dict[str, dict[str, Any]] = {}

    async def live_stats(self, native_ids: list[str]) -> dict[str, Any]:
        return {n: self.live[n] for n in native_ids if n in self.live}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_800_000_000.0)


RuntimeFactory = Callable[..., Runtime]


@pytest.fixture
async def make_runtime(tmp_path: Path, clock: FakeClock) -> AsyncIterator[Callable[..., Runtime]]:
    made: list[Runtime] = []

    def make(kinds: dict[str, type[FakeCluster]] | None = None) -> Runtime:
        kinds = kinds or {"alpha": FakeCluster, "beta": FakeCluster}
        configs = [config(name) for name in kinds]
        settings = Settings(
            data_dir=tmp_path / f"data{len(made)}",
            state_dir=tmp_path / f"state{len(made)}",
            clusters=configs,
            token="cn_test_token",
        )
        adapters = {c.name: kinds[c.name](c.to_info(), clock) for c in configs}
        rt = Runtime(settings, clock=clock, adapters=adapters)  # type: ignore[arg-type]
        made.append(rt)
        return rt

    yield make
    for rt in made:
        rt.store.close()


def telemetry(rt: Runtime, **overrides: Any) -> TelemetryService:
    svc = TelemetryService(rt, TelemetrySettings(timeout_s=0.5, **overrides))
    return svc


def submit(rt: Runtime, spec: JobSpec, owner: str = "alice", project: str = "chem") -> int:
    with rt.store.session() as s:
        return repo.create_jobs(s, [repo.NewJob(spec, owner, project)], rt.clock.now())[0].id


async def passes(rt: Runtime, n: int = 2) -> None:
    await rt.controller.clusters.refresh()
    for _ in range(n):
        await rt.controller.step()
