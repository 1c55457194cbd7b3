"""The store behaves the same on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from computenet.errors import ConflictError, NotFoundError
from computenet.model import ArraySpec, JobSpec, JobState
from computenet.store import jobs as repo
from computenet.store.db import Store

pytestmark = pytest.mark.integration


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cn.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    s = Store(url)
    s.migrate()
    s.migrate()  # idempotent
    return s


def test_jobs_events_and_cursor(store: Store) -> None:
    with store.session() as s:
        rows = repo.create_jobs(
            s,
            [repo.NewJob(JobSpec(name=f"j{i}", command="true"), "alice", "p") for i in range(30)],
            1.0,
        )
        arr = repo.create_jobs(
            s,
            [
                repo.NewJob(
                    JobSpec(name="a", command="true", array=ArraySpec((1, 3, 5), None, "1,3,5")),
                    "alice",
                    "p",
                )
            ],
            2.0,
        )
    ids = [r.id for r in rows]
    assert ids == sorted(ids) and len(set(ids)) == 30
    assert [r.array_job_id for r in arr] == [arr[0].id] * 3
    with store.session() as s:
        page = repo.list_jobs(s, owner="alice", after_id=ids[9], limit=5)
        assert [r.id for r in page] == ids[10:15]
        assert repo.list_jobs(s, owner="bob") == []
        job = repo.get_job(s, ids[0])
        repo.transition(s, job, JobState.QUEUED, now=3.0, reason="placed")
        repo.transition(s, job, JobState.RUNNING, now=4.0, start_time=4.0)
    with store.session() as s:
        assert [(e.from_state, e.to_state) for e in repo.events(s, ids[0])] == [
            (None, "PENDING"),
            ("PENDING", "QUEUED"),
            ("QUEUED", "RUNNING"),
        ]
        assert repo.get_job(s, ids[0]).version == 3
        with pytest.raises(NotFoundError):
            repo.get_job(s, 10**9)


def test_compare_and_set_lets_exactly_one_writer_win(store: Store) -> None:
    with store.session() as s:
        (row,) = repo.create_jobs(s, [repo.NewJob(JobSpec(command="true"), "a", "p")], 1.0)
    job_id = row.id
    barrier = threading.Barrier(8)
    wins: list[str] = []
    losses: list[str] = []

    def move(target: JobState) -> None:
        with store.session() as s:
            job = repo.get_job(s, job_id)
            barrier.wait()
            try:
                repo.transition(s, job, target, now=2.0, reason=target.value)
                wins.append(target.value)
            except ConflictError:
                losses.append(target.value)

    targets = [JobState.CANCELLED, JobState.QUEUED] * 4
    threads = [threading.Thread(target=move, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1 and len(losses) == 7
    with store.session() as s:
        job = repo.get_job(s, job_id)
        assert job.state == wins[0] and job.version == 2
        assert len(repo.events(s, job_id)) == 2


def test_a_lost_compare_and_set_leaves_the_sessions_other_writes(store: Store) -> None:
    """One job that moved meanwhile is the caller's to handle: the writes the
    same session made to other jobs before it still commit."""
    with store.session() as s:
        first, second = repo.create_jobs(
            s, [repo.NewJob(JobSpec(command="true"), "a", "p") for _ in range(2)], 1.0
        )
    with store.session() as s:
        jobs = [repo.get_job(s, first.id), repo.get_job(s, second.id)]
        with store.session() as other:  # commits before our session writes
            repo.update_fields(other, repo.get_job(other, second.id), now=2.0, reason="moved")
        repo.update_fields(s, jobs[0], now=3.0, cancel_requested=True)
        with pytest.raises(ConflictError):
            repo.update_fields(s, jobs[1], now=3.0, cancel_requested=True)
        s.refresh(jobs[1])
        repo.update_fields(s, jobs[1], now=3.0, cancel_requested=True)
    with store.session() as s:
        assert repo.get_job(s, first.id).cancel_requested
        assert repo.get_job(s, second.id).cancel_requested
        assert repo.get_job(s, second.id).reason == "moved"
