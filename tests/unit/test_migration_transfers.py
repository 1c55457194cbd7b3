"""Migration 0008 (server-run transfers) on a database made by the revision before
it: transfers already recorded keep their rows and read as run by their client."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from computenet.store.db import MIGRATIONS_DIR, Store
from computenet.transfer import records

PREVIOUS = "0006"


def _columns(store: Store) -> set[str]:
    return {c["name"] for c in inspect(store.engine).get_columns("transfers")}


def test_upgrade_keeps_transfers_and_downgrade_drops_the_columns(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'old.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = store.engine
    command.upgrade(cfg, PREVIOUS)
    assert "runner" not in _columns(store)
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO transfers (id, owner, project, source, dest, state, options, "
                "bytes_total, bytes_sent, files, created_at, updated_at) VALUES "
                "('t1', 'ann', 'p', 'a', 'b', 'completed', '{}', 5, 5, 1, 1.0, 2.0)"
            )
        )
    store.migrate()
    assert {"runner", "bytes_done", "cancel_requested", "manifest"} <= _columns(store)
    with store.session() as s:
        row = records.get_transfer(s, "t1")
        assert (row.owner, row.runner, row.cancel_requested, row.bytes_done) == (
            "ann",
            None,
            False,
            0,
        )
        assert not records.is_server_run(row)
    command.downgrade(cfg, PREVIOUS)
    assert "runner" not in _columns(store)
    store.close()
