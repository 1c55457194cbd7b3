"""Fixtures for the contract suite: one adapter per kind, the same tests for all.

``cluster`` is parametrised over fake, embedded, slurm (a dev cluster with
accounting: sacct path) and slurm-noacct (no accounting: squeue, scontrol and
jobcomp/filetxt path). The Slurm clusters come from ``scripts/dev-slurm``,
started once per session in a private directory and stopped by PID.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from computenet.clusters.base import ClusterAdapter
from computenet.config import ClusterConfig, PartitionConfig
from computenet.model import ClusterInfo, NodeType, PartitionInfo
from tests.support.dev_slurm import dev_slurm


@dataclass(frozen=True)
class Harness:
    """An adapter plus what differs by kind: how short a time limit can be,
    how often to poll, and a working directory for jobs' files."""

    kind: str
    adapter: ClusterAdapter
    workdir: str
    short_limit_s: int  # the smallest time limit the cluster honours
    poll_s: float
    max_wait_s: float  # how long a trivial job may take from submit to end


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def slurm_available() -> bool:
    return shutil.which("slurmctld") is not None or Path("/usr/sbin/slurmctld").exists()


@pytest.fixture(scope="session")
def slurm_dev_clusters() -> Iterator[dict[str, str]]:
    """Two dev clusters (names -> SLURM_CONF): c1 with slurmdbd, c2 without."""
    if not slurm_available() and os.environ.get("CI") != "true":
        pytest.skip("Slurm is not installed (scripts/dev-slurm installs it; CI always runs)")
    with dev_slurm("cn-contract-slurm-", "--clusters", "2", "--with-dbd", "--json") as (_, out):
        yield json.loads(out)["clusters"]


def _embedded_config() -> ClusterConfig:
    return ClusterConfig(
        name="emb",
        kind="embedded",
        scheduler="easy",
        partitions=[PartitionConfig(name="compute", nodes=2, cores=2, default=True)],
    )


@pytest.fixture(
    params=[
        "fake",
        "embedded",
        pytest.param("slurm", marks=pytest.mark.integration),
        pytest.param("slurm-noacct", marks=pytest.mark.integration),
    ]
)
async def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Harness]:
    kind: str = request.param
    workdir = tmp_path / "work"
    workdir.mkdir()
    os.chmod(tmp_path, 0o755)
    adapter: ClusterAdapter
    if kind == "fake":
        from computenet.clusters.fake import FakeCluster

        part = PartitionInfo(name="debug", node_type=NodeType(cores=4), nodes=2, default=True)
        adapter = FakeCluster(ClusterInfo(name="fake", kind="fake", partitions=(part,)))
        harness = Harness(kind, adapter, str(workdir), 1, 0.05, 10)
    elif kind == "embedded":
        try:
            from computenet.clusters.embedded import EmbeddedCluster
        except ImportError as exc:
            pytest.skip(f"computenet.clusters.embedded cannot be imported yet: {exc}")
        adapter = EmbeddedCluster(_embedded_config(), tmp_path / "state")
        harness = Harness(kind, adapter, str(workdir), 2, 0.1, 30)
    else:
        from computenet.clusters.slurm import SlurmCluster

        confs: dict[str, str] = request.getfixturevalue("slurm_dev_clusters")
        name = "c1" if kind == "slurm" else "c2"
        adapter = SlurmCluster(ClusterConfig(name=name, kind="slurm", slurm_conf=confs[name]))
        # Slurm counts whole minutes and checks limits every 30 s.
        harness = Harness(kind, adapter, str(workdir), 60, 0.3, 60)
    await adapter.start()
    try:
        yield harness
    finally:
        await adapter.close()
