"""What a Slurm cluster receives."""

from __future__ import annotations

from computenet.model.spec import JobSpec
from computenet.spec import parse_sbatch, slurm_passthrough_args


def passthrough(argv: list[str]) -> list[str]:
    return slurm_passthrough_args(JobSpec(sbatch_args=tuple(argv)))


def test_network_and_submit_options_are_dropped_the_rest_kept_verbatim() -> None:
    argv = [
        "-p",
        "gpu",
        "--policy",
        "cheapest",
        "-M",
        "c1,c2",
        "--mem=4G",
        "--parsable",
        "--input-stage=s:/p",
        "--comment",
        "--policy",
        "--test-only",
        "-N2",
        "--wait",
    ]
    assert passthrough(argv) == ["-p", "gpu", "--mem=4G", "--comment", "--policy", "-N2"]


def test_short_clusters_split_only_when_needed() -> None:
    assert passthrough(["-HN", "2"]) == ["-HN", "2"]
    assert passthrough(["-WHN", "2"]) == ["-H", "-N", "2"]
    assert passthrough(["-vHN2"]) == ["-H", "-N2"]
    assert passthrough(["-vW"]) == []


def test_spec_from_parse_passes_the_users_words() -> None:
    spec = parse_sbatch(
        ["--part=debug", "--hedge=2", "-t", "10", "--cpu-mode=core"],
        "#!/bin/sh\n#SBATCH --policy=fastest\nrun\n",
    )
    assert slurm_passthrough_args(spec) == ["--part=debug", "-t", "10"]
    assert spec.script == "#!/bin/sh\n#SBATCH --policy=fastest\nrun\n"
