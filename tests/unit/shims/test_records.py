"""How a network job reads as Slurm: states, reasons, sizes, memory."""

from __future__ import annotations

from typing import Any

import pytest

from computenet.shims.hostlist import compress
from computenet.shims.records import JobView, mem_text, rss_text, slurm_state_name


def job(**fields: Any) -> dict[str, Any]:
    base = {
        "id": 7,
        "display_id": "7",
        "name": "j",
        "owner": "ann",
        "project": "proj",
        "state": "PENDING",
        "reason": None,
        "cluster": None,
        "partition": None,
        "exit_code": None,
        "submit_time": 100.0,
        "start_time": None,
        "end_time": None,
        "array_job_id": None,
        "array_task_id": None,
        "attempts": [],
    }
    return {**base, **fields}


@pytest.mark.parametrize(
    ("state", "long", "compact"),
    [
        ("PENDING", "PENDING", "PD"),
        ("STAGING_IN", "PENDING", "PD"),
        ("QUEUED", "PENDING", "PD"),
        ("RUNNING", "RUNNING", "R"),
        ("STAGING_OUT", "STAGE_OUT", "SO"),
        ("COMPLETED", "COMPLETED", "CD"),
        ("FAILED", "FAILED", "F"),
        ("CANCELLED", "CANCELLED", "CA"),
        ("TIMEOUT", "TIMEOUT", "TO"),
        ("OUT_OF_MEMORY", "OUT_OF_MEMORY", "OOM"),
        ("NODE_FAIL", "NODE_FAIL", "NF"),
        ("PREEMPTED", "PREEMPTED", "PR"),
    ],
)
def test_states(state: str, long: str, compact: str) -> None:
    view = JobView(job(state=state, spec={}))
    assert (view.state, view.compact_state) == (long, compact)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"reason": "Dependency"}, "Dependency"),
        ({"reason": "ClusterUnavailable: local-a down"}, "ClusterUnavailable"),
        ({"reason": None}, "None"),
        ({"reason": "Submitting"}, "None"),
        ({"state": "STAGING_IN"}, "BurstBufferStageIn"),
        ({"spec": {"hold": True}}, "JobHeldUser"),
        ({"state": "FAILED", "exit_code": "1:0"}, "NonZeroExitCode"),
        ({"state": "TIMEOUT"}, "TimeLimit"),
        ({"state": "COMPLETED", "reason": "done"}, "None"),
    ],
)
def test_reasons(fields: dict[str, Any], reason: str) -> None:
    assert JobView(job(**{"spec": {}, **fields})).reason == reason


def test_sizes_from_the_spec_fetched_once() -> None:
    calls: list[str] = []

    def fetch(job_id: str) -> dict[str, Any]:
        calls.append(job_id)
        spec = {"nodes": 2, "ntasks_per_node": 3, "cpus_per_task": 2, "time_limit_s": 600}
        return {"spec": spec}

    view = JobView(job(), fetch)
    assert (view.nodes, view.cpus, view.time_limit_s) == (2, 12, 600)
    assert calls == ["7"]


def test_direct_fields_win_over_the_spec() -> None:
    view = JobView(job(cpus=5, nodes=3, spec={"ntasks": 1}))
    assert (view.cpus, view.nodes) == (5, 3)


def test_ids_of_array_elements() -> None:
    view = JobView(job(id=12, display_id="10_2", array_job_id=10, array_task_id=2, spec={}))
    assert (view.job_id, view.raw_id, view.array_job_id, view.array_task_id) == (
        "10_2",
        "12",
        "10",
        "2",
    )


def test_memory_and_state_names() -> None:
    assert mem_text(4 * 2**30) == "4G"
    assert mem_text(954 * 2**20) == "954M"
    assert mem_text(2**40) == "1T"
    assert rss_text(2048) == "2K" and rss_text(None) == ""
    assert slurm_state_name("pd") == "PENDING"
    assert slurm_state_name("Running") == "RUNNING"
    assert slurm_state_name("canceled") == "CANCELLED"
    with pytest.raises(ValueError):
        slurm_state_name("sleeping")


def test_hostlist_compress() -> None:
    assert compress(["n1", "n2", "n3", "n5"]) == "n[1-3,5]"
    assert compress(["a-x-n1"]) == "a-x-n1"
    assert compress(["c01", "c02", "c10"]) == "c[01-02,10]"
    assert compress(["login", "n2", "n1"]) == "login,n[1-2]"
