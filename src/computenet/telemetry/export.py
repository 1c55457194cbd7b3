"""Bulk export of telemetry and accounting tables: pages of rows for the API,
and Parquet files (pyarrow) written from those pages."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from computenet.errors import SpecError
from computenet.store.tables_accounting import UsageRecordRow
from computenet.store.tables_telemetry import JobSampleRow, NodeSampleRow, PartitionSampleRow

#: name -> (table, key column, time column)
TABLES: dict[str, tuple[Any, Any, Any]] = {
    "node_samples": (NodeSampleRow, NodeSampleRow.id, NodeSampleRow.time),
    "job_samples": (JobSampleRow, JobSampleRow.id, JobSampleRow.time),
    "partition_samples": (PartitionSampleRow, PartitionSampleRow.id, PartitionSampleRow.time),
    "usage_records": (UsageRecordRow, UsageRecordRow.attempt_id, UsageRecordRow.end_time),
}


def page(
    session: Session, table: str, *, since: float, until: float, after: int, limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    """Rows with key > ``after`` and time in [since, until), and the next cursor."""
    if table not in TABLES:
        raise SpecError(f"unknown table {table!r}; one of {', '.join(TABLES)}")
    model, key, when = TABLES[table]
    columns = list(model.__table__.columns)
    rows = [
        dict(zip([c.name for c in columns], r, strict=True))
        for r in session.execute(
            select(*columns)
            .where(key > after, when >= since, when < until)
            .order_by(key)
            .limit(limit)
        )
    ]
    cursor = rows[-1][key.name] if len(rows) == limit else None
    return rows, cursor


def write_parquet(pages: Iterable[list[dict[str, Any]]], path: Path) -> int:
    """Write pages of rows to one Parquet file; returns the row count."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise SpecError("Parquet export needs pyarrow: pip install pyarrow") from exc
    writer = None
    count = 0
    try:
        for rows in pages:
            if not rows:
                continue
            batch = pa.Table.from_pylist(rows)
            if writer is None:
                writer = pq.ParquetWriter(str(path), batch.schema)
            writer.write_table(batch.cast(writer.schema))
            count += len(rows)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        pq.write_table(pa.table({}), str(path))
    return count


def iter_pages(
    session: Session, table: str, *, since: float, until: float, limit: int = 50_000
) -> Iterator[list[dict[str, Any]]]:
    after = -1
    while True:
        rows, cursor = page(session, table, since=since, until=until, after=after, limit=limit)
        yield rows
        if cursor is None:
            return
        after = cursor
