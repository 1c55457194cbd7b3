"""SlurmCluster over FakeTransport: real command building and parsing, canned answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from computenet.clusters.slurm import SlurmCluster
from computenet.clusters.transport import Call, CompletedCommand, FakeTransport
from computenet.config import ClusterConfig
from computenet.errors import ClusterError, ClusterUnavailable
from computenet.model import AttemptRequest, JobSpec, JobState

pytestmark = pytest.mark.anyio
DATA = Path(__file__).parent / "data"
SQUEUE = (DATA / "squeue-22.05.json").read_bytes()
SACCT = (DATA / "sacct-22.05.txt").read_bytes()
JOBCOMP = (DATA / "jobcomp-22.05.txt").read_bytes()
CONFIG_ACCT = b"AccountingStorageType   = accounting_storage/slurmdbd\nJobCompType = jobcomp/none\n"
CONFIG_FILETXT = (
    b"AccountingStorageType = accounting_storage/none\n"
    b"JobCompType = jobcomp/filetxt\nJobCompLoc = /var/log/jobcomp.log\n"
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _cluster(**outputs: bytes | CompletedCommand) -> tuple[SlurmCluster, FakeTransport]:
    fake = FakeTransport(outputs=dict(outputs))
    return SlurmCluster(ClusterConfig(name="c1", kind="slurm"), fake), fake


def _request(**spec: object) -> AttemptRequest:
    return AttemptRequest(
        tag="job-42.1", job_id="42", attempt=1, partition=None, owner="u", spec=JobSpec(**spec)
    )  # type: ignore[arg-type]


async def test_submit_passes_script_bytes_options_and_overrides() -> None:
    sc, fake = _cluster(sbatch=b"77\n")
    script = "#!/bin/bash\n#SBATCH --time=5\necho \"$(date)\" 'q'\n"
    req = AttemptRequest(
        tag="job-42.1",
        job_id="42",
        attempt=1,
        partition="gpu",
        owner="u",
        array_task_id=3,
        env={"CN_JOB_ID": "42"},
        spec=JobSpec(
            name="n",
            script=script,
            args=("a b", "$(rm -rf /)"),
            environment={"V": "x,y\nz"},
            comment="mine",
            sbatch_args=(
                "-p",
                "debug",
                "--qos",
                "low",
                "--policy=cheapest",
                "--array=0-9",
                "--export=ALL,V=x",
            ),
        ),
    )
    assert await sc.submit(req) == "77"
    call = fake.calls[0]
    # the script arrives byte for byte, with the start marker before its first command
    lines = call.input.decode().splitlines(keepends=True)
    assert lines[2].startswith("(cn_d=") and "job-42.1" in lines[2]
    assert "".join(lines[:2] + lines[3:]) == script
    argv = list(call.argv)
    assert argv[:2] == ["sbatch", "--parsable"]
    assert "--qos" in argv and argv[argv.index("--qos") + 1] == "low"
    assert "-p" not in argv and "--partition=gpu" in argv
    assert not any(a.startswith(("--policy", "--array=0")) for a in argv)
    assert "--array=3" in argv and "--comment=job-42.1 mine" in argv
    assert "--export=ALL" in argv and "--job-name=n" in argv
    assert "--time=5" not in argv  # the script's directive stays the script's
    assert argv[-3:] == ["/dev/stdin", "a b", "$(rm -rf /)"]
    assert call.env["V"] == "x,y\nz" and call.env["CN_JOB_ID"] == "42"


async def test_fields_only_spec_becomes_options_and_export_none_lists_names() -> None:
    sc, fake = _cluster(sbatch=b"5;c1\n")
    req = _request(
        command="hostname",
        ntasks=4,
        time_limit_s=90,
        mem_per_node_bytes=2**30,
        export="NONE",
        environment={"B": "1", "A": "2"},
    )
    assert await sc.submit(req) == "5"
    argv = fake.calls[0].argv
    assert {"--ntasks=4", "--time=2", "--mem=1024M", "--export=A,B"} <= set(argv)
    wrap = next(a for a in argv if a.startswith("--wrap="))
    assert wrap.startswith("--wrap=(cn_d=") and wrap.endswith("\nhostname")
    assert fake.calls[0].input is None


async def test_sbatch_refusal_carries_slurms_message_and_is_not_transient() -> None:
    sc, _ = _cluster(
        sbatch=CompletedCommand(
            1,
            b"",
            b"sbatch: error: Batch job submission failed: Invalid partition name specified\n",
        )
    )
    with pytest.raises(ClusterError, match="Invalid partition name specified") as info:
        await sc.submit(_request(command="true"))
    assert not info.value.transient and not isinstance(info.value, ClusterUnavailable)


async def test_unreachable_controller_is_transient() -> None:
    sc, _ = _cluster(
        sbatch=CompletedCommand(
            1,
            b"",
            b"sbatch: error: Batch job submission "
            b"failed: Unable to contact slurm controller "
            b"(connect failure)\n",
        )
    )
    with pytest.raises(ClusterUnavailable) as info:
        await sc.submit(_request(command="true"))
    assert info.value.transient


async def test_squeue_json_errors_list_means_unavailable() -> None:
    body = b'{"meta": {}, "errors": [{"description": "Failed while looking for jobs"}], "jobs": []}'
    sc, _ = _cluster(
        squeue=CompletedCommand(
            0, body, b"slurm_load_jobs error: Unable to contact slurm controller (connect failure)"
        )
    )
    with pytest.raises(ClusterUnavailable, match="Unable to contact"):
        await sc.status(["1"])


@pytest.mark.parametrize("body", [b"", SQUEUE[:5000]])
async def test_empty_or_truncated_squeue_is_a_transient_cluster_error(body: bytes) -> None:
    sc, _ = _cluster(squeue=body)
    with pytest.raises(ClusterError, match="squeue --json") as info:
        await sc.status(["13"])
    assert info.value.transient


async def test_status_uses_squeue_then_sacct_for_forgotten_jobs() -> None:
    sc, fake = _cluster(squeue=SQUEUE, sacct=SACCT, scontrol=CONFIG_ACCT)
    got = await sc.status(["13", "12", "4242"])
    assert got["13"].state is JobState.RUNNING
    assert (got["12"].state, got["12"].exit_code) == (JobState.FAILED, "3:0")
    assert "4242" not in got
    sacct = [c for c in fake.calls if c.program == "sacct"]
    assert len(sacct) == 1 and "4242" in sacct[0].argv


async def test_status_reads_jobcomp_without_accounting() -> None:
    sc, fake = _cluster(squeue=b'{"errors": [], "jobs": []}', scontrol=CONFIG_FILETXT)
    fake.files["/var/log/jobcomp.log"] = JOBCOMP
    got = await sc.status(["9", "2"])
    assert got["9"].state is JobState.TIMEOUT
    assert got["2"].exit_code == "3:0"


async def test_text_fallback_when_json_is_missing() -> None:
    def handler(call: Call) -> CompletedCommand:
        if call.argv[:2] == ("squeue", "--json"):
            return CompletedCommand(1, b"", b"squeue: unrecognized option '--json'")
        if call.program == "squeue":
            return CompletedCommand(0, (DATA / "squeue-22.05.txt").read_bytes(), b"")
        if call.argv[:3] == ("scontrol", "show", "job"):
            return CompletedCommand(0, (DATA / "scontrol-job-22.05.txt").read_bytes(), b"")
        return CompletedCommand(0, CONFIG_ACCT, b"")

    fake = FakeTransport(handler)
    sc = SlurmCluster(ClusterConfig(name="c1", kind="slurm"), fake)
    got = await sc.status(["12", "14"])
    assert (got["12"].state, got["12"].exit_code) == (JobState.FAILED, "3:0")
    assert got["14"].state is JobState.QUEUED
    await sc.status(["14"])
    assert sum(c.argv[:2] == ("squeue", "--json") for c in fake.calls) == 1


async def test_cancel_of_finished_or_forgotten_job_is_fine() -> None:
    sc, _ = _cluster(
        scancel=CompletedCommand(
            1, b"", b"scancel: error: Kill job error on job id 9: Invalid job id specified"
        )
    )
    await sc.cancel("9")
    sc, _ = _cluster(
        scancel=CompletedCommand(1, b"", b"scancel: error: Unable to contact slurm controller")
    )
    with pytest.raises(ClusterUnavailable):
        await sc.cancel("9")


async def test_output_reads_the_path_scontrol_names() -> None:
    sc, fake = _cluster(scontrol=(DATA / "scontrol-job-22.05.txt").read_bytes())
    fake.files["/tmp/slurm-13.out"] = b"hello\nworld\n"
    assert await sc.output("13", offset=6) == b"world\n"
    assert await sc.output("16") == b""  # pending: no output yet


async def test_usage_from_sacct_steps() -> None:
    sc, _ = _cluster(sacct=(DATA / "sacct-steps-22.05.txt").read_bytes(), scontrol=CONFIG_ACCT)
    use = await sc.usage(["9", "11"])
    assert use["9"].elapsed_s == 81 and use["9"].cpus == 1
    assert use["9"].max_rss_bytes == 3304 * 1024
    assert use["9"].cpu_time_s == pytest.approx(0.001)


async def test_find_by_tag_and_snapshot() -> None:
    sc, _ = _cluster(
        squeue=SQUEUE,
        sinfo=(DATA / "sinfo-22.05.json").read_bytes(),
        scontrol=CONFIG_FILETXT,
        sh=b"",  # no start marker either
    )
    assert await sc.find("tag-run") == "13"
    assert await sc.find("nope") is None
    snap = await sc.snapshot()
    assert [j.native_id for j in snap.running] == ["13"]
    assert {j.native_id for j in snap.pending} == {"14", "16"}
    assert len(snap.nodes) == 3
