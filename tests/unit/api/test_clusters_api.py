"""/clusters over a real HTTP server: list, add at run time, remove, and the
checks that keep a bad request from adding anything."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from computenet.client import Client
from computenet.core.runtime import Runtime
from computenet.errors import ConflictError, ForbiddenError, NotFoundError, SpecError

GAMMA: dict[str, Any] = {
    "name": "gamma",
    "kind": "fake",
    "site": "far",
    "region": "eu",
    "price_per_core_hour": 0.005,
    "partitions": [{"name": "p", "nodes": 1, "cores": 8, "default": True}],
}


def names(client: Client) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in client.clusters()}


def wait_state(client: Client, job_id: int, states: set[str]) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while True:
        job = client.job(job_id)
        if job["state"] in states:
            return dict(job)
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def test_list_shows_health_capacity_prices_and_source(admin: Client) -> None:
    rows = names(admin)
    assert set(rows) == {"alpha", "beta"}
    alpha = rows["alpha"]
    assert (alpha["health"], alpha["source"], alpha["reason"]) == ("UP", "config", None)
    assert alpha["cpus_total"] == 8 and alpha["jobs_pending"] == 0
    assert alpha["partitions"][0]["price_per_core_hour"] == 0.04
    assert alpha["features"]["mpi"] is not None  # the fake cluster says why not


def test_added_cluster_runs_jobs_and_survives_a_restart(
    admin: Client, live: Any, tmp_path: Path
) -> None:
    row = admin.post("/clusters", GAMMA)
    assert (row["name"], row["health"], row["source"]) == ("gamma", "UP", "api")
    gamma = names(admin)["gamma"]
    assert gamma["site"] == "far" and gamma["partitions"][0]["price_per_core_hour"] == 0.005
    job = admin.submit(script=None, options=["--wrap", "sleep 1", "-M", "gamma", "-t", "1"])
    done = wait_state(admin, job["id"], {"COMPLETED", "FAILED"})
    assert (done["state"], done["cluster"]) == ("COMPLETED", "gamma")
    again = Runtime(live.runtime.settings)
    try:
        assert again.cluster_sources["gamma"] == "api"
        assert "gamma" in again.adapters
    finally:
        again.store.close()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({**GAMMA, "name": "bad name!"}, "name"),
        ({**GAMMA, "name": ""}, "name"),
        ({"name": "s1", "kind": "slurm"}, "--slurm-conf"),
        ({"name": "s1", "kind": "slurm", "ssh": "root@host:notaport"}, "ssh target"),
        ({"name": "s1", "kind": "slurm", "slurm_conf": "/x", "price_per_core_hour": -1}, "price"),
        ({"name": "s1", "kind": "kubernetes"}, "kind"),
        ({**GAMMA, "partitions": []}, "partition"),
        ({**GAMMA, "surprise": 1}, "surprise"),
    ],
)
def test_bad_requests_add_nothing(admin: Client, body: dict[str, Any], words: str) -> None:
    with pytest.raises(SpecError) as err:
        admin.post("/clusters", body)
    assert words in err.value.message
    assert "\n" not in err.value.message
    assert set(names(admin)) == {"alpha", "beta"}


def test_names_are_unique_and_only_admins_add(admin: Client, alice: Client) -> None:
    with pytest.raises(ConflictError, match="already exists"):
        admin.post("/clusters", {**GAMMA, "name": "alpha"})
    with pytest.raises(ForbiddenError):
        alice.post("/clusters", GAMMA)
    with pytest.raises(ForbiddenError):
        alice.delete("/clusters/alpha")


def test_unreachable_slurm_cluster_is_added_down_with_the_reason(
    admin: Client, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "slurm.conf"
    row = admin.post("/clusters", {"name": "hpc", "kind": "slurm", "slurm_conf": str(missing)})
    assert row["health"] == "DOWN"
    assert row["reason"]
    listed = names(admin)["hpc"]
    assert listed["health"] == "DOWN" and listed["reason"] and listed["source"] == "api"
    job = admin.submit(script=None, options=["--wrap", "sleep 1", "-t", "1"])
    done = wait_state(admin, job["id"], {"COMPLETED"})
    assert done["cluster"] in ("alpha", "beta")  # the DOWN cluster takes nothing
    assert admin.delete("/clusters/hpc") == {"name": "hpc", "requeued": []}
    assert "hpc" not in names(admin)


def test_remove_refuses_live_jobs_unless_forced_then_requeues(admin: Client) -> None:
    admin.post("/clusters", GAMMA)
    job = admin.submit(script=None, options=["--wrap", "sleep 300", "-t", "10", "-M", "gamma"])
    wait_state(admin, job["id"], {"RUNNING"})
    with pytest.raises(ConflictError) as err:
        admin.delete("/clusters/gamma")
    assert "1 live job" in err.value.message and "--force" in err.value.message
    assert "gamma" in names(admin)
    result = admin.delete("/clusters/gamma?force=true")
    assert result["requeued"] == [job["id"]]
    moved = admin.job(job["id"])
    assert moved["attempts"][0]["state"] == "CANCELLED"
    events = admin.events(job["id"])
    assert any(
        (e["reason"] or "").startswith("REQUEUED_FAILOVER: cluster gamma removed") for e in events
    )
    # pinned to gamma, which is gone: it waits and says why, nothing is lost
    assert moved["state"] == "PENDING"
    admin.cancel(job["id"])


def test_configured_and_unknown_clusters_cannot_be_removed(admin: Client) -> None:
    with pytest.raises(ConflictError, match="configuration file"):
        admin.delete("/clusters/alpha")
    with pytest.raises(NotFoundError):
        admin.delete("/clusters/nope")
