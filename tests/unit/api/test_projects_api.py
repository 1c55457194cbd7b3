"""Projects, members and roles as users meet them: accounts, listings, cancels."""

from __future__ import annotations

from typing import Any

import pytest

from computenet.client import Client
from computenet.errors import (
    ComputeNetError,
    ConflictError,
    ForbiddenError,
    InfeasibleError,
    NotFoundError,
    SpecError,
)

from .conftest import TOKEN, ClockedServer

HELD = ["--wrap", "true", "--hold"]


def _team(server: ClockedServer) -> dict[str, Client]:
    admin = server.client(TOKEN)
    admin.add_project("chem", description="chemistry")
    admin.add_project("bio")
    people = {"admin": admin}
    for name, project, role in (
        ("alice", "chem", "member"),
        ("mia", "chem", "member"),
        ("carol", "chem", "manager"),
        ("vic", "chem", "viewer"),
        ("bob", "bio", "member"),
    ):
        people[name] = server.client(admin.add_user(name, project=project, role=role)["token"])
    return people


def _ids(jobs: Any) -> list[int]:
    return sorted(j["id"] for j in jobs)


def test_account_picks_the_project_and_another_projects_account_stores_nothing(
    clocked: ClockedServer,
) -> None:
    t = _team(clocked)
    t["admin"].add_member("bio", "alice", "member")
    own = t["alice"].submit(options=HELD)
    other = t["alice"].submit(options=[*HELD, "--account", "bio"])
    assert (own["project"], other["project"]) == ("chem", "bio")
    assert t["alice"].submit(options=HELD, test_only=True)["project"] == "chem"
    for who, account, words in (
        ("bob", "chem", "not a member of project chem"),
        ("vic", "chem", "viewer in project chem"),
        ("vic", None, "viewer in project chem"),  # a viewer's default project
    ):
        opts = [*HELD, "--account", account] if account else HELD
        with pytest.raises(ForbiddenError) as err:
            t[who].submit(options=opts)
        assert words in err.value.message
        with pytest.raises(ForbiddenError):
            t[who].submit_many([{"options": opts}])
    script = "#!/bin/sh\n#SBATCH --account=chem\ntrue\n"
    with pytest.raises(ForbiddenError):
        t["bob"].submit(script=script, options=["--hold"])
    assert _ids(t["admin"].jobs(all=True, all_users=True)) == [own["id"], other["id"]]
    with pytest.raises(NotFoundError):  # an admin's account must exist
        t["admin"].submit(options=[*HELD, "--account", "nowhere"])


def test_listings_members_see_their_own_managers_and_viewers_the_project(
    clocked: ClockedServer,
) -> None:
    t = _team(clocked)
    a = t["alice"].submit(options=HELD)["id"]
    m = t["mia"].submit(options=HELD)["id"]
    b = t["bob"].submit(options=HELD)["id"]
    assert _ids(t["alice"].jobs(all=True)) == [a]
    assert _ids(t["alice"].jobs(all=True, all_users=True)) == [a]
    assert _ids(t["alice"].jobs(all=True, project="chem")) == [a]
    assert _ids(t["alice"].jobs(all=True, user="mia")) == []
    for viewer in ("carol", "vic"):
        assert _ids(t[viewer].jobs(all=True)) == []  # their own: none
        assert _ids(t[viewer].jobs(all=True, project="chem")) == [a, m]
        assert _ids(t[viewer].jobs(all=True, user="mia")) == [m]
        assert _ids(t[viewer].jobs(all=True, all_users=True)) == [a, m]
        assert _ids(t[viewer].jobs(all=True, project="bio")) == []
        assert t[viewer].job(a)["owner"] == "alice"
    assert _ids(t["admin"].jobs(all=True, all_users=True)) == [a, m, b]
    with pytest.raises(NotFoundError):
        t["mia"].job(a)


def test_managers_cancel_their_projects_jobs_viewers_cannot(clocked: ClockedServer) -> None:
    t = _team(clocked)
    a = t["alice"].submit(options=HELD)["id"]
    with pytest.raises(ForbiddenError) as err:
        t["vic"].cancel(a)
    assert "you have viewer" in err.value.message
    with pytest.raises(NotFoundError):
        t["mia"].cancel(a)
    with pytest.raises(NotFoundError):
        t["bob"].post("/jobs:cancel", {"ids": [str(a)]})
    assert t["alice"].job(a)["state"] == "PENDING"
    assert t["carol"].cancel(a)["results"][0]["changed"] is True
    assert t["alice"].job(a)["state"] == "CANCELLED"


