"""Sending a written attempt to its cluster, once.

The attempt row (tag, no native id) is written before any cluster is asked;
``submit`` then asks the cluster whether the tag exists (``find``) and
submits only if not, so a crash between the two never runs a job twice.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from computenet.errors import ClusterError
from computenet.model import AttemptRequest, JobSpec, JobState
from computenet.store import jobs as repo
from computenet.store.tables import AttemptRow, JobRow

if TYPE_CHECKING:
    from computenet.core.controller import Controller

#: Set in every job's environment: the name of the cluster it runs on.
CLUSTER_VARIABLE = "CN_CLUSTER"
#: a job in these states goes QUEUED once its attempt is confirmed at the cluster
WAITING = (JobState.PENDING.value, JobState.STAGING_IN.value)


def attempt_request(
    ctrl: Controller,
    job: JobRow,
    *,
    tag: str,
    number: int,
    cluster: str,
    partition: str | None,
    spec: JobSpec,
) -> AttemptRequest:
    """What the cluster is asked to run for attempt ``number`` of ``job``."""
    return AttemptRequest(
        tag=tag,
        job_id=str(job.id),
        attempt=number,
        spec=spec,
        partition=partition,
        owner=job.owner,
        array_job_id=str(job.array_job_id) if job.array_job_id is not None else None,
        array_task_id=job.array_task_id,
        identity=ctrl.tenancy.identity(cluster, job.project),
        project=job.project,
    )


async def submit_copy(ctrl: Controller, job_id: int, attempt_id: int) -> None:
    """Submit (or find) one written attempt, e.g. a hedge copy after a crash."""
    with ctrl.store.session() as s:
        a = s.get(AttemptRow, attempt_id)
        job = repo.get_job(s, job_id)
        if a is None or a.native_id is not None or a.state != "PENDING":
            return
        cluster = a.cluster
        request = attempt_request(
            ctrl,
            job,
            tag=a.tag,
            number=a.number,
            cluster=cluster,
            partition=a.partition,
            spec=JobSpec.from_dict(job.spec),
        )
    await submit(ctrl, job_id, cluster, request)


def attempt_row(s: Session, job_id: int, number: int) -> AttemptRow | None:
    return s.scalar(
        select(AttemptRow).where(AttemptRow.job_id == job_id, AttemptRow.number == number)
    )


def on_cluster(request: AttemptRequest, cluster: str) -> AttemptRequest:
    """The request with ``CN_CLUSTER`` (the cluster's name in this network) in
    the job's environment: a catalogue script picks its install setup by it."""
    spec = request.spec
    if spec.environment.get(CLUSTER_VARIABLE) == cluster:
        return request
    env = {**spec.environment, CLUSTER_VARIABLE: cluster}
    return replace(request, spec=replace(spec, environment=env))


async def submit(ctrl: Controller, job_id: int, cluster: str, request: AttemptRequest) -> None:
    from computenet.core.hedge import is_moved, live_copies

    adapter = ctrl.adapters.get(cluster)
    if adapter is None:
        return  # removed meanwhile; the attempt is resolved with its cluster
    request = on_cluster(request, cluster)
    now = ctrl.clock.now()
    try:
        native = await adapter.find(request.tag)
        if native is None:
            native = await adapter.submit(request)
    except ClusterError as exc:
        ctrl.clusters.failed(cluster, exc)
        with ctrl.store.session() as s:
            job = repo.get_job(s, job_id)
            attempt = attempt_row(s, job_id, request.attempt)
            current = job.attempt_count == request.attempt
            if exc.transient:
                if current and job.state == JobState.PENDING.value:
                    repo.update_fields(s, job, now=now, reason=f"ClusterUnavailable: {exc}")
                return
            if attempt is not None:
                attempt.state, attempt.reason, attempt.end_time = "FAILED", str(exc), now
            if not current or JobState(job.state).terminal:
                return
            other = next(
                (a for a in live_copies(s, job_id) if not is_moved(a)),
                None,
            )
            if other is not None:  # another copy of a hedged job carries on
                repo.update_fields(
                    s,
                    job,
                    now=now,
                    attempt_count=other.number,
                    cluster=other.cluster,
                    partition=other.partition,
                )
                if other.native_id is not None and job.state in WAITING:
                    repo.transition(
                        s, job, JobState.QUEUED, now=now, reason=None, attempt=other.number
                    )
                return
            repo.transition(
                s,
                job,
                JobState.FAILED,
                now=now,
                reason=f"{cluster}: {exc}",
                attempt=request.attempt,
                end_time=now,
            )
        return
    ctrl.clusters.succeeded(cluster)
    with ctrl.store.session() as s:
        job = repo.get_job(s, job_id)
        attempt = attempt_row(s, job_id, request.attempt)
        if attempt is None:
            return
        attempt.native_id = native
        if attempt.state == "PENDING":
            attempt.state = JobState.QUEUED.value
        if job.attempt_count == request.attempt and job.state in WAITING:
            repo.transition(s, job, JobState.QUEUED, now=now, reason=None, attempt=request.attempt)
