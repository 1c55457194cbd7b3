"""Active attempts: ask each cluster for the state of its jobs and apply it.

Statuses are fetched in one batched call per cluster. A job with several
live copies goes through ``core.hedge`` first; the job then follows its
current attempt. A node lost under a job (NODE_FAIL, PREEMPTED) sends it back
to placement up to ``MAX_ATTEMPTS`` times.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from dataclasses import asdict
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computenet.core import app_figures, speeds, staging_steps
from computenet.errors import ClusterError, ComputeNetError, ConflictError
from computenet.model import AttemptStatus, JobSpec, JobState
from computenet.store import jobs as repo
from computenet.store.tables import AttemptRow, JobRow

if TYPE_CHECKING:
    from computenet.core.controller import Controller

MAX_ATTEMPTS = 3
#: jobs read per query when sorting out the unchanged ones
CHUNK = 500


def node_losses(s: Session, job_id: int) -> int:
    """Attempts of this job that ended because nodes were lost under them."""
    return int(
        s.scalar(
            select(func.count())
            .select_from(AttemptRow)
            .where(
                AttemptRow.job_id == job_id,
                AttemptRow.state.in_([JobState.NODE_FAIL.value, JobState.PREEMPTED.value]),
            )
        )
        or 0
    )


async def poll_active(ctrl: Controller) -> None:
    with ctrl.store.session() as s:
        rows = list(
            s.execute(
                select(
                    AttemptRow.id, AttemptRow.cluster, AttemptRow.native_id, AttemptRow.job_id
                ).where(
                    AttemptRow.state.in_(["QUEUED", "RUNNING"]),
                    AttemptRow.native_id.is_not(None),
                )
            )
        )
    by_cluster: dict[str, list[tuple[int, str, int]]] = defaultdict(list)
    for attempt_id, cluster, native, job_id in rows:
        by_cluster[cluster].append((attempt_id, str(native), job_id))
    found: dict[int, dict[int, AttemptStatus]] = defaultdict(dict)  # job -> attempt -> status
    for cluster, items in by_cluster.items():
        adapter = ctrl.adapters.get(cluster)
        if adapter is None or ctrl.clusters.is_down(cluster):
            continue
        try:
            answers = await adapter.status(list(dict.fromkeys(n for _, n, _ in items)))
        except ClusterError as exc:
            ctrl.clusters.failed(cluster, exc)
            continue
        ctrl.clusters.succeeded(cluster)
        for attempt_id, native, job_id in items:
            status = answers.get(native)
            if status is not None:
                found[job_id][attempt_id] = status
    with ctrl.store.session() as s:
        quiet = unchanged(s, found)
    for job_id, statuses in found.items():
        if job_id in quiet:
            continue
        # The pass runs on the event loop: let waiting requests in between jobs.
        await asyncio.sleep(0)
        try:
            await poll_one(ctrl, job_id, statuses)
        except ConflictError:
            continue  # changed meanwhile (a cancel, say): the next pass looks again


async def poll_one(ctrl: Controller, job_id: int, statuses: dict[int, AttemptStatus]) -> None:
    """Apply what the clusters said of one job's live attempts."""
    from computenet.core import hedge

    todo: list[tuple[int, str]] = []
    with ctrl.store.session() as s:
        job = repo.get_job(s, job_id)
        current = repo.latest_attempt(s, job)
        extra = current is None or any(a != current.id for a in statuses)
        several = extra or len(hedge.live_copies(s, job_id)) > 1
    if several:
        todo = await hedge.resolve(ctrl, job_id, statuses)
    with ctrl.store.session() as s:
        job = repo.get_job(s, job_id)
        current = repo.latest_attempt(s, job)
        mine = None if current is None else statuses.get(current.id)
        at = None if current is None else current.cluster
    if mine is not None and at is not None:
        await apply_status(ctrl, at, job_id, mine)
    if todo:
        await hedge.cancel_copies(ctrl, todo)
    if several:
        with ctrl.store.session() as s:
            now_state = repo.get_job(s, job_id).state
            ended = JobState(now_state).terminal or now_state == JobState.STAGING_OUT.value
        if ended:  # the job just ended: its other copies go too
            await hedge.cancel_copies(ctrl, await hedge.resolve(ctrl, job_id, {}))


