"""The REST API through the SDK, against a real server over fake clusters."""

from __future__ import annotations

import socket
from typing import Any

import httpx2
import pytest

from computenet.client import Client
from computenet.errors import (
    AuthError,
    ForbiddenError,
    InfeasibleError,
    LimitError,
    NotFoundError,
    SpecError,
)

SCRIPT = "#!/bin/bash\n#SBATCH --job-name=hello\n#SBATCH --time=5\necho hello\n"


def test_submit_run_and_show(alice: Client) -> None:
    job = alice.submit(script=SCRIPT, options=["-n", "2"], cwd="/tmp")
    assert job["state"] == "PENDING" and job["name"] == "hello" and job["owner"] == "alice"
    final = alice.wait(job["id"], timeout_s=10)
    assert final["state"] == "COMPLETED"
    assert final["cluster"] in ("alpha", "beta")
    assert final["attempts"][0]["native_id"]
    assert [e["to"] for e in alice.events(job["id"])][:2] == ["PENDING", "QUEUED"]
    why = alice.placement(job["id"])
    assert why["chosen"] == final["cluster"]
    assert {c["cluster"] for c in why["candidates"]} == {"alpha", "beta"}


def test_every_endpoint_needs_a_valid_token(live: Any) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic x"}):
        for method, path in (
            ("GET", "/jobs"),
            ("POST", "/jobs"),
            ("GET", "/clusters"),
            ("GET", "/jobs/1"),
            ("POST", "/jobs/1/cancel"),
        ):
            resp = httpx2.request(
                method,
                live.url + "/api/v1" + path,
                headers=headers,
                json={} if method == "POST" else None,
            )
            assert resp.status_code == 401, (method, path, headers, resp.text)
            assert resp.json()["error"]["code"] == "unauthorized"
    with pytest.raises(AuthError):
        live.client("cn_not_a_token").get("/jobs")


def test_users_cannot_see_or_cancel_each_others_jobs(alice: Client, bob: Client) -> None:
    job = alice.submit(options=["--wrap", "sleep 100", "--time=5"])
    with pytest.raises(ForbiddenError):
        bob.job(job["id"])
    with pytest.raises(ForbiddenError):
        bob.cancel(job["id"])
    with pytest.raises(ForbiddenError):
        bob.logs(job["id"])
    assert [j["id"] for j in bob.jobs(all=True)] == []
    with pytest.raises(ForbiddenError):
        list(bob.jobs(user="alice"))
    assert alice.job(job["id"])["state"] != "CANCELLED"


def test_bad_input_is_refused_and_stores_nothing(alice: Client) -> None:
    cases = [
        ({"options": ["--wrap", "true", "--nodes=abc"]}, SpecError),
        ({"options": ["--no-such-option", "--wrap", "true"]}, SpecError),
        ({"script": "echo no shebang\n"}, SpecError),
        ({"options": ["--wrap", "true", "--ntasks=10000"]}, InfeasibleError),
        ({"options": ["--wrap", "true", "--partition=nope"]}, InfeasibleError),
        ({"script": "#!/bin/sh\n" + "#" * 100_000}, LimitError),
    ]
    for body, error in cases:
        with pytest.raises(error):
            alice.submit(**body)  # type: ignore[arg-type]
    assert list(alice.jobs(all=True)) == []


def test_malformed_and_oversized_requests(live: Any, alice: Client) -> None:
    url = live.url + "/api/v1/jobs"
    headers = {"Authorization": alice._http.headers["Authorization"]}
    assert httpx2.post(url, headers=headers, content=b"{not json").status_code == 422
    resp = httpx2.post(url, headers=headers, json={"script": 5})
    assert resp.status_code == 422 and resp.json()["error"]["code"] == "invalid_request"
    resp = httpx2.post(url, headers=headers, json={"surprise": True})
    assert resp.status_code == 422
    # A client that claims a 1 TiB body is answered at once, before any is read.
    with socket.create_connection(("127.0.0.1", live.port), timeout=5) as sock:
        sock.sendall(
            b"POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: "
            + str(1 << 40).encode()
            + b"\r\nAuthorization: "
            + headers["Authorization"].encode()
            + b"\r\n\r\n{"
        )
        assert sock.recv(100).startswith(b"HTTP/1.1 413")
    assert list(alice.jobs(all=True)) == []


