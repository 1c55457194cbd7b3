"""Parsers over output recorded from a real Slurm 22.05 cluster (data/)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from computenet.clusters.slurm import parse as p
from computenet.clusters.slurm import parse_nodes as pn
from computenet.clusters.slurm.states import SLURM_STATES, map_state, parse_exit_code
from computenet.model import JobState

DATA = Path(__file__).parent / "data"


def _read(name: str) -> str:
    return (DATA / name).read_text()


def test_squeue_json_22_05_states_exit_codes_and_tags() -> None:
    jobs = {j.job_id: j for j in p.parse_squeue_json(_read("squeue-22.05.json"))}
    assert jobs["13"].state is JobState.RUNNING
    assert (jobs["13"].cpus, jobs["13"].comment, jobs["13"].node_list) == (4, "tag-run", "c1n1")
    assert jobs["14"].state is JobState.QUEUED and jobs["14"].reason == "Resources"
    assert jobs["14"].time_limit_s == 600
    assert jobs["12"].state is JobState.FAILED
    assert jobs["12"].exit_code == "3:0"  # 22.05 prints the raw wait status 768
    assert jobs["12"].array_task_id == 4
    assert jobs["9"].state is JobState.TIMEOUT
    assert jobs["4"].state is JobState.CANCELLED and jobs["4"].exit_code == "0:15"
    assert jobs["11"].comment is not None and jobs["11"].comment.startswith("tag-c1-0-")
    assert jobs["14"].start_time is None and jobs["11"].end_time is not None


def test_squeue_text_matches_json() -> None:
    text = {j.job_id: j for j in p.parse_squeue_text(_read("squeue-22.05.txt"))}
    js = {j.job_id: j for j in p.parse_squeue_json(_read("squeue-22.05.json"))}
    for job_id in ("9", "11", "13", "14"):
        assert text[job_id].state is js[job_id].state
        assert text[job_id].start_time == js[job_id].start_time
        assert text[job_id].comment == js[job_id].comment
    assert text["12"].array_task_id == 4 and text["13"].cpus == 4
    assert text["9"].time_limit_s == 60


@pytest.mark.parametrize("cut", [0, 1, 100, 20_000])
def test_cut_off_squeue_json_is_a_clear_error(cut: int) -> None:
    text = _read("squeue-22.05.json")[:cut]
    with pytest.raises(p.SlurmOutputError, match="squeue --json"):
        p.parse_squeue_json(text)


def test_cut_off_text_lines_are_clear_errors_and_empty_is_empty() -> None:
    assert p.parse_squeue_text("") == []
    with pytest.raises(p.SlurmOutputError, match="cut off"):
        p.parse_squeue_text(_read("squeue-22.05.txt")[:30])
    with pytest.raises(p.SlurmOutputError, match="cut off"):
        p.parse_sacct("11|11|COMPLETED|0:0")


def test_sacct_rows_and_states() -> None:
    rows = {r.job_id: p.job_from_sacct(r) for r in p.parse_sacct(_read("sacct-22.05.txt"))}
    assert rows["12"].exit_code == "3:0" and rows["12"].state is JobState.FAILED
    assert rows["9"].state is JobState.TIMEOUT and rows["9"].exit_code == "0:15"
    assert rows["15"].state is JobState.CANCELLED  # "CANCELLED by 0"
    assert rows["14"].node_list is None and rows["14"].start_time is None
    assert rows["13"].cpus == 4 and rows["13"].end_time is None
    assert rows["11"].comment is not None and rows["11"].comment.startswith("tag-c1-0")


def test_scontrol_job_paths_and_array_task() -> None:
    jobs = {j.job_id: j for j in p.parse_scontrol_jobs(_read("scontrol-job-22.05.txt"))}
    assert jobs["16"].array_task_id == 7
    # Until it starts, 22.05 expands %a of a pending element to NO_VAL: not a path to trust.
    assert jobs["16"].state is JobState.QUEUED and "4294967294" in (jobs["16"].stdout or "")
    assert jobs["12"].exit_code == "3:0"
    assert jobs["13"].stdout == "/tmp/slurm-13.out"


def test_jobcomp_lines_and_a_half_written_last_line() -> None:
    text = _read("jobcomp-22.05.txt")
    done = p.parse_jobcomp(text + "JobId=99 UserId=root(0) JobState=COMPL")
    assert "99" not in done
    assert any(j.state is JobState.TIMEOUT for j in done.values())
    failed = [j for j in done.values() if j.exit_code == "3:0"]
    assert failed and all(j.state is JobState.FAILED for j in failed)


def test_sinfo_partitions_and_start_estimates() -> None:
    nodes = pn.parse_sinfo_nodes(_read("sinfo-22.05.json"))
    assert {n.name for n in nodes} == {"c1n1", "c1n2", "c1n3"}
    assert all(n.cpus == 4 and n.mem_bytes == 2000 * 2**20 for n in nodes)
    parts = pn.parse_partitions(_read("scontrol-partition-22.05.txt"))
    assert parts[0]["PartitionName"] == "debug" and parts[0]["TotalCPUs"] == "12"
    assert pn.parse_start_estimates("14|N/A\n15|1795868200\n16_[7]|1795868300\n") == {
        "15": 1795868200.0,
        "16": 1795868300.0,
    }


def test_newer_json_shapes() -> None:
    assert map_state(["PENDING", "REQUEUED"]) is JobState.QUEUED
    assert (
        parse_exit_code(
            {
                "status": ["SIGNALED"],
                "return_code": {"set": True, "number": 0},
                "signal": {"id": {"set": True, "number": 9}},
            }
        )
        == "0:9"
    )
    assert parse_exit_code(768) == "3:0" and parse_exit_code(9) == "0:9"


def test_every_state_maps_and_the_special_ends_stay_apart() -> None:
    for raw in SLURM_STATES:
        map_state(raw)
    ends = {map_state(s) for s in ("TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED", "FAILED")}
    assert len(ends) == 5
    with pytest.raises(ValueError, match="unknown Slurm job state"):
        map_state("EXPLODED")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5", 300),
        ("1:30", 90),
        ("01:00:00", 3600),
        ("2-00:00:00", 172800),
        ("1-2", 93600),
        ("00:00.002", 0.002),
        ("UNLIMITED", None),
        ("Partition_Limit", None),
    ],
)
def test_durations(text: str, seconds: float | None) -> None:
    assert p.parse_duration_s(text) == (pytest.approx(seconds) if seconds else seconds)


@given(st.text(max_size=300))
def test_parsers_never_crash_on_garbage(text: str) -> None:
    for parser in (
        p.parse_squeue_json,
        p.parse_squeue_text,
        p.parse_sacct,
        p.parse_scontrol_jobs,
        pn.parse_sinfo_nodes,
    ):
        with contextlib.suppress(p.SlurmOutputError):
            parser(text)
    p.parse_jobcomp(text)


def test_sinfo_power_saving_states() -> None:
    import json

    states = {
        "c1": ["IDLE", "POWERED_DOWN"],
        "c2": ["IDLE", "POWERING_DOWN"],
        "c3": ["IDLE", "POWERING_UP"],
        "c4": ["IDLE"],
    }
    text = json.dumps({"nodes": [{"name": n, "cpus": 4, "state": s} for n, s in states.items()]})
    got = {n.name: n.state for n in pn.parse_sinfo_nodes(text)}
    assert got == {
        "c1": "powered_down",
        "c2": "powering_down",
        "c3": "powering_up",
        "c4": "idle",
    }
