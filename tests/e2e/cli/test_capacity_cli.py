"""`cnet capacity` on the local server's embedded clusters, through the real command."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.cli.conftest import as_json


def test_capacity_table_shows_scale_peak_and_callable(cnet: Any) -> None:
    proc = cnet("capacity", "--shape", "cpus=1", "--horizon", "10m", "--horizon", "1h")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for words in ("total scale", "callable scale", "network", "local-a", "local-b", "10 min"):
        assert words in out
    assert "FLOPs/cycle" in out  # the derivation is shown, not only the number


def test_capacity_json_gives_the_curve_and_caps_embedded_peak_at_the_host(cnet: Any) -> None:
    data = as_json(cnet("capacity", "--json", "--shape", "node"))
    horizons = data["horizons_s"]
    assert horizons[0] == 0 and 86400 in horizons
    host = data["host"]
    assert host["flops_per_cycle"] in (4, 8, 16, 32) and host["cores"] >= 1
    by_name = {c["name"]: c for c in data["clusters"]}
    a = by_name["local-a"]
    assert a["scale"]["cores"] == 8  # the default config: 2 nodes x 4 cores
    # every embedded node type carries the host's clock and FLOPs per cycle
    nt = a["partitions"][0]["node_type"]
    assert nt["flops_per_cycle"] == host["flops_per_cycle"]
    if host["peak_gflops"]:
        assert data["network"]["peak_gflops"] <= host["peak_gflops"] + 1e-6
    curve = [r for r in data["network"]["callable"] if r["shape"] == "node"]
    nodes = [(r["largest"] or {"nodes": 0})["nodes"] for r in curve]
    assert nodes == sorted(nodes)  # a longer horizon never offers less


def test_bad_shape_and_horizon_are_one_line_errors(cnet: Any) -> None:
    proc = cnet("capacity", "--shape", "lots")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "unknown shape" in proc.stderr
    proc = cnet("capacity", "--horizon", "30d", "--json")
    assert proc.returncode == 2
    error = json.loads(proc.stdout)["error"]
    assert error["code"] == "invalid_spec" and "out of range" in error["message"]
