"""Output file name patterns."""

from __future__ import annotations

import pytest

from computenet.model.spec import ArraySpec, JobSpec
from computenet.spec import default_output_pattern, expand_pattern


def expand(pattern: str, *, task: int | None = None, array: str | None = None) -> str:
    return expand_pattern(
        pattern,
        job_id="128",
        array_job_id=array,
        array_task_id=task,
        name="sim",
        user="ada",
        node="n1",
    )


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("slurm-%j.out", "slurm-128.out"),
        ("job%J.out", "job128.batch.out"),
        ("%x-%u-%N.log", "sim-ada-n1.log"),
        ("job%4j.out", "job0128.out"),
        ("%%j", "%j"),
        ("100%%", "100%"),
        ("%s", "batch"),
        ("%n-%t", "0-0"),
        ("%12j", "0000000128"),  # padding stops at 10
        ("%q", "%q"),  # not a field: kept as written
        ("%5q", "5q"),  # Slurm keeps only the last digit before a non-field
        ("\\%j", "%j"),  # a backslash turns expansion off
        ("%5x", "sim"),  # padding applies to numbers only
    ],
)
def test_patterns(pattern: str, expected: str) -> None:
    assert expand(pattern) == expected


def test_array_fields() -> None:
    assert expand("slurm-%A_%a.out", task=7, array="120") == "slurm-120_7.out"
    assert expand("%3a-%b", task=17, array="120") == "017-7"
    # Outside an array %A is the job id and %a Slurm's NO_VAL.
    assert expand("slurm-%A_%a.out") == "slurm-128_4294967294.out"


def test_default_patterns() -> None:
    assert default_output_pattern(JobSpec()) == "slurm-%j.out"
    assert default_output_pattern(JobSpec(array=ArraySpec((0, 1)))) == "slurm-%A_%a.out"
