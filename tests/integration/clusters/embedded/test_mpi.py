"""Real OpenMPI inside an embedded-cluster job: mpirun with the job's hostfile."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from computenet.clusters.embedded import EmbeddedCluster
from computenet.config import ClusterConfig, PartitionConfig
from computenet.model import AttemptRequest, JobSpec, JobState

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("mpirun") is None, reason="mpirun not installed"),
]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_mpirun_runs_n_ranks_across_two_virtual_nodes(tmp_path: Path) -> None:
    config = ClusterConfig(
        name="m", partitions=[PartitionConfig(name="p", nodes=2, cores=2, default=True)]
    )
    cluster = EmbeddedCluster(config, tmp_path / "state", kill_grace_s=0.5)
    await cluster.start()
    script = (
        "#!/bin/sh\n"
        "mpirun -np $SLURM_NTASKS sh -c 'echo rank $OMPI_COMM_WORLD_RANK of "
        "$OMPI_COMM_WORLD_SIZE' | sort\n"
    )
    try:
        nid = await cluster.submit(
            AttemptRequest(
                tag="mpi",
                job_id="j",
                attempt=1,
                partition=None,
                owner="ana",
                spec=JobSpec(
                    script=script, nodes=2, ntasks=4, workdir=str(tmp_path), time_limit_s=60
                ),
            )
        )
        for _ in range(600):
            status = (await cluster.status([nid]))[nid]
            if status.state.terminal:
                break
            await asyncio.sleep(0.05)
        out = (await cluster.output(nid)).decode()
    finally:
        await cluster.close()
    assert status.state is JobState.COMPLETED, out
    assert out.splitlines() == [f"rank {r} of 4" for r in range(4)]
