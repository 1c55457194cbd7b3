"""Slurm's compressed host lists and counts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from computenet.clusters.embedded.hostlist import (
    compress_counts,
    compress_hostlist,
    expand_hostlist,
)


def test_compress_hostlist_like_slurm() -> None:
    assert compress_hostlist(["a-n1", "a-n2"]) == "a-n[1-2]"
    assert compress_hostlist(["a-n1"]) == "a-n1"
    assert compress_hostlist(["a-n1", "a-n2", "a-n3", "a-n5", "b1"]) == "a-n[1-3,5],b1"
    assert compress_hostlist(["login"]) == "login"


def test_compress_counts_like_slurm_tasks_per_node() -> None:
    assert compress_counts([2, 2]) == "2(x2)"
    assert compress_counts([2, 2, 1]) == "2(x2),1"
    assert compress_counts([4]) == "4"


@given(st.sets(st.integers(min_value=1, max_value=200), min_size=1))
def test_expand_inverts_compress(numbers: set[int]) -> None:
    names = [f"c-n{i}" for i in sorted(numbers)]
    assert expand_hostlist(compress_hostlist(names)) == names
