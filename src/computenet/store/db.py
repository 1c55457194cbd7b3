"""Engine, sessions and schema migration for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as SQLTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from computenet.errors import StoreError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: connections kept open (SQLite opens more when busy, and closes them after)
SQLITE_POOL_SIZE = 16
#: PostgreSQL connections beyond the 10 kept open, at busy times
PG_MAX_OVERFLOW = 40


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _json_loads(text: str | bytes) -> Any:
    """JSON columns read with orjson (several times faster than json.loads on
    the thousands of rows a listing reads); json.loads still reads the NaN and
    Infinity that json.dumps may have written."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # No cap on connections (max_overflow=-1): a request thread that
        # holds one while the event loop waits for another would stall
        # every request until the pool's timeout (found under load). A
        # SQLite connection is a file handle, and WAL lets readers run
        # beside the one writer.
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 10},
            json_deserializer=_json_loads,
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=-1,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # Room for every request thread (anyio's pool: 40) and the event loop at
    # once, for the same reason as SQLite's unbounded pool; idle connections
    # beyond pool_size are closed.
    return create_engine(
        url,
        pool_size=10,
        max_overflow=PG_MAX_OVERFLOW,
        pool_timeout=10,
        pool_pre_ping=True,
        json_deserializer=_json_loads,
    )


class Store:
    """The database. ``session()`` commits on success and rolls back on error."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine = make_engine(url)
        except (SQLAlchemyError, ImportError) as exc:
            raise StoreError(f"cannot open database {url!r}: {exc}") from exc
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def migrate(self) -> None:
        """Bring the schema to the newest revision (Alembic)."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.attributes["engine"] = self.engine
        try:
            command.upgrade(cfg, "head")
        except OperationalError as exc:
            raise StoreError(f"cannot migrate database: {exc.orig}") from exc

    @contextmanager
    def session(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            yield session
            session.commit()
        except OperationalError as exc:
            session.rollback()
            raise StoreError(f"database error: {exc.orig}") from exc
        except SQLTimeoutError as exc:
            session.rollback()
            raise StoreError("the database is busy: no connection free; try again") from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def close(self) -> None:
        self.engine.dispose()