def test_members_are_managed_by_managers_and_roles_apply_at_once(clocked: ClockedServer) -> None:
    t = _team(clocked)
    carol, alice = t["carol"], t["alice"]
    alice.whoami()  # cached by the server before the change
    with pytest.raises(ForbiddenError):
        alice.add_member("chem", "bob", "member")
    with pytest.raises(ForbiddenError):  # managing chem gives nothing in bio
        carol.add_member("bio", "alice", "viewer")
    carol.add_member("chem", "alice", "viewer")
    assert alice.whoami()["projects"] == [{"name": "chem", "role": "viewer"}]
    with pytest.raises(ForbiddenError):
        alice.submit(options=HELD)
    carol.add_member("chem", "alice", "member")
    carol.add_member("chem", "bob", "viewer")
    assert {m["user"]: m["role"] for m in t["vic"].members("chem")} == {
        "alice": "member",
        "bob": "viewer",
        "carol": "manager",
        "mia": "member",
        "vic": "viewer",
    }
    carol.remove_member("chem", "bob")
    with pytest.raises(NotFoundError):
        carol.remove_member("chem", "bob")
    with pytest.raises(NotFoundError):
        carol.add_member("chem", "nobody", "member")
    with pytest.raises(ForbiddenError):
        t["bob"].project("chem")
    assert [p["name"] for p in t["bob"].projects()] == ["bio"]
    assert {p["name"] for p in t["admin"].projects()} == {"bio", "chem", "default"}


def test_projects_limit_clusters_and_partitions_with_reasons(clocked: ClockedServer) -> None:
    t = _team(clocked)
    admin, alice = t["admin"], t["alice"]
    admin.set_project("chem", clusters=["beta"])
    plan = alice.submit(options=HELD, test_only=True)["placement"]
    why = {c["cluster"]: c["why_not"] for c in plan["candidates"]}
    assert why["alpha"] == "project chem may not use cluster alpha"
    assert plan["chosen"] == "beta"
    with pytest.raises(InfeasibleError) as err:
        alice.submit(options=[*HELD, "--clusters", "alpha"])
    assert "project chem may not use cluster alpha" in err.value.message
    admin.set_project("chem", clusters=[], partitions=["alpha:cpu"])
    plan = alice.submit(options=[*HELD, "-p", "cheap"], test_only=True)
    # beta has only "cheap", which chem may use (no partition of beta is listed)
    assert plan["placement"]["chosen"] == "beta"
    for bad, words in (
        ({"clusters": ["nowhere"]}, "no cluster named 'nowhere'"),
        ({"partitions": ["alpha:gpu"]}, "cluster alpha has no partition 'gpu'"),
        ({"partitions": ["alpha"]}, "'alpha' is not CLUSTER:PARTITION"),
    ):
        with pytest.raises(ComputeNetError) as exc:
            admin.set_project("chem", **bad)
        assert words in exc.value.message
    assert admin.project("chem")["partitions"] == ["alpha:cpu"]
    with pytest.raises(ConflictError):
        admin.add_project("chem")
    with pytest.raises(ForbiddenError):
        t["carol"].set_project("chem", clusters=[])


def test_a_project_without_an_identity_is_not_placed_where_identities_are_listed(
    clocked: ClockedServer,
) -> None:
    t = _team(clocked)
    admin = t["admin"]
    admin.set_identity("bio", "alpha", user="bio01")
    plan = t["alice"].submit(options=HELD, test_only=True)["placement"]
    why = {c["cluster"]: c["why_not"] for c in plan["candidates"]}
    assert why["alpha"] == "project chem has no identity at cluster alpha"
    assert plan["chosen"] == "beta"
    assert (
        t["bob"].submit(options=[*HELD, "-M", "alpha"], test_only=True)["placement"]["chosen"]
        == "alpha"
    )
    assert [i["user"] for i in t["bob"].identities("bio")] == ["bio01"]
    with pytest.raises(ForbiddenError):
        t["carol"].set_identity("chem", "alpha", user="chem01")
    with pytest.raises(SpecError):
        admin.set_identity("chem", "alpha")  # neither an account nor a key
    with pytest.raises(SpecError):
        admin.set_identity("chem", "nowhere", user="chem01")
    admin.remove_identity("bio", "alpha")
    plan = t["alice"].submit(options=HELD, test_only=True)["placement"]
    assert all(c["why_not"] is None for c in plan["candidates"] if c["cluster"] == "alpha")
    with pytest.raises(NotFoundError):
        admin.remove_identity("bio", "alpha")


def test_users_see_themselves_admins_see_everyone(clocked: ClockedServer) -> None:
    t = _team(clocked)
    assert t["alice"].user("alice")["projects"] == [{"name": "chem", "role": "member"}]
    with pytest.raises(ForbiddenError):
        t["alice"].user("bob")
    with pytest.raises(ForbiddenError):
        t["alice"].users()
    assert [u["name"] for u in t["admin"].users()] == [
        "admin",
        "alice",
        "bob",
        "carol",
        "mia",
        "vic",
    ]
    t["alice"].set_user("alice", display_name="Alice A.")
    with pytest.raises(SpecError):
        t["alice"].set_user("alice", default_project="bio")  # not a member there
    with pytest.raises(ForbiddenError):
        t["alice"].set_user("alice", is_admin=True)
    with pytest.raises(ConflictError):
        t["admin"].set_user("admin", disabled=True)
    with pytest.raises(ConflictError):
        t["admin"].add_user("alice")
    with pytest.raises(ComputeNetError) as err:  # 422 invalid_request
        t["admin"].add_user("Not A Login")
    assert "name:" in err.value.message
