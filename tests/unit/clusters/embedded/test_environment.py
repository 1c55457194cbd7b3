"""Output patterns and --export handling."""

from __future__ import annotations

from computenet.clusters.embedded.environment import JobIdentity, expand_pattern, exported

WHO = JobIdentity(native_id="42", name="sim", user="ana", cluster="c", partition="p")


def test_patterns_expand_like_slurm() -> None:
    assert expand_pattern("slurm-%j.out", WHO, "c-p-n1") == "slurm-42.out"
    assert expand_pattern("%x_%u_%N_%%.log", WHO, "c-p-n1") == "sim_ana_c-p-n1_%.log"
    assert expand_pattern("%5j", WHO, "n") == "00042"
    task = JobIdentity("43", "sim", "ana", "c", "p", array_job_id="40", array_task_id=3)
    assert expand_pattern("r-%A_%a.out", task, "n") == "r-40_3.out"
    assert expand_pattern("%a", WHO, "n") == "4294967294"  # no array: Slurm's NO_VAL


def test_export_all_none_and_lists() -> None:
    submitted = {"FOO": "1", "BAR": "2", "HOME": "/h", "PATH": "/p"}
    assert exported("ALL", submitted) == submitted
    none = exported("NONE", submitted)
    assert "FOO" not in none and none["HOME"] == "/h" and "PATH" in none
    listed = exported("FOO,X=7", submitted)
    assert listed["FOO"] == "1" and listed["X"] == "7" and "BAR" not in listed
    assert exported("ALL,X=7", submitted)["BAR"] == "2"
