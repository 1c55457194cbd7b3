"""A runtime over fake clusters on a fake clock, driven pass by pass."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from computenet.clock import FakeClock
from computenet.clusters.fake import FakeCluster
from computenet.config import ClusterConfig, Settings
from computenet.core.runtime import Runtime
from computenet.core.tags import tag_for
from computenet.model import AttemptRequest, JobSpec
from computenet.store import jobs as repo
from computenet.store.tables import AttemptRow, JobRow


@asynccontextmanager
async def fake_runtime(
    root: Path, clock: FakeClock, clusters: Sequence[ClusterConfig], *, auto: bool = True
) -> AsyncIterator[Runtime]:
    """``auto=False``: the fake clusters start nothing unless a test says so."""
    settings = Settings(
        data_dir=root / "data",
        state_dir=root / "state",
        clusters=list(clusters),
        token="cn_test_token",
    )
    adapters = {c.name: FakeCluster(c.to_info(), clock, auto=auto) for c in settings.clusters}
    rt = Runtime(settings, clock=clock, adapters=adapters)  # type: ignore[arg-type]
    await rt.controller.clusters.refresh()
    try:
        yield rt
    finally:
        rt.store.close()


def fake(rt: Runtime, name: str) -> FakeCluster:
    adapter = rt.adapters[name]
    assert isinstance(adapter, FakeCluster)
    return adapter


def submit(rt: Runtime, spec: JobSpec, owner: str = "alice", project: str = "proj") -> list[int]:
    with rt.store.session() as s:
        rows = repo.create_jobs(s, [repo.NewJob(spec, owner, project)], rt.clock.now())
        return [r.id for r in rows]


def attempts(rt: Runtime, job_id: int) -> list[AttemptRow]:
    """The job's attempts, in number order."""
    with rt.store.session() as s:
        return repo.attempts(s, [job_id])[job_id]


def job(rt: Runtime, job_id: int) -> JobRow:
    with rt.store.session() as s:
        return repo.get_job(s, job_id)


def write_unsent_attempt(
    rt: Runtime, job_id: int, number: int, cluster: str, partition: str, *, current: bool = True
) -> None:
    """Write attempt ``number`` as placement does before it asks the cluster
    (its tag, no native id), and with ``current`` make it the job's attempt:
    as if the server died right after."""
    now = rt.clock.now()
    with rt.store.session() as s:
        s.add(
            AttemptRow(
                job_id=job_id,
                number=number,
                cluster=cluster,
                partition=partition,
                tag=tag_for(rt.network_id, job_id, number),
                native_id=None,
                state="PENDING",
                submit_time=now,
            )
        )
        if current:
            row = repo.get_job(s, job_id)
            repo.update_fields(s, row, now=now, attempt_count=number, cluster=cluster)


async def reach_cluster(
    rt: Runtime, job_id: int, number: int, cluster: str, partition: str, spec: JobSpec
) -> str:
    """Submit attempt ``number`` to the fake cluster behind the controller's
    back (a submission that got through unrecorded); its native id."""
    request = AttemptRequest(
        tag=tag_for(rt.network_id, job_id, number),
        job_id=str(job_id),
        attempt=number,
        spec=spec,
        partition=partition,
        owner="alice",
    )
    return await fake(rt, cluster).submit(request)
