"""Persistence: SQLAlchemy tables, Alembic migrations, repositories."""
