"""A real embedded cluster in a tmp dir, with short grace periods, and helpers."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from computenet.clusters.embedded import EmbeddedCluster
from computenet.config import ClusterConfig, PartitionConfig
from computenet.model import AttemptRequest, AttemptStatus, JobSpec

_tags = itertools.count(1)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_config(scheduler: str = "easy", **partition: Any) -> ClusterConfig:
    part = {"name": "p", "nodes": 2, "cores": 2, "default": True, **partition}
    return ClusterConfig(
        name="t",
        scheduler=scheduler,  # type: ignore[arg-type]
        partitions=[PartitionConfig(**part)],
    )


def new_cluster(state: Path, config: ClusterConfig | None = None) -> EmbeddedCluster:
    return EmbeddedCluster(
        config or make_config(), state, kill_grace_s=0.3, mem_poll_s=0.05, check_interval_s=0.2
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[EmbeddedCluster]:
    adapter = new_cluster(tmp_path / "state")
    await adapter.start()
    try:
        yield adapter
    finally:
        await adapter.close()


def request(
    where: Path,
    command: str | None = None,
    *,
    tag: str | None = None,
    env: dict[str, str] | None = None,
    array: tuple[str, int] | None = None,
    **spec: Any,
) -> AttemptRequest:
    spec.setdefault("workdir", str(where))
    if command is not None:
        spec["command"] = command
    return AttemptRequest(
        tag=tag or f"tag-{next(_tags)}",
        job_id="j",
        attempt=1,
        spec=JobSpec(**spec),
        partition=None,
        owner="ana",
        env=env or {},
        array_job_id=array[0] if array else None,
        array_task_id=array[1] if array else None,
    )


async def wait_for(
    cluster: EmbeddedCluster,
    native_id: str,
    done: Callable[[AttemptStatus], bool] = lambda s: s.state.terminal,
    timeout_s: float = 20.0,
) -> AttemptStatus:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        status = (await cluster.status([native_id]))[native_id]
        if done(status):
            return status
        if loop.time() > deadline:
            raise AssertionError(f"job {native_id} stuck: {status}")
        await asyncio.sleep(0.02)


async def wait_file(path: Path, timeout_s: float = 10.0) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not (path.exists() and path.read_text().strip()):
        if loop.time() > deadline:
            raise AssertionError(f"{path} never appeared")
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.02)
    return path.read_text()


def alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
