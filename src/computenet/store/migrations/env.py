"""Alembic environment: the engine is handed in by ``Store.migrate``."""

from __future__ import annotations

from alembic import context

from computenet.store import all_tables  # noqa: F401  (registers every table)
from computenet.store.base import Base

engine = context.config.attributes.get("engine")
if engine is None:  # pragma: no cover - run by the alembic command line
    from computenet.config import load_settings
    from computenet.store.db import make_engine

    engine = make_engine(load_settings().effective_database_url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
