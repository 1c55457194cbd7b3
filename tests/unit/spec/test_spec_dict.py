"""JobSpec.to_dict is the stored form of every job: it must equal what
dataclasses.asdict gives and read back to the same spec."""

from __future__ import annotations

from dataclasses import asdict

import pytest

from computenet.model import JobSpec
from computenet.model.spec import (
    SPEC_VERSION,
    ArraySpec,
    CpuMode,
    Dependency,
    DependencyType,
    Signal,
    Staging,
)

SPECS = [
    JobSpec(),
    JobSpec(command="true", hold=True, time_limit_s=60),
    JobSpec(
        name="full",
        script="#!/bin/sh\necho hi\n",
        args=("a", "b"),
        environment={"A": "1", "B": "two"},
        array=ArraySpec((1, 2, 5), 2, "1-2,5%2"),
        dependency=(
            Dependency(DependencyType.AFTEROK, ("1", "2")),
            Dependency(DependencyType.SINGLETON),
        ),
        signal=Signal("USR1", 30, batch_only=True),
        cpu_mode=CpuMode.SMT,
        inputs=(Staging(site="s", path="in", dest="job/in"),),
        outputs=(Staging(site="s", path="out", dest="job/out"),),
        clusters=("a", "b"),
        ignored=("--mail-user: ignored",),
    ),
]


@pytest.mark.parametrize("spec", SPECS)
def test_to_dict_equals_asdict_and_reads_back(spec: JobSpec) -> None:
    data = spec.to_dict()
    assert data == {**asdict(spec), "version": SPEC_VERSION}
    assert JobSpec.from_dict(data) == spec


def test_to_dict_copies_containers() -> None:
    spec = SPECS[2]
    data = spec.to_dict()
    data["environment"]["A"] = "changed"
    assert spec.environment["A"] == "1"
