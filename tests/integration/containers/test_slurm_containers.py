"""Containerised jobs on a real Slurm cluster without pyxis: the batch
script is wrapped to run in the image with bubblewrap on the node."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from computenet.clusters.slurm import SlurmCluster
from computenet.config import ClusterConfig
from computenet.containers import ImageStore
from computenet.errors import ClusterError
from computenet.model import AttemptRequest, JobSpec, Mount
from tests.support.dev_slurm import dev_slurm
from tests.support.sshd import need

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def slurm_conf() -> Iterator[str]:
    need("slurmctld")
    args = ("--clusters", "1", "--prefix", "cbox", "--nodes", "1", "--cpus", "2", "--json")
    with dev_slurm("cn-it-containers-", *args) as (_, out):
        (conf,) = json.loads(out)["clusters"].values()
        yield conf


def cluster(slurm_conf: str, store: ImageStore, roots: tuple[str, ...] = ()) -> SlurmCluster:
    config = ClusterConfig(name="box", kind="slurm", slurm_conf=slurm_conf)
    return SlurmCluster(config, image_root=store.root, mount_roots=roots)


def attempt(tag: str, workdir: Path, **spec: object) -> AttemptRequest:
    return AttemptRequest(
        tag=tag,
        job_id=tag,
        attempt=1,
        partition=None,
        owner="ana",
        spec=JobSpec(workdir=str(workdir), time_limit_s=120, **spec),  # type: ignore[arg-type]
    )


async def finish(adapter: SlurmCluster, nid: str) -> tuple[str, str]:
    for _ in range(600):
        status = (await adapter.status([nid]))[nid]
        if status.state.terminal:
            return status.state.value, (await adapter.output(nid)).decode()
        await asyncio.sleep(0.2)
    raise AssertionError(f"job {nid} did not end")


async def test_the_batch_script_runs_in_the_image_on_slurm(
    slurm_conf: str, cached_store: ImageStore, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "x").write_text("1")
    adapter = cluster(slurm_conf, cached_store, (str(tmp_path),))
    assert await adapter.pyxis() is False
    script = (
        "#!/bin/bash\n#SBATCH --container-image=mpi\n#SBATCH --job-name=boxed\n"
        "test -e /usr/bin/bwrap && echo host-files || echo image-files\n"
        'ls /d; echo "$SLURM_JOB_NAME"\n'
    )
    nid = await adapter.submit(
        attempt(
            "slurm-box-1",
            tmp_path,
            script=script,
            container_image="mpi",
            container_mounts=(Mount(str(data), "/d", read_only=True),),
        )
    )
    state, out = await finish(adapter, nid)
    assert (state, out) == ("COMPLETED", "image-files\nx\nboxed\n")


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ({"container_image": "ghost"}, "no image named 'ghost'"),
        (
            {"container_image": "mpi", "container_mounts": (Mount("/etc", "/e"),)},
            "/etc is outside the paths this site allows",
        ),
        ({"container_image": "mpi", "script": "#!/usr/bin/python3\n"}, "has no /usr/bin/python3"),
    ],
)
async def test_bad_input_is_refused_before_sbatch(
    slurm_conf: str, cached_store: ImageStore, tmp_path: Path, spec: dict[str, object], reason: str
) -> None:
    adapter = cluster(slurm_conf, cached_store, (str(tmp_path),))
    spec.setdefault("script", "#!/bin/sh\ntrue\n")
    with pytest.raises(ClusterError, match=reason) as caught:
        await adapter.submit(attempt("slurm-bad", tmp_path, **spec))
    assert not caught.value.transient
    assert await adapter.find("slurm-bad") is None  # nothing was submitted
