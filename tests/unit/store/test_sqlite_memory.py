"""What each pooled SQLite connection may hold in memory: a small page
cache, so the server's memory does not grow with the pool times SQLite's
default of 2,000 KiB."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from computenet.store.db import SQLITE_CACHE_KIB, make_engine


def test_every_pooled_connection_has_the_small_page_cache(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        with engine.connect() as one, engine.connect() as two:
            for conn in (one, two):
                assert conn.execute(text("PRAGMA cache_size")).scalar() == -SQLITE_CACHE_KIB
    finally:
        engine.dispose()
