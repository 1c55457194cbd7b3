"""A user's active jobs are read through migration 0009's partial index, not
through their whole history, and the migration goes up and down cleanly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, inspect

from computenet.model import JobSpec, JobState
from computenet.store import jobs as repo
from computenet.store.db import MIGRATIONS_DIR, Store

ACTIVE = [s.value for s in JobState if not s.terminal]  # what GET /jobs lists by default


def _store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'jobs.db'}")
    store.migrate()
    with store.session() as s:
        for owner in ("ann", "bob"):
            new = [repo.NewJob(JobSpec(command="true"), owner, "p", JobState.COMPLETED)] * 50
            repo.insert_jobs(s, [*new, repo.NewJob(JobSpec(command="true"), owner, "p")], 1.0)
    return store


def _plans(store: Store, **filters: Any) -> tuple[list[str], list[int]]:
    """The query plan of the statement ``list_jobs`` really sends, and its ids."""
    sent: list[tuple[str, Any]] = []

    def capture(_c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, params))

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        with store.session() as s:
            ids = [j.id for j in repo.list_jobs(s, **filters)]
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
    ((statement, params),) = sent
    with store.engine.connect() as conn:
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).fetchall()
    return [str(r[-1]) for r in rows], ids


def test_a_users_active_jobs_come_from_the_partial_index(tmp_path: Path) -> None:
    store = _store(tmp_path)
    plan, ids = _plans(store, owner="ann", states=ACTIVE, limit=101)
    assert any("ix_jobs_active_owner" in step for step in plan), plan
    assert ids == [51]  # ann's one pending job, none of her 50 finished ones
    plan, ids = _plans(store, owner="bob", states=["COMPLETED"], limit=5)
    assert not any("ix_jobs_active_owner" in step for step in plan)  # not active states
    assert len(ids) == 5
    store.close()


def test_migration_0009_up_and_down(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = store.engine
    command.upgrade(cfg, "0006")
    with store.session() as s:
        repo.insert_jobs(s, [repo.NewJob(JobSpec(command="true"), "ann", "p")], 1.0)

    def names() -> set[str]:
        return {str(i["name"]) for i in inspect(store.engine).get_indexes("jobs")}

    assert "ix_jobs_active_owner" not in names()
    store.migrate()
    assert "ix_jobs_active_owner" in names()
    with store.session() as s:
        assert [j.owner for j in repo.list_jobs(s, owner="ann", states=ACTIVE)] == ["ann"]
    command.downgrade(cfg, "0006")
    assert "ix_jobs_active_owner" not in names()
    store.close()
