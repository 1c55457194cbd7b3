"""squeue and sacct output from fixed jobs, read back by the Slurm adapter's
own parsers (the shims must print what a Slurm reader expects)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from computenet.shims import sacct, squeue

NOW = time.time()
JOBS = [
    {
        "id": 3, "display_id": "3", "name": "train", "owner": "ann", "project": "p",
        "state": "RUNNING", "reason": None, "cluster": "local-a", "partition": "compute",
        "exit_code": None, "submit_time": NOW - 100, "start_time": NOW - 65, "end_time": None,
        "array_job_id": None, "array_task_id": None,
        "attempts": [{"native_id": "1", "predicted_start": NOW - 65, "node_list": "n[1-2]"}],
        "spec": {"nodes": 2, "ntasks": 4, "cpus_per_task": 2, "time_limit_s": 3600,
                 "workdir": "/w d", "mem_per_node_bytes": 2**30},
    },
    {
        "id": 4, "display_id": "4_1", "name": "sweep", "owner": "ann", "project": "p",
        "state": "PENDING", "reason": "Dependency", "cluster": None, "partition": None,
        "exit_code": None, "submit_time": NOW - 50, "start_time": None, "end_time": None,
        "array_job_id": 4, "array_task_id": 1, "attempts": [],
        "spec": {"partition": "smt", "time_limit_s": None},
    },
    {
        "id": 5, "display_id": "5", "name": "done", "owner": "ann", "project": "p",
        "state": "FAILED", "reason": None, "cluster": "local-b", "partition": "smt",
        "exit_code": "2:0", "submit_time": NOW - 40, "start_time": NOW - 30,
        "end_time": NOW - 20, "array_job_id": None, "array_task_id": None, "attempts": [],
        "spec": {"time_limit_s": 120},
    },
]  # fmt: skip


class FakeClient:
    def jobs(self, *, all: bool = False, **_: Any) -> Iterator[dict[str, Any]]:
        terminal = {"FAILED", "COMPLETED"}
        yield from (j for j in JOBS if all or j["state"] not in terminal)

    def job(self, job_id: str) -> dict[str, Any]:
        return next(j for j in JOBS if j["display_id"] == job_id or str(j["id"]) == job_id)

    def clusters(self) -> list[dict[str, Any]]:
        return []


@pytest.fixture(autouse=True)
def fake(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(squeue, "connect", FakeClient)
    monkeypatch.setattr(sacct, "connect", FakeClient)
    monkeypatch.setattr(time, "time", lambda: NOW)  # elapsed times stay put


def test_default_squeue(capsys: pytest.CaptureFixture[str]) -> None:
    assert squeue.main([]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "             JOBID PARTITION     NAME     USER ST       TIME  NODES NODELIST(REASON)",
        "                 3   compute    train      ann  R       1:05      2 n[1-2]",
        "               4_1       smt    sweep      ann PD       0:00      1 (Dependency)",
    ]


def test_squeue_states_all_and_filters(capsys: pytest.CaptureFixture[str]) -> None:
    squeue.main(["-h", "-t", "all", "-o", "%i %t %r"])
    assert capsys.readouterr().out.splitlines() == [
        "3 R None",
        "4_1 PD Dependency",
        "5 F NonZeroExitCode",
    ]
    squeue.main(["-h", "-t", "PD", "-p", "smt", "-o", "%i"])
    assert capsys.readouterr().out == "4_1\n"
    assert squeue.main(["-t", "sleeping"]) == 1
    assert "Invalid job state specified: sleeping" in capsys.readouterr().err


def test_squeue_text_reads_back_with_the_slurm_parser(capsys: pytest.CaptureFixture[str]) -> None:
    parse = pytest.importorskip("computenet.clusters.slurm.parse")
    squeue.main(["-h", "-t", "all", "-o", parse.SQUEUE_FORMAT])
    jobs = {j.job_id: j for j in parse.parse_squeue_text(capsys.readouterr().out)}
    assert jobs["3"].cpus == 8 and jobs["3"].nodes == 2 and jobs["3"].time_limit_s == 3600
    assert jobs["3"].node_list == "n[1-2]"
    assert jobs["4"].array_task_id == 1 and jobs["4"].reason == "Dependency"
    assert jobs["5"].state.value == "FAILED"


def test_squeue_json_reads_back(capsys: pytest.CaptureFixture[str]) -> None:
    parse = pytest.importorskip("computenet.clusters.slurm.parse")
    squeue.main(["--json", "-t", "all"])
    text = capsys.readouterr().out
    assert [j["job_state"] for j in json.loads(text)["jobs"]] == ["RUNNING", "PENDING", "FAILED"]
    jobs = {j.job_id: j for j in parse.parse_squeue_json(text)}
    assert jobs["3"].time_limit_s == 3600 and jobs["5"].exit_code == "2:0"


def test_sacct_table_and_parsable(capsys: pytest.CaptureFixture[str]) -> None:
    sacct.main(["-j", "3,5"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "JobID           JobName  Partition    Account  AllocCPUS      State ExitCode "
    )
    assert lines[1] == " ".join("-" * n for n in (12, 10, 10, 10, 10, 10, 8)) + " "
    assert lines[2].split() == ["3", "train", "compute", "p", "8", "RUNNING", "0:0"]
    assert lines[3].split() == ["3.batch", "batch", "p", "8", "RUNNING", "0:0"]
    sacct.main(["-j", "5", "-p", "-X", "-o", "JobID,Elapsed,Timelimit,ExitCode"])
    assert capsys.readouterr().out.splitlines() == [
        "JobID|Elapsed|Timelimit|ExitCode|",
        "5|00:00:10|00:02:00|2:0|",
    ]


def test_sacct_reads_back_with_the_slurm_parser(capsys: pytest.CaptureFixture[str]) -> None:
    parse = pytest.importorskip("computenet.clusters.slurm.parse")
    sacct.main(["-P", "-n", "-j", "3,4,5", "-o", ",".join(parse.SACCT_FIELDS)])
    rows = parse.parse_sacct(capsys.readouterr().out)
    jobs = {r.job_id: parse.job_from_sacct(r) for r in rows if r.step is None}
    assert jobs["3"].cpus == 8 and jobs["3"].workdir == "/w d"
    assert jobs["5"].state.value == "FAILED" and jobs["5"].exit_code == "2:0"
    assert jobs["4"].raw_state == "PENDING" and jobs["4"].start_time is None
