"""What an embedded cluster does with each option."""

from __future__ import annotations

import pytest

from computenet.errors import UnsupportedOption
from computenet.model.cluster import ClusterInfo, NodeType, PartitionInfo
from computenet.model.spec import JobSpec
from computenet.spec import check_embedded, parse_sbatch

PART = PartitionInfo("cpu", NodeType(cores=4, features=("avx2", "ib")), nodes=2, default=True)
EMBEDDED = ClusterInfo("local", "embedded", (PART,))
SLURM = ClusterInfo("c1", "slurm", (PART,))


def spec_of(argv: list[str], script: str = "#!/bin/sh\nrun\n") -> JobSpec:
    return parse_sbatch(argv, script)


def test_harmless_options_are_noted() -> None:
    spec = spec_of(
        ["--mail-type=END", "--nice=5"], "#!/bin/sh\n#SBATCH --mail-user=a@b --mail-type=ALL\nrun\n"
    )
    checked = check_embedded(spec, EMBEDDED)
    assert checked.ignored == (
        "--mail-user=a@b: ignored on embedded clusters (no mail)",
        "--mail-type=END: ignored on embedded clusters (no mail)",
        "--nice=5: ignored on embedded clusters (no priority adjustment)",
    )
    assert check_embedded(spec, SLURM) is spec


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--reservation=maint"], "--reservation=maint: no reservations"),
        (["--licenses=matlab:1"], "--licenses=matlab:1: no license counting"),
        (["--container=/img"], "no OCI container runtime"),
        (["-w", "node7"], "--nodelist=node7: named hosts do not exist here"),
        (["--gres=gpu:1,craynetwork:1"], "only gpu resources exist here"),
        (["-C", "a100"], "--constraint=a100: no node type here has these features"),
        (["-C", "avx2&a100"], "no node type here has these features"),
    ],
)
def test_refused_options_name_the_option_and_cluster(argv: list[str], message: str) -> None:
    with pytest.raises(UnsupportedOption, match=message) as info:
        check_embedded(spec_of(argv), EMBEDDED)
    assert "embedded cluster 'local'" in info.value.message
    assert check_embedded(spec_of(argv), SLURM) is not None


def test_constraints_that_match_are_honoured() -> None:
    for text in ("avx2", "avx2&ib", "a100|ib", "avx2,ib"):
        assert check_embedded(spec_of(["-C", text]), EMBEDDED).ignored == ()


def test_exclusive_user_is_noted_and_sdk_specs_are_checked_by_field() -> None:
    assert check_embedded(spec_of(["--exclusive=user"]), EMBEDDED).ignored == (
        "--exclusive=user: treated as --exclusive on embedded clusters",
    )
    with pytest.raises(UnsupportedOption, match="no reservations"):
        check_embedded(JobSpec(command="x", reservation="r"), EMBEDDED)
