"""/bench/runs over a real HTTP server on fake clusters: a run is an ordinary
job; one whose output holds no figure settles as failed, with no number."""

from __future__ import annotations

import time

import pytest

from computenet.client import Client
from computenet.errors import NotFoundError, SpecError


def _settled(client: Client, run_id: int) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while True:
        run = client.bench_run_status(run_id)
        if run["state"] != "submitted" or time.monotonic() > deadline:
            return run  # type: ignore[no-any-return]
        time.sleep(0.1)


def test_a_run_without_a_figure_is_failed_and_never_a_number(alice: Client) -> None:
    body = alice.bench_run("hpl", cluster="beta", params={"n": 500})
    run, job = body["run"], body["job"]
    assert run["state"] == "submitted" and run["requested_cluster"] == "beta"
    assert alice.job(job["id"])["spec"]["app"] == "hpl", alice.job(job["id"])  # a catalogue job
    alice.wait(job["id"], timeout_s=30)
    done = _settled(alice, run["id"])
    # a fake cluster runs nothing: its output has no HPL line
    assert done["state"] == "failed" and done["value"] is None and done["efficiency"] is None
    assert done["cluster"] == "beta" and done["error"]
    assert [r["id"] for r in alice.bench_runs()] == [run["id"]]
    data = alice.capacity(["node"], ["0"])
    beta = next(c for c in data["clusters"] if c["name"] == "beta")
    (shown,) = beta["partitions"][0]["sustained"]
    assert shown["state"] == "failed" and shown["figure_text"] == "failed"


def test_unknown_benchmark_cluster_and_run_are_clear_errors(alice: Client) -> None:
    with pytest.raises(SpecError, match="unknown benchmark"):
        alice.bench_run("linpack")
    with pytest.raises(NotFoundError, match="no cluster 'gamma'"):
        alice.bench_run("stream", cluster="gamma")
    with pytest.raises(NotFoundError):
        alice.bench_run_status(999)
    assert alice.bench_runs() == []  # nothing was stored
