"""The installed shims as subprocesses against a real local server."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.e2e.shims.conftest import Net

pytestmark = pytest.mark.slow
ENDED = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED"}
SQUEUE_STATES = ENDED | {"PENDING", "RUNNING", "STAGE_OUT"}


def submit(net: Net, *argv: str, cwd: Path | None = None, input: str | None = None) -> str:
    done = net.run("sbatch", "--parsable", *argv, cwd=cwd, input=input)
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(r"\d+\n", done.stdout), done.stdout
    return done.stdout.strip()


def wait_state(net: Net, job_id: str, want: set[str] = ENDED, timeout_s: float = 90) -> str:
    """Poll ``squeue -h -j ID -o %T`` until the state is in ``want``."""
    deadline = time.monotonic() + timeout_s
    while True:
        out = net.run("squeue", "-h", "-j", job_id, "-o", "%T")
        assert out.returncode == 0, out.stderr
        state = out.stdout.strip()
        assert state in SQUEUE_STATES, out.stdout
        if state in want:
            return state
        assert time.monotonic() < deadline, f"job {job_id} still {state}"
        time.sleep(0.3)


def test_sbatch_squeue_sacct_lifecycle(net: Net, tmp_path: Path) -> None:
    script = tmp_path / "job.sh"
    script.write_text("#!/bin/sh\n#SBATCH --time=5\necho started\nexit 3\n")
    failing = submit(net, str(script), cwd=tmp_path)
    passing = submit(net, "--wrap", "echo fine", cwd=tmp_path)
    assert wait_state(net, failing) == "FAILED"
    assert wait_state(net, passing) == "COMPLETED"
    acct = net.run("sacct", "-P", "-n", "-o", "JobID,State,ExitCode", "-j", f"{failing},{passing}")
    assert acct.returncode == 0, acct.stderr
    assert acct.stdout.splitlines() == [
        f"{failing}|FAILED|3:0",
        f"{failing}.batch|FAILED|3:0",
        f"{passing}|COMPLETED|0:0",
        f"{passing}.batch|COMPLETED|0:0",
    ]
    named = net.run("sacct", "-X", "-P", "-o", "JobName,Timelimit", "-j", failing)
    assert named.stdout.splitlines() == ["JobName|Timelimit", "job.sh|00:05:00"]
    assert (tmp_path / f"slurm-{failing}.out").exists() or any(
        "started" in p.read_text() for p in tmp_path.glob("slurm-*.out")
    )


def test_squeue_formats_and_scancel(net: Net) -> None:
    job = submit(net, "-J", "sleeper", "-t", "10", "--wrap", "sleep 300")
    wait_state(net, job, {"PENDING", "RUNNING"})
    table = net.run("squeue", "-j", job)
    header, row = table.stdout.splitlines()
    assert header == (
        "             JOBID PARTITION     NAME     USER ST       TIME  NODES NODELIST(REASON)"
    )
    assert row.split()[0] == job and row.split()[2] == "sleeper"
    custom = net.run("squeue", "-h", "-j", job, "-o", "%.6i|%-8j|%l|%D|%C")
    assert custom.stdout == f"{job:>6}|sleeper |10:00|1|1\n"
    longf = net.run("squeue", "-j", job, "-O", "JobArrayID,StateCompact,Reason")
    head, line = longf.stdout.splitlines()
    assert head.split() == ["JOBID", "ST", "REASON"]
    assert line.split()[0] == job and line.split()[1] in {"PD", "R"}
    doc = json.loads(net.run("squeue", "--json", "-j", job).stdout)
    assert [j["job_id"] for j in doc["jobs"]] == [int(job)]
    assert doc["jobs"][0]["name"] == "sleeper" and doc["jobs"][0]["time_limit"] == 10

    cancel = net.run("scancel", job)
    assert (cancel.returncode, cancel.stdout, cancel.stderr) == (0, "", "")
    assert wait_state(net, job) == "CANCELLED"
    assert net.run("sacct", "-X", "-n", "-P", "-o", "State", "-j", job).stdout.startswith(
        "CANCELLED"
    )
    again = net.run("scancel", job)
    assert "already completing or completed" in again.stderr
    unknown = net.run("scancel", "99999999")
    assert unknown.returncode == 1
    assert unknown.stderr == (
        "scancel: error: Kill job error on job id 99999999: Invalid job id specified\n"
    )
    gone = net.run("squeue", "-j", "99999999")
    assert gone.returncode == 1 and "Invalid job id specified" in gone.stderr


def test_scancel_by_name(net: Net) -> None:
    a = submit(net, "-J", "batch-a", "--wrap", "sleep 300")
    b = submit(net, "-J", "batch-b", "--wrap", "sleep 300")
    assert net.run("scancel", "-n", "batch-a").returncode == 0
    assert wait_state(net, a) == "CANCELLED"
    assert wait_state(net, b, {"PENDING", "RUNNING"}) in {"PENDING", "RUNNING"}
    net.run("scancel", b)
    assert wait_state(net, b) == "CANCELLED"


def test_sinfo(net: Net) -> None:
    out = net.run("sinfo")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["PARTITION", "AVAIL", "TIMELIMIT", "NODES", "STATE", "NODELIST"]
    partitions = {line.split()[0] for line in lines[1:]}
    assert {"compute*", "smt*"} <= partitions
    counts = net.run("sinfo", "-h", "-s", "-o", "%R %D %c")
    assert sorted(counts.stdout.splitlines()) == ["compute 2 4", "smt 2 4"]
    nodes = net.run("sinfo", "-N", "-h", "-o", "%N")
    assert sorted(nodes.stdout.split()) == [
        "local-a-compute-n1",
        "local-a-compute-n2",
        "local-b-smt-n1",
        "local-b-smt-n2",
    ]
    doc = json.loads(net.run("sinfo", "--json").stdout)
    assert {n["name"] for n in doc["nodes"]} == set(nodes.stdout.split())


def test_sbatch_wait_test_only_and_clusters(net: Net) -> None:
    waited = net.run("sbatch", "--wait", "--wrap", "exit 5")
    assert waited.returncode == 5
    assert re.fullmatch(r"Submitted batch job \d+\n", waited.stdout)
    probe = net.run("sbatch", "--test-only", "-n", "2", "--wrap", "true")
    assert probe.returncode == 0 and probe.stdout == ""
    assert re.match(r"sbatch: Job 0 to start at \S+ using 2 processors on nodes \S+", probe.stderr)
    placed = net.run("sbatch", "--parsable", "-M", "local-b", "--wrap", "true")
    job, _, cluster = placed.stdout.strip().partition(";")
    assert cluster == "local-b"
    wait_state(net, job)
    where = net.run("sacct", "-X", "-n", "-P", "-o", "Cluster,Partition", "-j", job)
    assert where.stdout == "local-b|smt\n"
    plain = net.run("sbatch", "-M", "local-a", "--wrap", "true")
    assert re.fullmatch(r"Submitted batch job \d+ on cluster local-a\n", plain.stdout)


def test_sbatch_errors(net: Net, tmp_path: Path) -> None:
    bogus = net.run("sbatch", "--bogus", "x.sh")
    assert bogus.returncode == 1
    assert bogus.stderr.startswith("sbatch: unrecognized option '--bogus'")
    missing = net.run("sbatch", str(tmp_path / "missing.sh"))
    assert missing.returncode == 1
    assert missing.stderr == f"sbatch: error: Unable to open file {tmp_path / 'missing.sh'}\n"
    too_big = net.run("sbatch", "-N", "99", "--wrap", "true")
    assert too_big.returncode == 1 and too_big.stderr.startswith("sbatch: error: ")
    assert "\n" not in too_big.stderr.rstrip("\n")


def test_sbatch_reads_script_from_stdin(net: Net, tmp_path: Path) -> None:
    job = submit(net, "-o", "stdin.out", input="#!/bin/sh\necho from stdin\n", cwd=tmp_path)
    assert wait_state(net, job) == "COMPLETED"
    assert (tmp_path / "stdin.out").read_text() == "from stdin\n"
    name = net.run("squeue", "-h", "-j", job, "-o", "%j")
    assert name.stdout == "sbatch\n"


def test_srun_streams_output_and_returns_exit_code(net: Net, tmp_path: Path) -> None:
    here = tmp_path / "cwd"
    here.mkdir()
    done = net.run("srun", "sh", "-c", "echo out; echo err >&2; exit 7", cwd=here)
    assert (done.returncode, done.stdout) == (7, "out\n")
    assert "err\n" in done.stderr
    assert "Exited with exit code 7" in done.stderr
    assert list(here.iterdir()) == []  # srun leaves no output files behind

    proc = subprocess.Popen(
        ["srun", "sh", "-c", "echo first; sleep 4; echo second"],
        env=net.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    still_running = proc.poll() is None  # the line arrived while the job ran
    rest, _ = proc.communicate(timeout=90)
    assert (first, rest, proc.returncode, still_running) == ("first\n", "second\n", 0, True)


def test_srun_tasks(net: Net) -> None:
    many = net.run("srun", "-n", "2", "-l", "sh", "-c", 'echo "rank $SLURM_PROCID"')
    assert many.returncode == 0, many.stderr
    assert sorted(many.stdout.splitlines()) == ["0: rank 0", "1: rank 1"]


def test_awkward_values_pass_through_unmangled(net: Net, tmp_path: Path) -> None:
    nasty = 'it\'s a "job" $(touch pwned) `id` \\ ; & | * ?\nsecond line'
    work = tmp_path / "dir with 'quotes' and spaces $(x)"
    work.mkdir()
    env = {**net.env, "NASTY": nasty}
    script = work / "my job.sh"
    script.write_text('#!/bin/sh\nprintf \'%s\' "$NASTY" > "value file.txt"\n')
    done = subprocess.run(
        ["sbatch", "--parsable", "-J", "name with $(x) 'q' \"dq\"", "-o", "out %j.txt",
         "-D", str(work), str(script)],
        env=env, capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    job = done.stdout.strip()
    assert wait_state(net, job) == "COMPLETED"
    assert (work / "value file.txt").read_text() == nasty
    assert not (work / "pwned").exists() and not (tmp_path / "pwned").exists()
    shown = net.run("squeue", "-h", "-j", job, "-o", "%j|%Z")
    assert shown.stdout == f"name with $(x) 'q' \"dq\"|{work}\n"
    assert net.run("sacct", "-X", "-n", "-P", "-o", "JobName", "-j", job).stdout == (
        "name with $(x) 'q' \"dq\"\n"
    )

    words = ["a b", "it's", "$(touch pwned)", "line1\nline2", '"', "*"]
    echoed = subprocess.run(
        ["srun", "printf", "%s|", *words], env=env, capture_output=True, text=True,
        cwd=work, timeout=90,
    )  # fmt: skip
    assert echoed.returncode == 0, echoed.stderr
    assert echoed.stdout == "".join(f"{w}|" for w in words)
    assert not (work / "pwned").exists()
