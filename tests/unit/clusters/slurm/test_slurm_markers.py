"""Start markers: the line a batch script runs first, and find's fallback on it."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from computenet.clusters.slurm import SlurmCluster
from computenet.clusters.slurm.markers import MARKER_DAYS, marked, parse_marker
from computenet.clusters.transport import Call, CompletedCommand, FakeTransport, LocalTransport
from computenet.config import ClusterConfig
from computenet.errors import ClusterError
from computenet.model import JobSpec
from computenet.model.tenancy import ClusterIdentity

DATA = Path(__file__).parent / "data"
SQUEUE = (DATA / "squeue-22.05.json").read_bytes()
NO_ACCOUNTING = b"AccountingStorageType = accounting_storage/none\nJobCompType = jobcomp/none\n"
TAG = "cn-net1-42-1"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _run_script(
    script: str, home: Path, job_id: str, **env: str
) -> subprocess.CompletedProcess[str]:
    full = {"PATH": os.environ["PATH"], "HOME": str(home), "SLURM_JOB_ID": job_id, **env}
    return subprocess.run(
        ["sh", "-c", script], env=full, capture_output=True, text=True, check=False
    )


def test_directives_stay_above_the_marker_and_other_interpreters_are_untouched() -> None:
    script = "#!/usr/bin/env bash\n#SBATCH -N 1\n\n# note\n#SBATCH -t 5\nset -e\necho hi\n"
    lines = marked(JobSpec(script=script), "c1", TAG).script.splitlines()  # type: ignore[union-attr]
    assert lines[:5] == script.splitlines()[:5]
    assert lines[5].startswith("(cn_d=") and lines[6:] == ["set -e", "echo hi"]
    python = "#!/usr/bin/env python3\n#SBATCH -N 1\nprint('hi')\n"
    assert marked(JobSpec(script=python), "c1", TAG).script == python


@pytest.mark.anyio
async def test_the_marker_a_job_writes_is_what_find_reads(tmp_path: Path) -> None:
    spec = marked(JobSpec(command="echo out; exit 3"), "c1", TAG)
    assert spec.command is not None
    done = _run_script(spec.command, tmp_path, "901")
    assert (done.returncode, done.stdout, done.stderr) == (3, "out\n", "")  # the job's own
    marker = tmp_path / ".computenet" / "jobs" / "c1" / TAG
    assert marker.read_text() == f"{TAG} 901\n"
    # an array element records the id sbatch printed: the array job's
    _run_script(spec.command, tmp_path, "905", SLURM_ARRAY_JOB_ID="904")
    assert marker.read_text() == f"{TAG} 904\n"

    local = LocalTransport(base_env={"HOME": str(tmp_path)})
    sc = SlurmCluster(ClusterConfig(name="c1", kind="slurm"), local)
    assert await sc._marker(TAG) == "904"
    assert await sc._marker("cn-net1-42-2") is None
    assert await sc._marker("cn-net1-42-1'; touch x; '") is None
    assert not (tmp_path / "x").exists() and not Path("x").exists()


def test_markers_past_their_age_are_pruned_by_the_next_job(tmp_path: Path) -> None:
    directory = tmp_path / ".computenet" / "jobs" / "c1"
    directory.mkdir(parents=True)
    old, recent = directory / "cn-net1-1-1", directory / "cn-net1-2-1"
    for path in (old, recent):
        path.write_text(f"{path.name} 5\n")
    past = time.time() - (MARKER_DAYS + 2) * 86400
    os.utime(old, (past, past))
    spec = marked(JobSpec(command="true"), "c1", TAG)
    assert spec.command is not None
    _run_script(spec.command, tmp_path, "7")
    assert sorted(p.name for p in directory.iterdir()) == sorted([TAG, recent.name])


def test_an_unwritable_home_does_not_fail_the_job(tmp_path: Path) -> None:
    spec = marked(JobSpec(command="echo ran"), "c1", TAG)
    assert spec.command is not None
    home = tmp_path / "home"
    home.write_text("")  # a file where the home directory should be: mkdir fails
    done = _run_script(spec.command, home, "8")
    assert (done.returncode, done.stdout, done.stderr) == (0, "ran\n", "")


def test_parse_marker_wants_the_same_tag_and_a_number() -> None:
    assert parse_marker(f"{TAG} 12\n", TAG) == "12"
    assert parse_marker(f"{TAG}x 12\n", TAG) is None
    assert parse_marker(f"{TAG} 12;rm\n", TAG) is None
    assert parse_marker("", TAG) is None


def _forgotten(marker: bytes | CompletedCommand) -> FakeTransport:
    def answer(call: Call) -> CompletedCommand:
        if call.program == "sh":
            assert call.argv[-1] == TAG  # the tag travels as an argument, never in the script
            return (
                marker if isinstance(marker, CompletedCommand) else CompletedCommand(0, marker, b"")
            )
        out = {"squeue": SQUEUE, "scontrol": NO_ACCOUNTING}[call.program]
        return CompletedCommand(0, out, b"")

    return FakeTransport(handler=answer)


@pytest.mark.anyio
async def test_find_falls_back_to_the_marker_when_slurm_forgot_the_job() -> None:
    fake = _forgotten(f"{TAG} 99\n".encode())
    sc = SlurmCluster(ClusterConfig(name="c1", kind="slurm"), fake)
    assert await sc.find(TAG) == "99"
    assert fake.programs() == ["squeue", "scontrol", "sh"]


@pytest.mark.anyio
async def test_find_that_cannot_read_the_marker_says_so_instead_of_none() -> None:
    fake = _forgotten(CompletedCommand(255, b"", b"connection reset"))
    sc = SlurmCluster(ClusterConfig(name="c1", kind="slurm"), fake)
    with pytest.raises(ClusterError, match="start marker") as caught:
        await sc.find(TAG)
    assert caught.value.transient


@pytest.mark.anyio
async def test_find_reads_the_marker_in_the_home_of_each_account_that_submits() -> None:
    chem = ClusterIdentity(cluster="c1", project="chem", user="chem01", ssh_key="/keys/chem01")
    # a key but no account, on a local cluster: it cannot have submitted anything here
    nobody = ClusterIdentity(cluster="c1", project="bio", ssh_key="/keys/bio")
    server = _forgotten(b"")
    chem_home = FakeTransport(outputs={"sh": f"{TAG} 314\n".encode()})
    sc = SlurmCluster(ClusterConfig(name="c1", kind="slurm"), server)
    sc.use_identities([chem, nobody])
    sc.identities._made[("chem01", "/keys/chem01")] = chem_home
    assert await sc.find(TAG) == "314"
    assert server.programs()[-1] == "sh" and chem_home.programs() == ["sh"]
