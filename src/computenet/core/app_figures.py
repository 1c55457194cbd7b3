"""Recording catalogue runs' performance figures as their attempts complete.

When an attempt of a catalogue job completes, the controller reads the end
of its output through the adapter (``output``), looks for the application's
figure (``apps.figures``) and writes one ``app_figures`` row: the figure, or
no value and a note saying why there is none. It never makes a number up.
Figures with a value feed the broker's measured speeds (``network.app_speed``).

A server stopped between an attempt's end and its figure catches up at its
next start (``catch_up``): completed catalogue attempts of the last day
without a row are read again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select

from computenet.apps.figures import TAIL_BYTES, read_figure
from computenet.errors import ComputeNetError
from computenet.model import AppFigure, JobSpec, JobState, Usage
from computenet.network.app_speed import AppSpeedModel, FigureSample, units_of
from computenet.store import app_figures as repo_figures
from computenet.store.db import Store
from computenet.store.tables import AttemptRow, JobRow
from computenet.store.tables_apps import AppFigureRow

if TYPE_CHECKING:
    from computenet.clusters.base import ClusterAdapter
    from computenet.core.controller import Controller

log = logging.getLogger("computenet.apps")

CHUNK_BYTES = 1 << 20
#: An output longer than this is not read further (its end is not searched).
MAX_READ_BYTES = 64 << 20
CATCH_UP_S = 86400.0
WARM_FIGURES = 500


async def read_tail(adapter: ClusterAdapter, native_id: str, stream: str) -> str:
    """The last ``TAIL_BYTES`` of a job's stream (of its first ``MAX_READ_BYTES``)."""
    kept = bytearray()
    offset = 0
    while offset < MAX_READ_BYTES:
        data = await adapter.output(native_id, stream, offset, CHUNK_BYTES)
        if not data:
            break
        offset += len(data)
        kept += data
        if len(kept) > TAIL_BYTES:
            del kept[: len(kept) - TAIL_BYTES]
        if len(data) < CHUNK_BYTES:
            break
    return kept.decode("utf-8", "replace")


async def _reading(
    adapter: ClusterAdapter | None, native_id: str, figure: AppFigure
) -> tuple[float | None, str | None, str | None]:
    if adapter is None:
        return None, None, "the cluster is no longer configured: its output cannot be read"
    streams = [figure.stream] if figure.stream == "stdout" else [figure.stream, "stdout"]
    note = None
    for stream in streams:  # a job's stderr usually goes to its stdout file
        try:
            text = await read_tail(adapter, native_id, stream)
        except ComputeNetError as exc:
            return None, None, f"the job's {stream} could not be read: {exc.message}"
        got = read_figure(figure, text)
        if got.value is not None:
            return got.value, got.line, None
        note = note or got.note
        if got.line is not None:  # matched, but not a usable number
            return None, got.line, got.note
    return None, None, note


def sample_of(row: AppFigureRow | repo_figures.NewFigure) -> FigureSample | None:
    if row.value is None:
        return None
    units = units_of(row.per, row.cpus, row.gpus, row.nodes)
    return FigureSample(
        app=row.app,
        cluster=row.cluster,
        partition=row.partition,
        value=row.value,
        unit=row.unit,
        higher_is_better=row.higher_is_better,
        per=row.per,
        units=float(units),
        elapsed_s=row.elapsed_s,
        requested_s=row.requested_s,
    )


async def record_completed(
    ctrl: Controller, job_id: int, attempt_id: int, usage: Usage | None = None
) -> bool:
    """Record the figure of one completed attempt of a catalogue job, once.
    True when a row was written (with a value or with a note)."""
    with ctrl.store.session() as s:
        attempt = s.get(AttemptRow, attempt_id)
        job = s.get(JobRow, job_id)
        if attempt is None or job is None or attempt.native_id is None:
            return False
        spec = JobSpec.from_dict(job.spec)
        ref = spec.catalogue
        if ref is None or ref.figure is None:
            return False
        if repo_figures.recorded_attempts(s, [attempt_id]):
            return False
        cluster, native = attempt.cluster, attempt.native_id
        partition = attempt.partition or job.partition or ""
        elapsed = None
        if attempt.start_time is not None and attempt.end_time is not None:
            elapsed = max(0.0, attempt.end_time - attempt.start_time)
        end = attempt.end_time or ctrl.clock.now()
        if usage is None and attempt.usage:
            usage = Usage(**attempt.usage)  # type: ignore[arg-type]
    value, line, note = await _reading(ctrl.adapters.get(cluster), native, ref.figure)
    new = repo_figures.NewFigure(
        attempt_id=attempt_id,
        job_id=job_id,
        app=ref.name,
        app_version=ref.version,
        cluster=cluster,
        partition=partition,
        nodes=usage.nodes if usage else spec.node_count,
        cpus=usage.cpus if usage else spec.cpus,
        gpus=usage.gpus if usage else spec.total_gpus,
        value=value,
        unit=ref.figure.unit,
        higher_is_better=ref.figure.higher_is_better,
        per=ref.figure.per,
        line=line,
        note=note,
        elapsed_s=elapsed,
        requested_s=float(spec.time_limit_s) if spec.time_limit_s else None,
        recorded_at=end,
    )
    with ctrl.store.session() as s:
        written = repo_figures.record(s, new)
    if not written:
        return False
    sample = sample_of(new)
    if sample is not None:
        ctrl.app_speed.observe(sample)
    else:
        log.info("job %s (%s on %s): no performance figure: %s", job_id, ref.name, cluster, note)
    return True


async def catch_up(ctrl: Controller, now: float, limit: int = 200) -> int:
    """Record the figures of catalogue attempts that completed in the last
    day without one (a server stopped in between). Returns how many."""
    with ctrl.store.session() as s:
        rows = list(
            s.execute(
                select(AttemptRow.id, AttemptRow.job_id, JobRow.spec)
                .join(JobRow, JobRow.id == AttemptRow.job_id)
                .where(
                    AttemptRow.state == JobState.COMPLETED.value,
                    AttemptRow.end_time >= now - CATCH_UP_S,
                    AttemptRow.native_id.is_not(None),
                )
                .order_by(AttemptRow.id.desc())
                .limit(limit * 20)
            )
        )
        todo = [(a, j) for a, j, spec in rows if spec.get("catalogue")]
        done = repo_figures.recorded_attempts(s, [a for a, _ in todo])
    count = 0
    for attempt_id, job_id in todo[:limit]:
        if attempt_id not in done and await record_completed(ctrl, job_id, attempt_id):
            count += 1
    return count


def evidence(rows: list[AppFigureRow]) -> list[str]:
    """A catalogue job's figures as diagnosis evidence lines."""
    out = []
    for r in rows:
        if r.value is not None:
            out.append(f"performance figure: {r.value:.6g} {r.unit} on {r.cluster}")
        else:
            out.append(f"no performance figure was recorded: {r.note}")
    return out


def warm(model: AppSpeedModel, store: Store, limit: int = WARM_FIGURES) -> int:
    """Feed the model the last ``limit`` figures; returns how many it took."""
    with store.session() as s:
        rows = repo_figures.recent(s, limit)
    taken = 0
    for row in rows:
        sample = sample_of(row)
        if sample is not None and model.observe(sample):
            taken += 1
    return taken
