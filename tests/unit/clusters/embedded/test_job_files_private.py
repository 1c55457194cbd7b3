"""A job's own directory (its request, launch file and environment, which may
hold secrets) is for the server's account alone."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from computenet.clusters.embedded import EmbeddedCluster

from .conftest import request, wait_for

pytestmark = pytest.mark.anyio


async def test_a_jobs_directory_is_private(cluster: EmbeddedCluster, workdir: Path) -> None:
    native = await cluster.submit(request(workdir, "true", environment={"API_KEY": "s3cret-value"}))
    await wait_for(cluster, native)
    job_dir = cluster._files.job_dir(native)
    assert (job_dir / "launch.marshal").read_bytes().count(b"s3cret-value") == 1  # it is in there
    assert stat.S_IMODE(job_dir.stat().st_mode) == 0o700
