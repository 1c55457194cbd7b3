"""The controller's staging steps: a job's inputs to its cluster's site before
it is queued there, and its outputs back after it ends.

A copy can take far longer than a pass, so each runs as a background task
(one per job) and the pass goes on:

- placed, with inputs: the attempt rows are written, the job goes
  STAGING_IN and a task copies the inputs (``core.staging.stage_in``); then
  it submits the written attempts as any placed job (``find(tag)`` first).
  A failed copy fails the job (``stage-in failed: ...``) and its attempts;
  nothing was submitted.
- ended (any terminal state except a cancel before start), with outputs: the
  attempt keeps its state, the job goes STAGING_OUT, a task copies the
  outputs back, then the job takes the attempt's state, exit code and end
  time. A failed copy keeps that state; the reason says ``stage-out failed``.

Both copies resume (``core.staging``), so a job found in a staging state with
no task (a restart) simply gets a new one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from computenet.core import images, staging, submission
from computenet.errors import ComputeNetError, ConflictError
from computenet.model import JobSpec, JobState
from computenet.network import ClusterView
from computenet.store import jobs as repo
from computenet.store.tables import AttemptRow, JobRow

if TYPE_CHECKING:
    from computenet.core.controller import Controller

log = logging.getLogger("computenet.staging")

STAGING = (JobState.STAGING_IN.value, JobState.STAGING_OUT.value)


def views_for(
    ctrl: Controller, spec: JobSpec, views: Sequence[ClusterView]
) -> tuple[list[ClusterView], int]:
    """The views with each cluster's link to the job's inputs (None where every
    input already sits at the cluster's site), and the inputs' size in bytes."""
    link = ctrl.settings.staging_bandwidth_bytes_per_s
    out = list(views)
    if spec.container_image:
        out = [
            replace(
                v, image_staging_s=images.missing_bytes(ctrl.settings, spec, v.info.site) / link
            )
            for v in out
        ]
    if not spec.inputs:
        return out, 0
    size = staging.input_bytes(ctrl.store, spec)
    sites = {s.site for s in spec.inputs}
    out = [replace(v, bandwidth_bytes_per_s=None if sites == {v.info.site} else link) for v in out]
    return out, size


def needs_stage_in(ctrl: Controller, spec: JobSpec, site: str | None) -> bool:
    """Inputs to copy, or the job's image missing from its cluster's site."""
    if spec.inputs:
        return True
    return bool(spec.container_image and site and images.missing_bytes(ctrl.settings, spec, site))


def site_of(ctrl: Controller, cluster: str) -> str | None:
    st = ctrl.clusters.status.get(cluster)
    return None if st is None or st.info is None else st.info.site


def begin_stage_in(ctrl: Controller, s: Session, job: JobRow, spec: JobSpec, now: float) -> None:
    """Move a just-placed job (attempt rows written) to STAGING_IN; the task
    starts once the caller's transaction is committed."""
    site = site_of(ctrl, job.cluster or "") or "?"
    n = len(spec.inputs)
    what = [f"{n} input{'s' if n != 1 else ''}"] if n else []
    if spec.container_image and images.missing_bytes(ctrl.settings, spec, site):
        what.append(f"image {spec.container_image}")
    reason = f"staging {' and '.join(what)} to {site}"
    repo.transition(s, job, JobState.STAGING_IN, now=now, reason=reason, attempt=job.attempt_count)


def needs_stage_out(spec: JobSpec, attempt: AttemptRow) -> bool:
    """Outputs come back after any end but a cancel before the job started."""
    if not spec.outputs:
        return False
    return not (attempt.state == JobState.CANCELLED.value and attempt.start_time is None)


def begin_stage_out(s: Session, job: JobRow, attempt: AttemptRow, now: float) -> None:
    """Move an ended job to STAGING_OUT; its attempt already holds how it ended."""
    n = len(JobSpec.from_dict(job.spec).outputs)
    reason = f"staging {n} output{'s' if n != 1 else ''} back after {attempt.state}"
    repo.transition(
        s,
        job,
        JobState.STAGING_OUT,
        now=now,
        reason=reason,
        attempt=attempt.number,
        start_time=job.start_time or attempt.start_time,
    )


class StagingTasks:
    """The background copies of one controller, at most one per job."""

    def __init__(self, ctrl: Controller) -> None:
        self.ctrl = ctrl
        self._tasks: dict[int, asyncio.Task[None]] = {}

    def running(self, job_id: int) -> bool:
        return job_id in self._tasks

    def start(self, job_id: int, state: str) -> None:
        if job_id in self._tasks:
            return
        step = self._stage_in if state == JobState.STAGING_IN.value else self._stage_out
        task = asyncio.create_task(step(job_id), name=f"staging job {job_id}")
        self._tasks[job_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(job_id, None))

    def resume(self) -> None:
        """Give every job in a staging state without a task its task (after a restart)."""
        with self.ctrl.store.session() as s:
            rows = list(s.execute(select(JobRow.id, JobRow.state).where(JobRow.state.in_(STAGING))))
        for job_id, state in rows:
            self.start(job_id, state)

    async def wait(self) -> None:
        """Until every copy started so far has finished."""
        while self._tasks:
            await asyncio.wait(list(self._tasks.values()))

    async def stop(self) -> None:
        """Stop the copies; they resume when the controller starts again."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # ----- the steps ----------------------------------------------------
    async def _stage_in(self, job_id: int) -> None:
        ctrl = self.ctrl
        with ctrl.store.session() as s:
            job = repo.get_job(s, job_id)
            if job.state != JobState.STAGING_IN.value:
                return
            spec = JobSpec.from_dict(job.spec)
            attempts = [(a.id, a.cluster) for a in _unsent_rows(s, job_id)]
        error = None
        try:
            if not spec.workdir:
                raise ComputeNetError("the job has no working directory to stage into")
            for site in dict.fromkeys(site_of(ctrl, cluster) for _, cluster in attempts):
                if site is None:
                    raise ComputeNetError("its cluster is not known any more")
                await images.stage_image(
                    ctrl.store, ctrl.settings, spec, job_id=str(job_id), site=site
                )
                await staging.stage_in(
                    ctrl.store, spec, job_id=str(job_id), site=site, workdir=spec.workdir
                )
        except ComputeNetError as exc:
            error = f"stage-in failed: {exc.message}"[:500]
        except Exception as exc:  # a broken copy must fail the job, not vanish
            log.exception("stage-in of job %s", job_id)
            error = f"stage-in failed: {exc}"[:500]
        async with ctrl.lock:
            with ctrl.store.session() as s:
                job = repo.get_job(s, job_id)
                if job.state != JobState.STAGING_IN.value:
                    return  # cancelled or moved meanwhile
                if error is not None:
                    _fail(s, job, error, ctrl.clock.now())
                    return
            for attempt_id, _ in attempts:
                await submission.submit_copy(ctrl, job_id, attempt_id)
        ctrl.wake()

    async def _stage_out(self, job_id: int) -> None:
        ctrl = self.ctrl
        with ctrl.store.session() as s:
            job = repo.get_job(s, job_id)
            attempt = repo.latest_attempt(s, job)
            if job.state != JobState.STAGING_OUT.value or attempt is None:
                return
            spec = JobSpec.from_dict(job.spec)
            cluster = attempt.cluster
        error = None
        try:
            site = site_of(ctrl, cluster)
            if site is None:
                raise ComputeNetError(f"cluster {cluster} is not known any more")
            if not spec.workdir:
                raise ComputeNetError("the job has no working directory to stage from")
            await staging.stage_out(
                ctrl.store, spec, job_id=str(job_id), site=site, workdir=spec.workdir
            )
        except ComputeNetError as exc:
            error = f"stage-out failed: {exc.message}"
        except Exception as exc:  # the job must still end
            log.exception("stage-out of job %s", job_id)
            error = f"stage-out failed: {exc}"
        for _ in range(3):
            try:
                _finish(ctrl, job_id, error)
                break
            except ConflictError:
                continue
        ctrl.wake()


def _fail(s: Session, job: JobRow, reason: str, now: float) -> None:
    for a in _unsent_rows(s, job.id):
        a.state, a.reason, a.end_time = JobState.FAILED.value, reason, now
    repo.transition(
        s, job, JobState.FAILED, now=now, reason=reason, attempt=job.attempt_count, end_time=now
    )


def _unsent_rows(s: Session, job_id: int) -> list[AttemptRow]:
    return list(
        s.scalars(
            select(AttemptRow).where(
                AttemptRow.job_id == job_id,
                AttemptRow.state == "PENDING",
                AttemptRow.native_id.is_(None),
            )
        )
    )


def _finish(ctrl: Controller, job_id: int, error: str | None) -> None:
    """The job takes its attempt's end, with the stage-out failure as reason if any."""
    now = ctrl.clock.now()
    with ctrl.store.session() as s:
        job = repo.get_job(s, job_id)
        attempt = repo.latest_attempt(s, job)
        if job.state != JobState.STAGING_OUT.value or attempt is None:
            return
        reason = error if error is not None else attempt.reason
        repo.transition(
            s,
            job,
            JobState(attempt.state),
            now=now,
            reason=reason[:500] if reason else None,
            attempt=attempt.number,
            exit_code=attempt.exit_code,
            end_time=attempt.end_time or now,
        )
