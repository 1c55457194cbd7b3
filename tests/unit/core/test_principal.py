"""Principal: which project a job is charged to, and who sees and changes what."""

from __future__ import annotations

import pytest

from computenet.core.service import Principal, may_change, visible
from computenet.errors import ForbiddenError, NotFoundError
from computenet.store.tables import JobRow

ROLES = {"chem": "member", "bio": "viewer", "lab": "manager"}
ALICE = Principal("alice", project="chem", roles=ROLES)


def job(owner: str, project: str, job_id: int = 7) -> JobRow:
    return JobRow(id=job_id, owner=owner, project=project, array_job_id=None)


def test_account_defaults_to_the_default_project_and_must_allow_submitting() -> None:
    assert ALICE.account_for(None) == "chem"
    assert ALICE.account_for("lab") == "lab"
    with pytest.raises(ForbiddenError) as viewer:
        ALICE.account_for("bio")
    assert "viewer in project bio" in viewer.value.message
    with pytest.raises(ForbiddenError) as stranger:
        ALICE.account_for("phys")
    assert "not a member of project phys" in stranger.value.message
    assert "chem, lab" in stranger.value.message
    admin = Principal("root", is_admin=True, project="default")
    assert admin.account_for("phys") == "phys"


def test_members_see_their_own_jobs_managers_and_viewers_the_projects() -> None:
    visible(job("alice", "chem"), ALICE)
    visible(job("bob", "bio"), ALICE)  # viewer of bio
    visible(job("bob", "lab"), ALICE)  # manager of lab
    with pytest.raises(NotFoundError) as err:
        visible(job("bob", "chem"), ALICE)  # a member sees only their own
    assert err.value.message == "no job 7"
    with pytest.raises(NotFoundError):
        visible(job("bob", "phys"), ALICE)
    visible(job("bob", "phys"), Principal("root", is_admin=True))


def test_owners_and_managers_change_jobs_viewers_may_not() -> None:
    may_change(job("alice", "chem"), ALICE)
    may_change(job("bob", "lab"), ALICE)
    with pytest.raises(ForbiddenError) as err:
        may_change(job("bob", "bio"), ALICE)
    assert (
        "manager role in project bio" in err.value.message
        and "you have viewer" in err.value.message
    )
    with pytest.raises(NotFoundError):
        may_change(job("bob", "chem"), ALICE)


def test_project_wide_lists_manager_and_viewer_projects() -> None:
    assert ALICE.project_wide() == ["bio", "lab"]
    assert ALICE.manages("lab") and not ALICE.manages("chem")
    assert ALICE.sees_project("bio") and not ALICE.sees_project("chem")
