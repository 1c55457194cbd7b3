"""Jobs in real images on an embedded cluster: bubblewrap, mounts, bad
input, and MPI ranks in one container each across two virtual nodes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from computenet.clusters.embedded import EmbeddedCluster
from computenet.config import ClusterConfig, PartitionConfig
from computenet.containers import ImageStore
from computenet.model import AttemptRequest, JobSpec, JobState, Mount
from tests.unit.clusters.embedded.conftest import wait_for

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

RING = r"""
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    int rank, size, token = 0;
    char line[128] = "";
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (rank == 0) {
        token = 1;
        MPI_Send(&token, 1, MPI_INT, 1, 0, MPI_COMM_WORLD);
        MPI_Recv(&token, 1, MPI_INT, size - 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else {
        MPI_Recv(&token, 1, MPI_INT, rank - 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        token += 1;
        MPI_Send(&token, 1, MPI_INT, (rank + 1) % size, 0, MPI_COMM_WORLD);
    }
    FILE *f = fopen("/etc/os-release", "r");
    if (f) { if (!fgets(line, sizeof line, f)) line[0] = 0; fclose(f); }
    printf("rank %d/%d node %s token %d %s", rank, size, getenv("SLURMD_NODENAME"), token, line);
    MPI_Finalize();
    return 0;
}
"""


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def cluster(tmp_path: Path, cached_store: ImageStore) -> EmbeddedCluster:
    config = ClusterConfig(
        name="c", partitions=[PartitionConfig(name="p", nodes=2, cores=2, default=True)]
    )
    adapter = EmbeddedCluster(
        config,
        tmp_path / "state",
        kill_grace_s=0.5,
        image_root=cached_store.root,
        mount_roots=(str(tmp_path / "allowed"),),
    )
    (tmp_path / "allowed").mkdir()
    await adapter.start()
    yield adapter  # type: ignore[misc]
    await adapter.close()


_n = iter(range(10_000))


async def run(cluster: EmbeddedCluster, workdir: Path, script: str, **spec: object) -> tuple:  # type: ignore[type-arg]
    nid = await cluster.submit(
        AttemptRequest(
            tag=f"t{next(_n)}",
            job_id="j",
            attempt=1,
            partition=None,
            owner="ana",
            spec=JobSpec(script=script, workdir=str(workdir), time_limit_s=120, **spec),  # type: ignore[arg-type]
        )
    )
    status = await wait_for(cluster, nid, timeout_s=90)
    return status, (await cluster.output(nid)).decode()


async def test_the_batch_script_runs_in_the_image(cluster: EmbeddedCluster, tmp_path: Path) -> None:
    # bwrap is on the host, not in the image: that tells the two apart
    script = (
        "#!/bin/bash\ntest -e /usr/bin/bwrap && echo host-files || echo image-files\n"
        "command -v mpirun; echo id=$SLURM_JOB_ID; pwd\n"
    )
    status, out = await run(cluster, tmp_path, script, container_image="mpi")
    assert (status.state, status.exit_code) == (JobState.COMPLETED, "0:0"), out
    assert out.splitlines() == [
        "image-files",
        "/usr/bin/mpirun",
        f"id={status.native_id}",
        str(tmp_path),
    ]
    status, out = await run(cluster, tmp_path, script)
    assert out.splitlines()[0] == "host-files"


async def test_mounts_and_workdir(cluster: EmbeddedCluster, tmp_path: Path) -> None:
    data = tmp_path / "allowed" / "data"
    data.mkdir()
    (data / "in.txt").write_text("42\n")
    out_dir = tmp_path / "allowed" / "out"
    out_dir.mkdir()
    script = (
        "#!/bin/sh\npwd; cat in.txt; touch in.txt 2>/dev/null || echo read-only\n"
        "echo written > /out/result\n"
    )
    status, out = await run(
        cluster,
        tmp_path,
        script,
        container_image="mpi",
        container_mounts=(Mount(str(data), "/data", read_only=True), Mount(str(out_dir), "/out")),
        container_workdir="/data",
    )
    assert status.state is JobState.COMPLETED, out
    assert out.splitlines() == ["/data", "42", "read-only"]
    assert (out_dir / "result").read_text() == "written\n"


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ({"container_image": "no-such-image"}, "no image named 'no-such-image'"),
        (
            {"container_image": "mpi", "container_mounts": (Mount("/etc", "/e"),)},
            "--container-mounts: /etc is outside the paths this site allows",
        ),
        (
            {"container_image": "mpi", "container_mounts": (Mount("LINK", "/e"),)},
            "is outside the paths this site allows",
        ),
    ],
)
async def test_bad_input_fails_the_job_with_the_reason(
    cluster: EmbeddedCluster, tmp_path: Path, spec: dict[str, object], reason: str
) -> None:
    link = tmp_path / "allowed" / "escape"
    link.symlink_to("/etc")
    mounts = spec.get("container_mounts")
    if mounts:
        spec["container_mounts"] = tuple(
            Mount(str(link), m.target) if m.source == "LINK" else m
            for m in mounts  # type: ignore[attr-defined]
        )
    marker = tmp_path / "ran"
    status, _ = await run(cluster, tmp_path, f"#!/bin/sh\ntouch {marker}\n", **spec)
    assert status.state is JobState.FAILED
    assert status.reason is not None and reason in status.reason
    assert not marker.exists()


async def test_an_image_that_cannot_start_fails_the_job(
    cluster: EmbeddedCluster, tmp_path: Path
) -> None:
    status, _ = await run(
        cluster, tmp_path, "#!/usr/bin/python3\nprint(1)\n", container_image="mpi"
    )
    assert status.state is JobState.FAILED
    assert status.reason == (
        "could not start: image mpi has no /usr/bin/python3: a container of it cannot start"
    )


@pytest.mark.parametrize(
    "launch",
    [
        "srun --mpi=pmix --container-image=mpi ./ring",
        # by hand: the host's mpirun, cn-container per rank (no srun layout)
        "mpirun -np 4 cn-container --container-image=mpi ./ring",
    ],
)
async def test_four_mpi_ranks_in_four_containers_over_two_nodes(
    cluster: EmbeddedCluster, tmp_path: Path, launch: str
) -> None:
    (tmp_path / "ring.c").write_text(RING)
    subprocess.run(
        ["mpicc", "-O1", "-o", str(tmp_path / "ring"), str(tmp_path / "ring.c")],
        check=True,
        timeout=60,
    )
    script = f"#!/bin/sh\n{launch} | sort\n"
    status, out = await run(cluster, tmp_path, script, nodes=2, ntasks=4)
    assert (status.state, status.exit_code) == (JobState.COMPLETED, "0:0"), out
    ranks = [line for line in out.splitlines() if line.startswith("rank ")]
    assert [r.split()[1] for r in ranks] == ["0/4", "1/4", "2/4", "3/4"]
    if launch.startswith("srun"):  # srun's block layout over the virtual nodes
        assert [r.split()[3] for r in ranks] == ["c-p-n1", "c-p-n1", "c-p-n2", "c-p-n2"]
    assert [r.split()[5] for r in ranks] == ["4", "2", "3", "4"]  # the token went round
    assert all("PRETTY_NAME=" in r for r in ranks)  # each rank read the image's file
