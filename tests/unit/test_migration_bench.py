"""Migration 0010 (bench_runs) on a database at main's head 0006: jobs there
survive, the new table works, and downgrading removes it."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, select

from computenet.model import JobSpec
from computenet.store import jobs as repo
from computenet.store.db import MIGRATIONS_DIR, Store
from computenet.store.tables_bench import BenchRunRow


def test_upgrade_adds_bench_runs_and_keeps_jobs(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = store.engine
    command.upgrade(cfg, "0006")
    assert not inspect(store.engine).has_table("bench_runs")
    with store.session() as s:
        (row,) = repo.create_jobs(s, [repo.NewJob(JobSpec(command="true"), "ann", "p")], 1.0)
        job_id = row.id
    store.migrate()
    assert inspect(store.engine).has_table("bench_runs")
    with store.session() as s:
        assert repo.get_job(s, job_id).owner == "ann"
        s.add(
            BenchRunRow(
                benchmark="hpl",
                job_id=job_id,
                owner="ann",
                state="submitted",
                submitted_at=1.0,
                unit="GFLOPS",
            )
        )
    with store.session() as s:
        assert [r.benchmark for r in s.scalars(select(BenchRunRow))] == ["hpl"]
    command.downgrade(cfg, "0006")
    assert not inspect(store.engine).has_table("bench_runs")
    store.close()
