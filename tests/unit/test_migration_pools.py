"""Migration 0006 (pool tables) on a database made by the revision before it:
the jobs already there survive, and the new tables work."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, select

from computenet.model import JobSpec
from computenet.store import jobs as repo
from computenet.store.db import MIGRATIONS_DIR, Store
from computenet.store.tables_pools import PoolNodeRow

PREVIOUS = "0003"  # the newest revision before 0006 on this branch


def test_upgrade_keeps_existing_jobs(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = store.engine
    command.upgrade(cfg, PREVIOUS)
    assert not inspect(store.engine).has_table("pool_nodes")
    with store.session() as s:
        (row,) = repo.create_jobs(s, [repo.NewJob(JobSpec(command="true"), "ann", "p")], 1.0)
        job_id = row.id
    store.migrate()
    assert inspect(store.engine).has_table("pool_nodes")
    assert inspect(store.engine).has_table("pool_events")
    with store.session() as s:
        assert repo.get_job(s, job_id).owner == "ann"
        s.add(
            PoolNodeRow(
                pool="p",
                cluster="c",
                name="n1",
                state="up",
                price_per_node_hour=1.0,
                requested_at=0.0,
            )
        )
    with store.session() as s:
        assert [r.name for r in s.scalars(select(PoolNodeRow))] == ["n1"]
    command.downgrade(cfg, PREVIOUS)
    assert not inspect(store.engine).has_table("pool_nodes")
    store.close()
