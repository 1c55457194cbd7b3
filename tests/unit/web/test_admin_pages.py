"""Administration in the portal: users, members and roles, budgets, quotas, clusters."""

from __future__ import annotations

from .conftest import Portal, csrf_of


def test_an_admin_adds_a_user_to_a_project_and_sets_its_budget(portal: Portal) -> None:
    b = portal.signed_in("admin")
    page = b.get("/portal/admin")
    assert page.status_code == 200 and 'data-user="alice"' in page.text
    csrf = csrf_of(page.text)
    added = b.post(
        "/portal/admin/add-user",
        data={"csrf": csrf, "name": "carol", "project": "chem", "role": "manager"},
    )
    assert added.status_code == 303
    assert {"user": "carol", "role": "manager"} in [
        {"user": m["user"], "role": m["role"]} for m in portal.admin.members("chem")
    ]
    budget = b.post(
        "/portal/admin/set-budget",
        data={"csrf": csrf, "project": "chem", "amount": "250", "period": "month"},
    )
    assert budget.status_code == 303
    assert [x["amount"] for x in portal.admin.budgets() if x["project"] == "chem"] == [250.0]
    quota = b.post(
        "/portal/admin/set-quota",
        data={"csrf": csrf, "scope": "project", "name": "chem", "max_running_cpus": "16"},
    )
    assert quota.status_code == 303
    assert any(q["name"] == "chem" and q["max_running_cpus"] == 16 for q in portal.admin.quotas())


def test_bad_input_is_a_message_and_changes_nothing(portal: Portal) -> None:
    b = portal.signed_in("admin")
    csrf = csrf_of(b.get("/portal/admin").text)
    resp = b.post(
        "/portal/admin/set-budget", data={"csrf": csrf, "project": "chem", "amount": "lots"}
    )
    assert resp.status_code == 422 and "must be a number" in resp.text
    assert portal.admin.budgets() == []
    nowhere = b.post(
        "/portal/admin/add-cluster", data={"csrf": csrf, "name": "big", "kind": "slurm"}
    )
    assert nowhere.status_code == 422 and "--slurm-conf" in nowhere.text
    assert "big" not in [c["name"] for c in portal.admin.clusters()]


def test_members_cannot_administer(portal: Portal) -> None:
    alice = portal.signed_in("alice")
    assert alice.get("/portal/admin").status_code == 403
    csrf = csrf_of(alice.get("/portal/").text)
    resp = alice.post(
        "/portal/admin/add-user", data={"csrf": csrf, "name": "mallory", "project": "chem"}
    )
    assert resp.status_code == 403
    assert "mallory" not in [u["name"] for u in portal.admin.users()]


def test_a_manager_manages_their_projects_members(portal: Portal) -> None:
    portal.admin.add_member("chem", "bob", "manager")
    bob = portal.signed_in("bob")
    page = bob.get("/portal/admin")
    assert page.status_code == 200 and 'id="users"' not in page.text
    resp = bob.post(
        "/portal/admin/set-member",
        data={"csrf": csrf_of(page.text), "project": "chem", "user": "alice", "role": "viewer"},
    )
    assert resp.status_code == 303
    assert {m["user"]: m["role"] for m in portal.admin.members("chem")}["alice"] == "viewer"


def test_a_drained_cluster_takes_no_new_jobs_until_resumed(portal: Portal) -> None:
    b = portal.signed_in("admin")
    csrf = csrf_of(b.get("/portal/admin").text)
    assert (
        b.post("/portal/admin/drain-cluster", data={"csrf": csrf, "name": "alpha"}).status_code
        == 303
    )
    page = b.get("/portal/admin")
    assert 'data-cluster="alpha"' in page.text and "UP (drained)" in page.text
    alice = portal.sdk["alice"]
    plan = alice.submit(script="#!/bin/sh\ntrue\n", options=["--time=5"], test_only=True)
    why = {c["cluster"]: c["why_not"] for c in plan["placement"]["candidates"]}
    assert why["alpha"] == "alpha is drained" and why["beta"] is None
    assert (
        b.post("/portal/admin/resume-cluster", data={"csrf": csrf, "name": "alpha"}).status_code
        == 303
    )
    plan = alice.submit(script="#!/bin/sh\ntrue\n", options=["--time=5"], test_only=True)
    assert all(c["why_not"] is None for c in plan["placement"]["candidates"])
    unknown = b.post("/portal/admin/drain-cluster", data={"csrf": csrf, "name": "nowhere"})
    assert unknown.status_code == 404 and "no cluster nowhere" in unknown.text