def test_unknown_ids_and_cancel_of_finished_job(alice: Client) -> None:
    with pytest.raises(NotFoundError):
        alice.job(999_999)
    with pytest.raises(NotFoundError):
        alice.job("abc")
    job = alice.submit(options=["--wrap", "true", "--time=1"])
    alice.wait(job["id"], timeout_s=10)
    result = alice.cancel(job["id"])["results"][0]
    assert result["changed"] is False and "already COMPLETED" in result["message"]


def test_list_filters_and_cursor_pagination(alice: Client) -> None:
    ids = alice.submit_many(
        [
            {"options": ["--wrap", "sleep 1000", "--time=60", f"--job-name=n{i % 2}"]}
            for i in range(25)
        ]
    )
    assert len(ids) == 25 and ids == sorted(ids)
    page = alice.get("/jobs", {"limit": 10, "all": True})
    assert len(page["jobs"]) == 10 and page["next_cursor"] == ids[9]
    last = alice.get("/jobs", {"limit": 5, "all": True, "cursor": ids[19]})
    assert [j["id"] for j in last["jobs"]] == ids[20:] and last["next_cursor"] is None
    assert [j["id"] for j in alice.jobs(all=True, page_size=7)] == ids
    assert {j["name"] for j in alice.jobs(name="n1")} == {"n1"}
    assert len(list(alice.jobs(name="n1"))) == 12
    with pytest.raises(SpecError):
        alice.get("/jobs", {"state": "BOGUS"})


def test_list_returns_only_the_fields_asked_for(alice: Client) -> None:
    ids = alice.submit_many([{"options": ["--hold", "-N", "2", "--wrap", "true"]}] * 3)
    full = list(alice.jobs())
    some = list(alice.jobs(fields=["display_id", "nodes", "state"]))
    assert some == [{"display_id": str(i), "nodes": 2, "state": "PENDING"} for i in ids]
    assert [{k: j[k] for k in ("display_id", "nodes", "state")} for j in full] == some
    with pytest.raises(SpecError, match="unknown job field 'spec'"):
        alice.get("/jobs", {"fields": "id,spec"})
    with pytest.raises(SpecError):
        alice.get("/jobs", {"fields": " , "})


def test_bulk_submit_reports_the_bad_job_and_stores_none(alice: Client) -> None:
    jobs = [{"options": ["--wrap", "true"]}] * 3 + [{"options": ["--nodes=x", "--wrap", "t"]}]
    with pytest.raises(SpecError, match="job 3"):
        alice.submit_many(jobs)
    assert list(alice.jobs(all=True)) == []


def test_test_only_validates_without_submitting(alice: Client) -> None:
    out = alice.submit(
        script=SCRIPT, options=["-N", "1", "--mem=2G", "--time=1:00:00"], test_only=True
    )
    spec = out["spec"]
    assert spec["mem_per_node_bytes"] == 2 * 2**30 and spec["time_limit_s"] == 3600
    assert spec["nodes"] == 1 and spec["name"] == "hello" and spec["gres"] is None
    assert out["placement"]["chosen"] in ("alpha", "beta")
    assert list(alice.jobs(all=True)) == []


def test_test_only_of_a_job_nobody_can_run_answers_with_every_reason(alice: Client) -> None:
    out = alice.submit(options=["-c", "500", "--wrap", "true"], test_only=True)
    assert out["spec"]["cpus_per_task"] == 500 and out["runnable"] is False
    placement = out["placement"]
    assert placement["chosen"] is None
    assert {c["cluster"] for c in placement["candidates"]} == {"alpha", "beta"}
    assert all("needs 500 CPUs per task" in c["why_not"] for c in placement["candidates"])
    assert placement["reason"].startswith("no cluster can run this job: ")
    assert list(alice.jobs(all=True)) == []


def test_array_submission_and_array_cancel(alice: Client) -> None:
    job = alice.submit(options=["--array=0-3", "--wrap", "sleep 1000", "--time=60"])
    assert len(job["array_ids"]) == 4
    element = alice.job(f"{job['id']}_2")
    assert element["array_task_id"] == 2 and element["display_id"] == f"{job['id']}_2"
    results = alice.cancel(job["id"])["results"]
    assert len(results) == 4
    for job_id in job["array_ids"]:
        assert alice.wait(job_id, timeout_s=10)["state"] == "CANCELLED"


def test_clusters_listing(alice: Client) -> None:
    rows = {c["name"]: c for c in alice.clusters()}
    assert set(rows) == {"alpha", "beta"}
    assert rows["alpha"]["health"] == "UP"
    assert rows["beta"]["partitions"][0]["price_per_core_hour"] == 0.01
