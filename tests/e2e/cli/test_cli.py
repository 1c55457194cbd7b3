"""The cnet command as a user runs it, against a real local server with the
default embedded clusters."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest

pytestmark = pytest.mark.slow


def js(proc: Any) -> Any:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_version_needs_no_server(cnet: Any) -> None:
    proc = cnet("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("cnet ")


def test_submit_wait_returns_the_job_exit_code(cnet: Any, tmp_path: Path) -> None:
    proc = cnet(
        "submit", "--wrap", "echo out; echo err >&2; exit 3", "--time=1", "--wait", cwd=tmp_path
    )
    assert proc.returncode == 3, proc.stderr
    job = js(cnet("submit", "--json", "--wait", "--time=1", "--wrap", "true", cwd=tmp_path))
    assert job["state"] == "COMPLETED" and job["exit_code"] == "0:0"
    for key in (
        "id",
        "name",
        "state",
        "reason",
        "cluster",
        "partition",
        "exit_code",
        "submit_time",
        "start_time",
        "end_time",
        "attempts",
    ):
        assert key in job
    assert {"cluster", "native_id", "state"} <= set(job["attempts"][0])


def test_script_with_directives_output_and_logs(cnet: Any, tmp_path: Path) -> None:
    script = tmp_path / "hello.sh"
    script.write_text(
        "#!/bin/bash\n#SBATCH --job-name=greeter\n#SBATCH --time=2\n"
        '#SBATCH --output=greet-%j.out\necho "hello $1 from $SLURM_JOB_NAME"\n'
    )
    proc = cnet("submit", "--parsable", str(script), "world", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    job_id = proc.stdout.strip()
    assert job_id.isdigit()
    deadline = time.monotonic() + 60
    while (job := js(cnet("show", job_id, "--json")))["state"] not in ("COMPLETED", "FAILED"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    assert job["state"] == "COMPLETED" and job["name"] == "greeter"
    assert cnet("logs", job_id).stdout == "hello world from greeter\n"
    native = job["attempts"][0]["native_id"]
    assert (tmp_path / f"greet-{native}.out").read_text() == "hello world from greeter\n"
    listing = js(cnet("ls", "--all", "--json"))
    assert int(job_id) in [j["id"] for j in listing["jobs"]]
    assert "greeter" in cnet("ls", "--all").stdout
    why = js(cnet("why", job_id, "--json"))
    assert why["chosen"] == job["cluster"]
    for cand in why["candidates"]:
        assert {
            "cluster",
            "feasible",
            "why_not",
            "predicted_start",
            "predicted_end",
            "cost",
            "score",
        } <= set(cand)


def test_test_only_validates_without_submitting(cnet: Any, tmp_path: Path) -> None:
    before = len(js(cnet("ls", "--all", "--json"))["jobs"])
    out = js(
        cnet(
            "submit",
            "--test-only",
            "--json",
            "-N",
            "1",
            "--ntasks-per-node=2",
            "--mem-per-cpu=100M",
            "--time=1-0",
            "--array=0-3%2",
            "--dependency=afterok:1",
            "--wrap",
            "true",
            cwd=tmp_path,
        )
    )
    spec = out["spec"]
    assert spec["ntasks_per_node"] == 2 and spec["mem_per_cpu_bytes"] == 100 * 2**20
    assert spec["time_limit_s"] == 86400 and spec["array"] == "0-3%2"
    assert spec["dependency"] == "afterok:1" and spec["mem_per_node_bytes"] is None
    for key in (
        "name",
        "nodes",
        "ntasks",
        "cpus_per_task",
        "partition",
        "account",
        "qos",
        "gpus",
        "gres",
        "exclusive",
        "constraint",
        "output",
        "error",
        "cpu_mode",
    ):
        assert key in spec
    assert out["placement"]["chosen"] in ("local-a", "local-b")
    assert len(js(cnet("ls", "--all", "--json"))["jobs"]) == before


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("submit", "--nodes=two", "--wrap", "true"), 2, "nodes"),
        (("submit", "--frobnicate", "--wrap", "true"), 2, "frobnicate"),
        (("submit", "--ntasks=512", "--wrap", "true"), 3, "no cluster"),
        (("submit", "--partition=gpu-huge", "--wrap", "true"), 3, "gpu-huge"),
        (("submit", "/no/such/script.sh"), 2, "cannot read"),
        (("show", "999999"), 4, "no job"),
        (("cancel", "12abc"), 4, "invalid job id"),
    ],
)
def test_errors_are_one_line_with_distinct_codes(
    cnet: Any, args: tuple[str, ...], code: int, words: str
) -> None:
    proc = cnet(*args)
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cnet: error: ")
    assert words in lines[0]


def test_binary_script_and_empty_stdin_are_refused(cnet: Any, tmp_path: Path) -> None:
    binary = tmp_path / "a.out"
    binary.write_bytes(b"\x7fELF\x00\x01\xff\xfe")
    proc = cnet("submit", str(binary))
    assert proc.returncode == 2 and "not UTF-8" in proc.stderr
    proc = cnet("submit", input="")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_cancel_running_and_finished(cnet: Any, tmp_path: Path) -> None:
    job_id = cnet(
        "submit", "--parsable", "--time=5", "--wrap", "sleep 300", cwd=tmp_path
    ).stdout.strip()
    deadline = time.monotonic() + 30
    while js(cnet("show", job_id, "--json"))["state"] != "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert cnet("cancel", job_id).returncode == 0
    deadline = time.monotonic() + 30
    while (state := js(cnet("show", job_id, "--json"))["state"]) != "CANCELLED":
        assert time.monotonic() < deadline, state
        time.sleep(0.2)
    again = js(cnet("cancel", job_id, "--json"))["results"][0]
    assert again["changed"] is False


def test_server_status_and_clusters(cnet: Any) -> None:
    status = js(cnet("server", "status", "--json"))
    assert status["running"] is True and status["url"].startswith("http://127.0.0.1:")
    assert isinstance(status["pid"], int)
    # Local clients come in through the Unix socket; others use the URL.
    sock = Path(status["socket"])
    assert sock.is_socket() and sock.stat().st_mode & 0o777 == 0o600
    assert httpx2.get(status["url"] + "/healthz", timeout=10).status_code == 200
    clusters = js(cnet("clusters", "--json"))["clusters"]
    assert {c["name"] for c in clusters} >= {"local-a", "local-b"}


def test_ls_shows_each_jobs_own_columns(cnet: Any, tmp_path: Path) -> None:
    job_id = cnet("submit", "--parsable", "--hold", "-N", "2", "-J", "twonodes", "--wrap", "true")
    assert job_id.returncode == 0, job_id.stderr
    lines = cnet("ls").stdout.splitlines()
    header = lines[0].split()
    row = next(line.split() for line in lines[1:] if line.split()[0] == job_id.stdout.strip())
    assert dict(zip(header, row, strict=False)) | {"TIME": "-"} == {
        "JOBID": job_id.stdout.strip(),
        "CLUSTER": "-",
        "PARTITION": "-",
        "NAME": "twonodes",
        "USER": row[4],
        "ST": "PD",
        "TIME": "-",
        "NODES": "2",
        "REASON": "JobHeldUser",
    }
    cnet("cancel", job_id.stdout.strip())


def test_stop_removes_the_socket_and_the_next_command_starts_again(cnet: Any) -> None:
    sock = Path(js(cnet("server", "status", "--json"))["socket"])
    assert cnet("server", "stop").returncode == 0
    assert not sock.exists()
    assert cnet("ls").returncode == 0  # starts the local server again
    assert sock.is_socket()