def unchanged(s: Session, found: dict[int, dict[int, AttemptStatus]]) -> set[int]:
    """The jobs of ``found`` that a pass leaves as they are: one live
    attempt, the job's current one, reported in the state already stored and
    not ended. ``apply_status`` would return at once for each; telling them
    apart here costs two queries per thousand jobs instead of seven per job,
    which with hundreds of running jobs was most of every pass."""
    from computenet.core.hedge import LIVE_ATTEMPT

    out: set[int] = set()
    ids = list(found)
    for first in range(0, len(ids), CHUNK):
        chunk = ids[first : first + CHUNK]
        counts: dict[int, int] = {
            job_id: count
            for job_id, count in s.execute(
                select(JobRow.id, JobRow.attempt_count).where(JobRow.id.in_(chunk))
            )
        }
        live: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
        for job_id, attempt_id, number, state in s.execute(
            select(AttemptRow.job_id, AttemptRow.id, AttemptRow.number, AttemptRow.state).where(
                AttemptRow.job_id.in_(chunk), AttemptRow.state.in_(LIVE_ATTEMPT)
            )
        ):
            live[job_id].append((attempt_id, number, state))
        for job_id in chunk:
            copies = live.get(job_id, [])
            if len(copies) != 1:
                continue
            attempt_id, number, state = copies[0]
            status = found[job_id].get(attempt_id)
            if (
                number == counts.get(job_id)
                and len(found[job_id]) == 1
                and status is not None
                and status.state.value == state
                and not status.state.terminal
            ):
                out.add(job_id)
    return out


async def apply_status(ctrl: Controller, cluster: str, job_id: int, status: AttemptStatus) -> None:
    now = ctrl.clock.now()
    state = status.state
    usage = None
    if state.terminal:
        adapter = ctrl.adapters.get(cluster)
        with contextlib.suppress(ComputeNetError):
            if adapter is not None:
                usage = (await adapter.usage([status.native_id])).get(status.native_id)
    stage_out = False
    completed = None  # a catalogue job's attempt that completes now
    with ctrl.store.session() as s:
        job = repo.get_job(s, job_id)
        attempt = repo.latest_attempt(s, job)
        if attempt is None or attempt.native_id != status.native_id or attempt.cluster != cluster:
            return  # an older attempt; its job moved on
        if attempt.state == state.value and not state.terminal:
            return
        if state == JobState.COMPLETED and attempt.state != state.value:
            completed = attempt.id if job.spec.get("catalogue") else None
        attempt.state = state.value
        if not (attempt.reason or "").startswith(("REQUEUED_FAILOVER", "hedge copy")):
            attempt.reason = status.reason  # a move's reason is worth more than Slurm's
        attempt.start_time = status.start_time or attempt.start_time
        attempt.node_list = status.node_list or attempt.node_list
        if state.terminal:
            attempt.end_time = status.end_time or now
            attempt.exit_code = status.exit_code
            if state == JobState.COMPLETED:
                speeds.observe(
                    ctrl.speed,
                    JobSpec.from_dict(job.spec),
                    cluster,
                    attempt.start_time,
                    attempt.end_time,
                )
            if usage is not None:
                attempt.usage = asdict(usage)
        if JobState(job.state).terminal:
            return
        if state == JobState.RUNNING and job.state != JobState.RUNNING.value:
            repo.transition(
                s,
                job,
                JobState.RUNNING,
                now=now,
                reason=None,
                attempt=attempt.number,
                start_time=status.start_time or now,
            )
        elif (
            state in (JobState.NODE_FAIL, JobState.PREEMPTED)
            and node_losses(s, job.id) < MAX_ATTEMPTS
            and not job.cancel_requested
        ):
            repo.transition(
                s,
                job,
                JobState.PENDING,
                now=now,
                attempt=attempt.number,
                reason=f"REQUEUED_FAILOVER: {state.value} on {cluster}",
            )
            ctrl.wake()
        elif state.terminal and staging_steps.needs_stage_out(JobSpec.from_dict(job.spec), attempt):
            staging_steps.begin_stage_out(s, job, attempt, now)
            stage_out = True
        elif state.terminal:
            repo.transition(
                s,
                job,
                state,
                now=now,
                attempt=attempt.number,
                reason=status.reason,
                exit_code=status.exit_code,
                end_time=status.end_time or now,
                start_time=job.start_time or status.start_time,
            )
    if completed is not None:  # a catalogue run's figure, once its state is stored
        await app_figures.record_completed(ctrl, job_id, completed, usage)
    if stage_out:
        ctrl.staging.start(job_id, JobState.STAGING_OUT.value)
