"""The batch script a Slurm cluster without pyxis gets for a containerised job."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from computenet.clusters.slurm import SlurmCluster
from computenet.clusters.slurm.containers import (
    pyxis_args,
    without_container_directives,
    wrapped_script,
)
from computenet.clusters.transport import Call, CompletedCommand, FakeTransport
from computenet.config import ClusterConfig
from computenet.containers import ImageStore
from computenet.errors import ClusterError
from computenet.model import AttemptRequest, JobSpec, Mount
from tests.unit.containers.conftest import make_tarball

SCRIPT = (
    "#!/bin/bash\n#SBATCH --job-name=x\n#SBATCH --container-image=tiny\n"
    "#SBATCH -N 1\necho 'it''s' \"$1\"\n"
)


def test_pyxis_gets_the_options_as_given() -> None:
    spec = JobSpec(
        container_image="tiny",
        container_mounts=(Mount("/a", "/b", read_only=True), Mount("/c", "/c")),
        container_workdir="/b",
    )
    assert pyxis_args(spec) == [
        "--container-image=tiny",
        "--container-mounts=/a:/b:ro,/c:/c",
        "--container-workdir=/b",
    ]
    assert without_container_directives(SCRIPT).count("--container") == 0


def test_the_wrapper_keeps_the_directives_and_embeds_the_script(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "site")
    store.add_tarball("tiny", make_tarball(tmp_path / "t.tar"))
    spec = JobSpec(script=SCRIPT, container_image="tiny")
    text = wrapped_script(spec, store, ())
    lines = text.splitlines()
    assert lines[:3] == ["#!/bin/sh", "#SBATCH --job-name=x", "#SBATCH -N 1"]
    assert "--container-image" not in text.split("<<")[0]  # sbatch reads only the head
    assert SCRIPT.rstrip("\n") in text  # the user's script, byte for byte
    assert '--chdir "$PWD"' in text and '-- "$cn_script" "$@"' in text
    subprocess.run(["sh", "-n"], input=text, text=True, check=True)  # valid shell


def _pyxis_sbatch(call: Call) -> CompletedCommand:
    if "--help" in call.argv:
        return CompletedCommand(0, b"  --container-image=[USER@][REGISTRY#]IMAGE[:TAG]|PATH\n", b"")
    return CompletedCommand(0, b"77\n", b"")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_with_pyxis_sbatch_gets_the_options_and_the_script_unchanged() -> None:
    fake = FakeTransport(handler=_pyxis_sbatch)
    adapter = SlurmCluster(ClusterConfig(name="c", kind="slurm", ssh="u@h"), fake)
    spec = JobSpec(script=SCRIPT, container_image="nvcr.io/hpc/app:24.1", container_workdir="/w")
    request = AttemptRequest(tag="t", job_id="1", attempt=1, partition=None, owner="u", spec=spec)
    assert await adapter.submit(request) == "77"
    submitted = fake.calls[-1]
    assert submitted.argv[:4] == (
        "sbatch",
        "--parsable",
        "--container-image=nvcr.io/hpc/app:24.1",
        "--container-workdir=/w",
    )
    assert submitted.input == SCRIPT.encode()
    assert adapter.features()["containers"] is None
    await adapter.submit(request)
    assert [c.argv[1] for c in fake.calls].count("--help") == 1  # asked once


@pytest.mark.anyio
async def test_over_ssh_without_pyxis_the_job_is_refused_with_why() -> None:
    fake = FakeTransport(outputs={"sbatch": b"usage: sbatch [OPTIONS...] executable\n"})
    adapter = SlurmCluster(ClusterConfig(name="c", kind="slurm", ssh="u@h"), fake)
    spec = JobSpec(script=SCRIPT, container_image="tiny")
    request = AttemptRequest(tag="t", job_id="1", attempt=1, partition=None, owner="u", spec=spec)
    with pytest.raises(ClusterError, match="no pyxis here") as caught:
        await adapter.submit(request)
    assert not caught.value.transient
    assert [c.argv for c in fake.calls] == [("sbatch", "--help")]  # nothing submitted
    assert "no pyxis" in (adapter.features()["containers"] or "")
