"""The controller places a project's jobs only where it may run, as its identity there."""

from __future__ import annotations

import pytest

from computenet.core.runtime import Runtime
from computenet.errors import ClusterError
from computenet.model import AttemptRequest, JobSpec
from computenet.model.tenancy import ClusterIdentity
from computenet.store import jobs as repo
from computenet.store import projects
from tests.support.runtime import fake, submit

SPEC = JobSpec(name="j", command="sleep 100", time_limit_s=600)


def _job(rt: Runtime, job_id: int) -> tuple[str, str | None, str | None]:
    with rt.store.session() as s:
        job = repo.get_job(s, job_id)
        return job.state, job.cluster, job.reason


def _setup(rt: Runtime) -> None:
    with rt.store.session() as s:
        for name in ("chem", "bio"):
            projects.ensure_project(s, name, now=rt.clock.now())
        projects.set_identity(
            s,
            ClusterIdentity(cluster="alpha", project="chem", user="chem01"),
            now=rt.clock.now(),
            by="test",
        )


async def test_identities_gate_a_cluster_and_travel_with_the_submission(runtime: Runtime) -> None:
    _setup(runtime)
    runtime.identities_changed()
    (chem,) = submit(runtime, SPEC, owner="alice", project="chem")
    (bio,) = submit(runtime, SPEC, owner="bob", project="bio")
    for _ in range(3):
        await runtime.controller.step()
    assert _job(runtime, chem)[1] == "alpha"  # the faster cluster, where chem has an identity
    assert _job(runtime, bio)[1] == "beta"  # bio has none at alpha
    (request,) = fake(runtime, "alpha").submitted
    assert request.identity is not None and request.identity.user == "chem01"
    assert request.project == "chem"
    (other,) = fake(runtime, "beta").submitted
    assert other.identity is None and other.project == "bio"
    with runtime.store.session() as s:
        placed = repo.get_job(s, bio).placement
    assert placed is not None
    why = {c["cluster"]: c["why_not"] for c in placed["candidates"]}
    assert why["alpha"] == "project bio has no identity at cluster alpha"


async def test_a_project_limited_to_a_cluster_waits_for_it_with_the_reason(
    runtime: Runtime,
) -> None:
    with runtime.store.session() as s:
        projects.add_project(s, "chem", now=runtime.clock.now(), clusters=["beta"])
    (job_id,) = submit(runtime, JobSpec(name="big", command="true", ntasks=8), project="chem")
    await runtime.controller.step()
    state, cluster, reason = _job(runtime, job_id)
    assert (state, cluster) == ("PENDING", None)  # only alpha fits 8 CPUs, and chem may not use it
    assert reason is not None and "project chem may not use cluster alpha" in reason


async def test_a_gated_cluster_refuses_a_submission_without_an_identity(
    runtime: Runtime,
) -> None:
    """As a placement made before the identity was removed would ask it."""
    alpha = fake(runtime, "alpha")
    alpha.use_identities([ClusterIdentity(cluster="alpha", project="chem", user="chem01")])
    request = AttemptRequest(
        tag="t", job_id="1", attempt=1, spec=SPEC, partition=None, owner="bob", project="bio"
    )
    with pytest.raises(ClusterError) as err:
        await alpha.submit(request)
    assert "project bio has no identity at cluster alpha" in err.value.message
    assert alpha.submitted == []
