"""One user's objects are invisible to another: for jobs, array elements,
logs, events, placements, diagnoses, transfers, tokens, usage and statements,
another user's object answers exactly as an object that does not exist
(same status, same message but for the id), and lists never hold them."""

from __future__ import annotations

import re
from typing import Any

import httpx2
import pytest

from computenet.client import Client

MISSING = 987654  # an id nothing has


def _answer(http: httpx2.Client, method: str, path: str, **kw: Any) -> tuple[int, str]:
    resp = http.request(method, "/api/v1" + path, **kw)
    try:
        body = resp.json()
    except ValueError:
        body = None
    text = (
        str(body["error"].get("message"))
        if isinstance(body, dict) and isinstance(body.get("error"), dict)
        else resp.text
    )
    return resp.status_code, text


def _same_as_missing(
    http: httpx2.Client, method: str, template: str, real: str, missing: str, **kw: Any
) -> list[str]:
    """Whether asking for ``real`` tells anything that asking for ``missing`` does not."""
    got = _answer(http, method, template.format(real), **kw)
    none = _answer(http, method, template.format(missing), **kw)
    shown = (got[0], re.sub(re.escape(real), "<id>", got[1]))
    hidden = (none[0], re.sub(re.escape(missing), "<id>", none[1]))
    if shown != hidden or got[0] != 404:
        return [f"{method} {template.format(real)}: {got} but for a missing one {none}"]
    return []


@pytest.fixture
def world(live: Any, admin: Client, alice: Client, bob: Client) -> dict[str, Any]:
    admin.post("/sites", {"name": "scratch", "kind": "path", "config": {"root": "/tmp"}})
    done = alice.submit(options=["--wrap", "echo alice-private-output", "--time=1"])
    array = alice.submit(options=["--wrap", "true", "--array=0-1", "--hold"])
    held = alice.submit(options=["--wrap", "true", "--hold"])
    transfer = alice.post("/transfers", {"source": "scratch:/x", "dest": "local:/tmp/y"})
    token = alice.create_token("laptop")
    final = alice.wait(done["id"], timeout_s=30)
    assert final["state"] == "COMPLETED", final
    return {
        "done": str(done["id"]),
        "element": f"{array['id']}_1",
        "held": str(held["id"]),
        "transfer": str(transfer["id"]),
        "token": str(token["id"]),
    }


def _http(live: Any, client: Client) -> httpx2.Client:
    token = client._http.headers["Authorization"]
    return httpx2.Client(base_url=live.url, headers={"Authorization": token}, timeout=30)


JOB_READS = ["/jobs/{}", "/jobs/{}/events", "/jobs/{}/placement", "/jobs/{}/logs"]
JOB_READS += ["/jobs/{}/diagnosis"]


def test_another_users_objects_answer_as_missing_ones(
    live: Any, alice: Client, bob: Client, world: dict[str, Any]
) -> None:
    problems: list[str] = []
    with _http(live, alice) as mine:  # the owner does reach every one of them
        for template in JOB_READS:
            for key in ("done", "element"):
                status, text = _answer(mine, "GET", template.format(world[key]))
                if key == "element" and template.endswith("placement"):
                    continue  # a held element is not placed; its owner gets a 404 too
                assert status == 200, (template, key, status, text)
        assert _answer(mine, "GET", f"/transfers/{world['transfer']}")[0] == 200
    with _http(live, bob) as other:
        for template in JOB_READS:
            for key in ("done", "element"):
                problems += _same_as_missing(other, "GET", template, world[key], str(MISSING))
        problems += _same_as_missing(other, "POST", "/jobs/{}/cancel", world["held"], str(MISSING))
        problems += _same_as_missing(
            other,
            "POST",
            "/transfers/{}/events",
            world["transfer"],
            str(MISSING),
            json={"state": "running"},
        )
        problems += _same_as_missing(other, "GET", "/transfers/{}", world["transfer"], str(MISSING))
        problems += _same_as_missing(other, "DELETE", "/tokens/{}", world["token"], str(MISSING))
    assert not problems, "\n".join(problems)
    # nothing happened to them
    assert alice.job(world["held"])["state"] == "PENDING"
    assert any(t["id"] == int(world["token"]) for t in alice.get("/tokens")["tokens"])


def test_bulk_cancel_and_dependencies_do_not_reveal_another_users_jobs(
    live: Any, alice: Client, bob: Client, world: dict[str, Any]
) -> None:
    with _http(live, bob) as other:
        real = _answer(other, "POST", "/jobs:cancel", json={"ids": [world["held"]]})
        none = _answer(other, "POST", "/jobs:cancel", json={"ids": [str(MISSING)]})
        assert real[0] == none[0] == 404
        assert real[1].replace(world["held"], "<id>") == none[1].replace(str(MISSING), "<id>")

        def depend(job: str) -> tuple[int, Any]:
            body = {"options": ["--wrap", "true", "--dependency", f"afterok:{job}"]}
            resp = other.post("/api/v1/jobs", json=body)
            assert resp.status_code == 201, resp.text
            return resp.json()["id"], job

        # a dependency on a job bob cannot see ends as one on a job that does not exist
        ends = {}
        for job_id, named in (depend(world["done"]), depend(str(MISSING))):
            final = bob.wait(job_id, timeout_s=30)
            ends[named] = (final["state"], str(final["reason"]).replace(named, "<id>"))
        assert ends[world["done"]] == ends[str(MISSING)], ends
        assert ends[str(MISSING)][0] == "CANCELLED"
    assert alice.job(world["held"])["state"] == "PENDING"


def test_an_owner_may_depend_on_their_own_jobs(
    live: Any, alice: Client, world: dict[str, Any]
) -> None:
    after = alice.submit(options=["--wrap", "true", f"--dependency=afterok:{world['done']}"])
    assert alice.wait(after["id"], timeout_s=30)["state"] == "COMPLETED"


def test_lists_hold_only_what_the_caller_may_see(
    live: Any, alice: Client, bob: Client, world: dict[str, Any]
) -> None:
    mine = {str(j["id"]) for j in alice.jobs(all=True)}
    assert {world["done"], world["held"]} <= mine
    others = list(bob.jobs(all=True)) + list(bob.jobs(all=True, all_users=True))
    assert not {str(j["id"]) for j in others} & mine
    assert not {str(j["id"]) for j in bob.jobs(all=True, user="alice")} & mine
    assert world["transfer"] not in {str(t["id"]) for t in bob.get("/transfers")["transfers"]}
    assert world["token"] not in {str(t["id"]) for t in bob.get("/tokens")["tokens"]}


def test_usage_and_statements_of_another_project_answer_as_a_missing_project(
    live: Any, admin: Client, alice: Client, bob: Client, world: dict[str, Any]
) -> None:
    with _http(live, bob) as other:
        for path in ("/usage", "/usage/sacct"):
            real = _answer(other, "GET", path, params={"project": "chem"})
            none = _answer(other, "GET", path, params={"project": "nosuchproject"})
            assert real[0] == none[0] and real[0] in (403, 404), (path, real, none)
            assert real[1].replace("chem", "<p>") == none[1].replace("nosuchproject", "<p>")
    # bob's own statement and lines hold nothing of alice's
    text = str(bob.get("/usage")) + str(bob.get("/usage/sacct"))
    assert "alice" not in text
