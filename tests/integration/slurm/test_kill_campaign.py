"""The server killed with SIGKILL five times (seeded) while 100 mixed jobs flow
over an embedded cluster and a real Slurm cluster, on SQLite: nothing lost,
nothing run twice, every event chain whole. The full campaign (1,000 jobs,
20 kills, SQLite and PostgreSQL) is ``benchmarks/kill_campaign.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from computenet.config import ClusterConfig, PartitionConfig
from tests.support import kill_campaign

from .conftest import SlurmDev

pytestmark = pytest.mark.integration


def campaign_clusters(slurm_conf: str | None, slurm_name: str = "slm") -> list[ClusterConfig]:
    clusters = [
        ClusterConfig(
            name="emb",
            kind="embedded",
            partitions=[PartitionConfig(name="compute", nodes=2, cores=4, default=True)],
        )
    ]
    if slurm_conf is not None:
        clusters.append(ClusterConfig(name=slurm_name, kind="slurm", slurm_conf=slurm_conf))
    return clusters


def test_five_kills_over_100_mixed_jobs_lose_nothing_and_run_nothing_twice(
    slurm_dev: SlurmDev, tmp_path: Path
) -> None:
    report = kill_campaign.run(
        tmp_path / "campaign",
        database_url=f"sqlite:///{tmp_path / 'campaign.db'}",
        clusters=campaign_clusters(slurm_dev.slurm_conf, slurm_dev.name),
        jobs=100,
        kills=5,
        seed=12,
        timeout_s=240,
    )
    print(report.summary())  # shown with -s
    assert report.kills == 5
    assert report.accepted_jobs >= 90
    assert report.problems == [], report.summary()
