"""Migration 0005 adds the figures table to a database made by 0003, and
everything already there survives."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from computenet.model import JobSpec
from computenet.store import app_figures
from computenet.store import jobs as repo
from computenet.store.db import MIGRATIONS_DIR, Store


def upgrade(store: Store, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = store.engine
    command.upgrade(cfg, revision)


def check_upgrade_keeps_jobs(url: str) -> None:
    store = Store(url)
    try:
        upgrade(store, "0003")
        assert "app_figures" not in sa.inspect(store.engine).get_table_names()
        with store.session() as s:
            ids = [
                r.id
                for r in repo.create_jobs(
                    s,
                    [
                        repo.NewJob(JobSpec(name=f"old{i}", command="true"), "ann", "p")
                        for i in range(3)
                    ],
                    1.0,
                )
            ]
        store.migrate()
        inspector = sa.inspect(store.engine)
        assert "app_figures" in inspector.get_table_names()
        indexes = {i["name"]: i["unique"] for i in inspector.get_indexes("app_figures")}
        assert indexes["ux_app_figures_attempt"] in (True, 1)
        from computenet.store.tables_apps import AppFigureRow

        table = AppFigureRow.__table__
        columns = {c["name"]: c["nullable"] for c in inspector.get_columns("app_figures")}
        assert columns == {c.name: c.nullable for c in table.columns}  # type: ignore[attr-defined]
        with store.session() as s:
            assert [repo.get_job(s, i).name for i in ids] == ["old0", "old1", "old2"]
            new = app_figures.NewFigure(
                attempt_id=1, job_id=ids[0], app="lammps", app_version="1", cluster="c",
                partition="p", nodes=1, cpus=2, gpus=0, value=5.0, unit="tau/day",
                higher_is_better=True, per="cpu", line="x", note=None, elapsed_s=1.0,
                requested_s=60.0, recorded_at=2.0,
            )  # fmt: skip
            assert app_figures.record(s, new) is True
            assert app_figures.record(s, new) is False  # one figure per attempt
        with store.session() as s:
            assert [r.value for r in app_figures.for_job(s, ids[0])] == [5.0]
    finally:
        store.close()


def test_upgrade_from_0003_on_sqlite(tmp_path: Path) -> None:
    check_upgrade_keeps_jobs(f"sqlite:///{tmp_path / 'old.db'}")
