"""What a job sees: SLURM_* variables, hostfiles, --export, outputs, srun."""

from __future__ import annotations

from pathlib import Path

import pytest

from computenet.clusters.embedded import EmbeddedCluster
from computenet.model import JobState

from .conftest import make_config, new_cluster, request, wait_for

pytestmark = pytest.mark.anyio


def _env(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


async def test_two_node_job_environment_and_hostfiles(tmp_path: Path, workdir: Path) -> None:
    cluster = new_cluster(tmp_path / "state", make_config(gpus=2))
    await cluster.start()
    try:
        nid = await cluster.submit(
            request(
                workdir,
                "env",
                name="mpi-run",
                nodes=2,
                ntasks=4,
                gpus_per_node=1,
                mem_per_node_bytes=2**30,
                env={"PWD": str(workdir), "FOO": "bar"},
            )
        )
        done = await wait_for(cluster, nid)
        assert done.state is JobState.COMPLETED and done.node_list == "t-p-n[1-2]"
        env = _env((await cluster.output(nid)).decode())
    finally:
        await cluster.close()
    expected = {
        "SLURM_JOB_ID": nid,
        "SLURM_JOBID": nid,
        "SLURM_JOB_NAME": "mpi-run",
        "SLURM_JOB_NODELIST": "t-p-n[1-2]",
        "SLURM_NODELIST": "t-p-n[1-2]",
        "SLURM_JOB_NUM_NODES": "2",
        "SLURM_NNODES": "2",
        "SLURM_NTASKS": "4",
        "SLURM_NPROCS": "4",
        "SLURM_CPUS_PER_TASK": "1",
        "SLURM_TASKS_PER_NODE": "2(x2)",
        "SLURM_CPUS_ON_NODE": "2",
        "SLURM_JOB_CPUS_PER_NODE": "2(x2)",
        "SLURM_JOB_PARTITION": "p",
        "SLURM_CLUSTER_NAME": "t",
        "SLURM_MEM_PER_NODE": "1024",
        "SLURM_SUBMIT_DIR": str(workdir),
        "CUDA_VISIBLE_DEVICES": "0",
        "OMP_NUM_THREADS": "1",
        "CN_JOB_ID": "j",  # the network's id of the job
        "CN_NATIVE_JOB_ID": nid,
        "FOO": "bar",
    }
    assert {k: env.get(k) for k in expected} == expected
    assert env["PATH"].split(":")[0] == str(tmp_path / "state" / "bin")
    assert Path(env["SLURM_HOSTFILE"]).read_text().split() == ["t-p-n1"] * 2 + ["t-p-n2"] * 2
    assert Path(env["OMPI_MCA_orte_default_hostfile"]).read_text() == "localhost slots=4\n"


async def test_export_none_drops_the_submitters_variables(
    cluster: EmbeddedCluster, workdir: Path
) -> None:
    submitted = {"FOO": "bar", "KEEP": "me", "HOME": "/home/ana"}
    none = await cluster.submit(request(workdir, "env", export="NONE", env=submitted))
    listed = await cluster.submit(request(workdir, "env", export="KEEP,X=1", env=submitted))
    await wait_for(cluster, none)
    await wait_for(cluster, listed)
    got_none = _env((await cluster.output(none)).decode())
    got_listed = _env((await cluster.output(listed)).decode())
    assert "FOO" not in got_none and got_none["SLURM_JOB_ID"] == none
    assert got_listed["KEEP"] == "me" and got_listed["X"] == "1" and "FOO" not in got_listed


async def test_array_task_environment_and_default_output(
    cluster: EmbeddedCluster, workdir: Path
) -> None:
    nid = await cluster.submit(
        request(workdir, "echo $SLURM_ARRAY_JOB_ID $SLURM_ARRAY_TASK_ID", array=("77", 3))
    )
    await wait_for(cluster, nid)
    assert (workdir / "slurm-77_3.out").read_text() == "77 3\n"


async def test_output_patterns_and_separate_error(cluster: EmbeddedCluster, workdir: Path) -> None:
    nid = await cluster.submit(
        request(
            workdir,
            "echo out; echo err >&2",
            name="pat",
            output="o-%x-%j.txt",
            error=str(workdir / "e-%j.txt"),
        )
    )
    await wait_for(cluster, nid)
    assert (workdir / f"o-pat-{nid}.txt").read_text() == "out\n"
    assert (workdir / f"e-{nid}.txt").read_text() == "err\n"
    assert await cluster.output(nid, "stderr") == b"err\n"
    assert await cluster.output(nid, "stdout", offset=1) == b"ut\n"


async def test_open_mode_append_keeps_earlier_output(
    cluster: EmbeddedCluster, workdir: Path
) -> None:
    for word, mode in (("one", None), ("two", "append")):
        nid = await cluster.submit(
            request(workdir, f"echo {word}", output="same.out", open_mode=mode)
        )
        await wait_for(cluster, nid)
    assert (workdir / "same.out").read_text() == "one\ntwo\n"
    nid = await cluster.submit(request(workdir, "echo three", output="same.out"))
    await wait_for(cluster, nid)
    assert (workdir / "same.out").read_text() == "three\n"  # truncate is the default


async def test_srun_launches_every_task_with_its_ranks(
    cluster: EmbeddedCluster, workdir: Path
) -> None:
    script = (
        "#!/bin/sh\n"
        "srun sh -c 'echo P$SLURM_PROCID L$SLURM_LOCALID N$SLURM_NODEID' | sort\n"
        "srun -n 1 --label echo hi\n"
        "srun -N 1 sh -c 'echo one-node $SLURM_NODEID' | sort -u\n"
    )
    nid = await cluster.submit(request(workdir, script=script, nodes=2, ntasks=3))
    done = await wait_for(cluster, nid)
    assert done.state is JobState.COMPLETED
    assert (await cluster.output(nid)).decode().splitlines() == [
        "P0 L0 N0",
        "P1 L1 N0",
        "P2 L0 N1",
        "0: hi",
        "one-node 0",
    ]


async def test_srun_returns_the_worst_exit_code(cluster: EmbeddedCluster, workdir: Path) -> None:
    nid = await cluster.submit(request(workdir, "srun sh -c 'exit $SLURM_PROCID'", ntasks=3))
    done = await wait_for(cluster, nid)
    assert (done.state, done.exit_code) == (JobState.FAILED, "2:0")


async def test_script_arguments_and_cpus_per_task(cluster: EmbeddedCluster, workdir: Path) -> None:
    script = "#!/bin/sh\necho $1 $2 $OMP_NUM_THREADS $SLURM_CPUS_PER_TASK\n"
    nid = await cluster.submit(request(workdir, script=script, args=("a", "b"), cpus_per_task=2))
    await wait_for(cluster, nid)
    assert await cluster.output(nid) == b"a b 2 2\n"
