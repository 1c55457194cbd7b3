"""/capacity over a real HTTP server: any signed-in user sees the network's
scale and callable scale; bad shapes and horizons are refused with a reason."""

from __future__ import annotations

import pytest

from computenet.client import Client
from computenet.errors import SpecError


def test_any_user_sees_scale_and_callable_per_partition_and_network(alice: Client) -> None:
    data = alice.capacity(["node", "cpus=2"], ["0", "1h"])
    assert data["shapes"] == ["node", "cpus=2"]
    assert data["horizons_s"] == [0.0, 3600.0]
    by_name = {c["name"]: c for c in data["clusters"]}
    assert by_name["alpha"]["scale"] == {
        "nodes": 2,
        "cores": 8,
        "threads": 8,
        "mem_bytes": 2 * 4 * 2**30,
        "gpus": {},
    }
    assert data["network"]["scale"]["cores"] == 12
    (part,) = by_name["alpha"]["partitions"]
    now = {r["shape"]: r for r in part["callable"] if r["horizon_s"] == 0}
    assert (now["node"]["nodes"], now["node"]["cpus"]) == (2, 8), now["node"]["reason"]
    assert now["cpus=2"]["cpus"] == 4
    best = next(r for r in data["network"]["callable"] if r["shape"] == "node")
    assert best["largest"]["cluster"] == "alpha" and best["total_nodes"] == 3
    # no clock or FLOPs per cycle configured for fake partitions: said, not guessed
    assert part["peak"]["gflops"] is None and "clock_ghz" in part["peak"]["derivation"]


def test_curve_adds_horizons_from_now_to_a_day(alice: Client) -> None:
    data = alice.capacity(curve=True)
    assert data["horizons_s"][0] == 0 and data["horizons_s"][-1] == 86400
    assert len(data["horizons_s"]) >= 10


@pytest.mark.parametrize(
    ("shapes", "horizons", "words"),
    [
        (["huge"], [], "unknown shape"),
        (["cpus=-1"], [], "whole number"),
        ([], ["8d"], "out of range"),
        ([], ["later"], "invalid horizon"),
    ],
)
def test_bad_shapes_and_horizons_are_clear_errors(
    alice: Client, shapes: list[str], horizons: list[str], words: str
) -> None:
    with pytest.raises(SpecError, match=words):
        alice.capacity(shapes, horizons)
