"""`cnet bench run hpl` as a real job on the embedded cluster (a tiny HPL:
N=400, one rank), its result beside the derived peak in `cnet capacity`,
and a failed run (over its time limit) recorded as failed."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from tests.e2e.cli.conftest import as_json

pytestmark = pytest.mark.skipif(
    shutil.which("hpcc") is None or shutil.which("mpirun") is None,
    reason="Debian's hpcc and OpenMPI are not installed",
)


def test_hpl_runs_as_a_job_and_shows_beside_peak(cnet: Any) -> None:
    run = as_json(
        cnet(
            "bench", "run", "hpl", "--cluster", "local-a", "-p", "n=400", "--ntasks=1",
            "--wait", "--json",
        )
    )  # fmt: skip
    assert run["state"] == "completed", run
    assert run["unit"] == "GFLOPS" and run["value"] > 0
    assert (run["cluster"], run["partition"], run["nodes"], run["cpus"]) == (
        "local-a",
        "compute",
        1,
        1,
    )
    assert run["node_type"]["cores"] == 4 and run["node_type"]["flops_per_cycle"] >= 4
    # one CPU's derived peak: clock x FLOPs per cycle; HPL cannot beat it
    nt = run["node_type"]
    assert run["peak_gflops"] == pytest.approx(nt["clock_ghz"] * nt["flops_per_cycle"])
    assert 0 < run["efficiency"] < 1
    data = as_json(cnet("capacity", "--json", "--shape", "node"))
    part = next(c for c in data["clusters"] if c["name"] == "local-a")["partitions"][0]
    (shown,) = part["sustained"]
    assert shown["id"] == run["id"] and shown["figure_text"].endswith("GFLOPS")
    # the run is a catalogue run like any other: its figure and cost per unit of work
    (app,) = [a for a in data["applications"] if a["app"] == "hpl"]
    assert (app["cluster"], app["median_figure"]) == ("local-a", run["value"])
    # the broker now takes local-a's measured speed in place of the configured one
    preview = as_json(cnet("submit", "--test-only", "--json", "--wrap", "true", "--time=10"))
    cands = {c["cluster"]: c for c in preview["placement"]["candidates"]}
    assert cands["local-a"]["speed_source"].startswith("benchmark: hpl")
    assert cands["local-b"]["speed_source"] == "configured speed 0.8"


def test_a_failed_benchmark_is_recorded_as_failed_never_a_number(cnet: Any) -> None:
    proc = cnet(
        "bench", "run", "hpl", "--cluster", "local-b", "-p", "n=4000", "--ntasks=1",
        "--time=0:01", "--wait", "--json",
    )  # fmt: skip
    assert proc.returncode == 1
    run = as_json_any(proc)
    assert run["state"] == "failed" and run["value"] is None
    assert "TIMEOUT" in run["error"]  # N=4000 takes far longer than the 1 s limit
    (listed,) = [r for r in as_json(cnet("bench", "ls", "--json"))["runs"] if r["id"] == run["id"]]
    assert listed["state"] == "failed" and listed["efficiency"] is None


def test_unknown_benchmark_and_cluster_are_clear_errors(cnet: Any) -> None:
    proc = cnet("bench", "run", "linpack")
    assert proc.returncode == 2 and "unknown benchmark 'linpack'" in proc.stderr
    proc = cnet("bench", "run", "stream", "--cluster", "nowhere")
    assert proc.returncode != 0 and "no cluster 'nowhere'" in proc.stderr


def as_json_any(proc: Any) -> Any:
    import json

    return json.loads(proc.stdout)
