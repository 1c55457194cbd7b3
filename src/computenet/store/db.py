"""Engine, sessions and schema migration for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as SQLTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from computenet.errors import StoreError
from computenet.store.breaker import Breaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: a new PostgreSQL connection that takes longer than this has failed
CONNECT_TIMEOUT_S = 5
#: SQLSTATEs that mean the server went away or is not ready (class 08, 57P0x)
_OUTAGE_STATES = ("08", "57P01", "57P02", "57P03")
#: connections kept open (SQLite opens more when busy, and closes them after)
SQLITE_POOL_SIZE = 16
#: each SQLite connection's page cache (SQLite's default: 2,000 KiB). Every
#: pooled connection fills its own, so the server's memory grew by the pool
#: size times this under listings of a large store, for no speed: the pages
#: are in the operating system's file cache as well.
SQLITE_CACHE_KIB = 256
#: prepared statements each SQLite connection keeps (Python's default: 128).
#: One takes about 22 KiB of SQLite's memory, and listings with IN lists of
#: every length make distinct statements enough to fill any cache, so the
#: default held about 2.8 MiB per pooled connection.
SQLITE_CACHED_STATEMENTS = 32
#: PostgreSQL connections beyond the 10 kept open, at busy times
PG_MAX_OVERFLOW = 40

log = logging.getLogger("computenet.store")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
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
            connect_args={
                "check_same_thread": False,
                "timeout": 10,
                "cached_statements": SQLITE_CACHED_STATEMENTS,
            },
            json_deserializer=_json_loads,
            pool_size=SQLITE_POOL_SIZE,
            max_overflow=-1,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # pool_pre_ping: a connection that died with a restarted server is replaced
    # before use instead of failing the request that drew it from the pool.
    # max_overflow: room for every request thread (anyio's pool: 40) and the
    # event loop at once; idle connections beyond pool_size are closed.
    return create_engine(
        url,
        pool_size=10,
        max_overflow=PG_MAX_OVERFLOW,
        pool_timeout=10,
        pool_pre_ping=True,
        json_deserializer=_json_loads,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def is_outage(exc: DBAPIError, *, sqlite: bool) -> bool:
    """True when the error says the database server cannot be reached (as
    opposed to a refused statement, a deadlock or a locked SQLite file)."""
    if sqlite:
        return False
    if exc.connection_invalidated:
        return True
    state = getattr(exc.orig, "sqlstate", None)
    return state is None or str(state).startswith(_OUTAGE_STATES)


class Store:
    """The database. ``session()`` commits on success and rolls back on error.

    A database found unreachable opens the ``breaker``: sessions then fail
    at once with a transient ``StoreError`` carrying ``retry_after_s``, until
    a call gets through again (``store.breaker``).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.breaker = Breaker()
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
        checked_at = self.breaker.check()
        session = self._sessions()
        try:
            yield session
            session.commit()
        except (OperationalError, InterfaceError) as exc:
            with contextlib.suppress(SQLAlchemyError):
                session.rollback()
            raise self._translate(exc) from exc
        except SQLTimeoutError as exc:
            session.rollback()
            raise StoreError("the database is busy: no connection free; try again") from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            with contextlib.suppress(SQLAlchemyError):
                session.close()
        if self.breaker.failing and self.breaker.succeeded(checked_at):
            log.warning("database reachable again")

    def _translate(self, exc: DBAPIError) -> StoreError:
        reason = _first_line(exc.orig if exc.orig is not None else exc)
        if not is_outage(exc, sqlite=self.is_sqlite):
            return StoreError(f"database error: {reason}")
        was_failing = self.breaker.failing
        wait = self.breaker.failed(reason)
        if not was_failing:
            log.warning("database unreachable: %s", reason)
        return StoreError(
            f"database unreachable ({reason}); retry in {max(1, round(wait))} s",
            retry_after_s=wait,
        )

    def close(self) -> None:
        self.engine.dispose()
