"""Pending jobs: which may start, and where each goes.

A placed job's attempt rows are written (tag, no native id) before any
cluster is asked; ``core/submission.py`` then sends each one, once.
"""

from __future__ import annotations

import asyncio
import functools
from collections import defaultdict
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from computenet.core import pool_steps, speeds, staging_steps
from computenet.core.dependencies import dependency_status
from computenet.core.service import embedded_fit
from computenet.core.submission import attempt_request, submit
from computenet.errors import ConflictError
from computenet.model import JobSpec, JobState, SnapshotJob
from computenet.model.tenancy import PROJECT_WIDE_ROLES
from computenet.store import jobs as repo
from computenet.store import projects
from computenet.store.tables import AttemptRow, JobRow
from computenet.store.tables_tenancy import UserRow

if TYPE_CHECKING:
    from computenet.core.controller import Controller
    from computenet.network.bursting import PoolView

BATCH = 500  # jobs placed per pass, so one huge bulk submission does not stall the API


async def place_pending(ctrl: Controller) -> None:
    with ctrl.store.session() as s:
        pending = repo.list_jobs(
            s, states=[JobState.PENDING.value], limit=BATCH, not_reason=repo.HELD
        )
        pending = [j for j in pending if not j.cancel_requested]
        if not pending:
            return
        ready = ready_jobs(ctrl, s, pending)
    if not ready:
        return
    from computenet.core import bench

    benched = bench.broker_speeds(ctrl.store, ctrl.clusters.infos(), ctrl.clock.now())
    views = speeds.with_speed(
        await ctrl.clusters.views(with_snapshots=True), ctrl.speed, ctrl.app_speed, benched
    )
    pools = ctrl.pools.views({n: v.snapshot for n, v in views.items()}) if ctrl.pools else {}
    for job_id in ready:
        try:
            await advance_pending(ctrl, job_id, views, pools)
        except ConflictError:
            continue  # someone changed it (cancel); the next pass sees the new state
        await asyncio.sleep(0)


def ready_jobs(ctrl: Controller, s: Session, pending: list[JobRow]) -> list[int]:
    """Ids of pending jobs whose dependencies and array limits allow a start."""
    now = ctrl.clock.now()
    ready = []
    active_by_array: dict[int, int] = defaultdict(int)
    arrays = {j.array_job_id for j in pending if j.array_job_id is not None}
    if arrays:
        for row in s.scalars(
            select(JobRow).where(
                JobRow.array_job_id.in_(arrays),
                JobRow.state.in_(["QUEUED", "RUNNING", "STAGING_IN"]),
            )
        ):
            assert row.array_job_id is not None
            active_by_array[row.array_job_id] += 1
    for job in pending:
        spec = JobSpec.from_dict(job.spec)
        if spec.hold or (spec.begin_time is not None and spec.begin_time > now):
            continue
        if spec.dependency:
            deps = {}
            for dep in spec.dependency:
                for ident in dep.job_ids:
                    deps[ident] = dependency_rows(s, ident, job.owner)
            singleton = (
                any(d.kind.value == "singleton" for d in spec.dependency)
                and s.scalar(
                    select(JobRow.id).where(
                        JobRow.name == job.name,
                        JobRow.owner == job.owner,
                        JobRow.id != job.id,
                        JobRow.state.in_(["QUEUED", "RUNNING", "STAGING_IN"]),
                    )
                )
                is not None
            )
            ok, never = dependency_status(spec.dependency, deps, singleton)
            if never is not None:
                repo.transition(s, job, JobState.CANCELLED, now=now, reason=never, end_time=now)
                continue
            if not ok:
                if job.reason != "Dependency":
                    repo.update_fields(s, job, now=now, reason="Dependency")
                continue
        if job.array_job_id is not None and spec.array and spec.array.max_running:
            if active_by_array[job.array_job_id] >= spec.array.max_running:
                if job.reason != "JobArrayTaskLimit":
                    repo.update_fields(s, job, now=now, reason="JobArrayTaskLimit")
                continue
            active_by_array[job.array_job_id] += 1
        if ctrl.guard is not None:
            hold = ctrl.guard.hold_reason(s, job, spec)
            if hold is not None:
                if job.reason != hold:
                    repo.update_fields(s, job, now=now, reason=hold)
                continue
        ready.append(job.id)
    return ready


def dependency_rows(s: Session, ident: str, owner: str) -> list[JobRow]:
    """The jobs ``ident`` names that ``owner`` may see. Another user's job
    counts as no job at all: a dependency must not tell whether it exists,
    nor how it ended (docs/tenancy.md)."""
    if "_" in ident:
        array_id, task = ident.split("_", 1)
        rows = list(
            s.scalars(
                select(JobRow).where(
                    JobRow.array_job_id == int(array_id), JobRow.array_task_id == int(task)
                )
            )
        )
    else:
        job = s.get(JobRow, int(ident))
        if job is None:
            return []
        rows = [job]
        if job.array_job_id == job.id:
            rows = list(s.scalars(select(JobRow).where(JobRow.array_job_id == job.id)))
    if all(r.owner == owner for r in rows):
        return rows
    user = s.get(UserRow, owner)
    if user is not None and user.is_admin:
        return rows
    roles = projects.roles_of(s, owner)
    return [r for r in rows if r.owner == owner or roles.get(r.project) in PROJECT_WIDE_ROLES]


async def advance_pending(
    ctrl: Controller,
    job_id: int,
    views: dict[str, object],
    pools: dict[tuple[str, str], PoolView] | None = None,
) -> None:
    from computenet.core import failover, hedge
    from computenet.network import ClusterView, place
    from computenet.network.access import restrict

    now = ctrl.clock.now()
    staged = False
    with ctrl.store.session() as s:
        job = repo.get_job(s, job_id)
        if job.state != JobState.PENDING.value or job.cancel_requested:
            return
        spec = JobSpec.from_dict(job.spec)
        attempt = repo.latest_attempt(s, job)
        resume = (
            attempt is not None
            and attempt.native_id is None
            and attempt.state == "PENDING"
            and not hedge.is_moved(attempt)
        )
        if resume and attempt is not None and ctrl.clusters.is_down(attempt.cluster):
            # A submission that may or may not have reached a cluster that is
            # now down: place it elsewhere, and look for it there on recovery.
            attempt.reason = (
                f"{hedge.MOVED}cluster {attempt.cluster} down before the submission "
                "was confirmed; cancel there when it answers"
            )
            resume = False
        if resume and attempt is not None:
            # A submission that may or may not have reached the cluster (crash).
            copies = [(attempt.number, attempt.cluster, attempt.partition)]
        else:
            usable = []
            for _name, view in failover.views_without(
                views, failover.avoid_clusters(attempt)
            ).items():
                assert isinstance(view, ClusterView)
                _, why = embedded_fit(spec, view.info)
                if why is None:
                    usable.append(view)
            if ctrl.guard is not None:
                left = ctrl.guard.budget_left(s, job.project)
                if left is not None:
                    usable = [replace(v, budget_left=left) for v in usable]
            access = ctrl.tenancy.access(job.project)  # the project's clusters and identities
            usable = restrict(usable, access)
            policy = spec.policy or ctrl.settings.default_policy
            usable, size = staging_steps.views_for(ctrl, spec, usable)
            decide = functools.partial(
                place,
                wait_threshold_s=ctrl.settings.local_first_wait_s,
                pools=pools,
                caps=ctrl.pools.caps(pools) if pools else None,
                hysteresis=ctrl.settings.pool_hysteresis,
            )
            placement = decide(spec, usable, now=now, policy=policy, input_bytes=size)
            if placement.chosen is None and failover.avoid_clusters(attempt):
                # Only the cluster that failed it can run it: better there than nowhere.
                everyone = [v for v in views.values() if isinstance(v, ClusterView)]
                usable = [v for v in everyone if embedded_fit(spec, v.info)[1] is None]
                usable = restrict(usable, access)
                usable, _ = staging_steps.views_for(ctrl, spec, usable)
                placement = decide(spec, usable, now=now, policy=policy, input_bytes=size)
            if placement.chosen is None:
                reason = (
                    "Resources" if not placement.reason else f"Placement: {placement.reason}"[:500]
                )
                if job.reason != reason:
                    repo.update_fields(
                        s, job, now=now, reason=reason, placement=placement.to_dict()
                    )
                return
            picks = hedge.pick_copies(
                placement.candidates, placement.chosen, spec.hedge or 1, placement.partition
            )
            first = hedge.next_number(s, job.id)
            moved = failover.move_reason(attempt)
            copies = []
            for i, cand in enumerate(picks):
                number = first + i
                note = f"hedge copy {i + 1} of {len(picks)}" if len(picks) > 1 else None
                s.add(
                    AttemptRow(
                        job_id=job.id,
                        number=number,
                        cluster=cand.cluster,
                        partition=cand.partition,
                        tag=ctrl.tag_for(job.id, number),
                        native_id=None,
                        state="PENDING",
                        reason="; ".join(x for x in (moved, note) if x) or None,
                        submit_time=now,
                        predicted_start=cand.predicted_start,
                        predicted_end=cand.predicted_end,
                    )
                )
                copies.append((number, cand.cluster, cand.partition))
                note_queued(views, cand.cluster, job, spec, cand.partition, now)
                if pools and cand.pool is not None:
                    note_pool(ctrl, pools, cand.cluster, cand.partition, spec)
            record = failover.placement_carry(job.placement, placement.to_dict())
            if len(picks) > 1:
                record["hedge"] = {
                    "asked": spec.hedge,
                    "copies": [{"attempt": n, "cluster": c} for n, c, _ in copies],
                }
            fitted, _ = embedded_fit(spec, views[placement.chosen].info)  # type: ignore[attr-defined]
            repo.update_fields(
                s,
                job,
                now=now,
                cluster=placement.chosen,
                partition=placement.partition,
                placement=record,
                attempt_count=first,
                spec=(fitted or spec).to_dict(),
                reason=moved or "Submitting",
            )
            chosen_site = staging_steps.site_of(ctrl, placement.chosen)
            if staging_steps.needs_stage_in(ctrl, spec, chosen_site):
                # the data (and the image) first; the staging task submits
                staging_steps.begin_stage_in(ctrl, s, job, spec, now)
                staged = True
        base = JobSpec.from_dict(job.spec)
        requests = []
        for number, cluster, partition in [] if staged else copies:
            cspec = base
            if cluster != job.cluster and cluster in views:
                cspec = embedded_fit(spec, views[cluster].info)[0] or spec  # type: ignore[attr-defined]
            request = attempt_request(
                ctrl,
                job,
                tag=ctrl.tag_for(job.id, number),
                number=number,
                cluster=cluster,
                partition=partition,
                spec=cspec,
            )
            requests.append((cluster, request))
    if staged:
        ctrl.staging.start(job_id, JobState.STAGING_IN.value)
    for cluster, request in requests:
        if ctrl.pools and len(requests) == 1:
            view = views.get(cluster)
            held = await pool_steps.hold_for_node(
                ctrl, cluster, request.partition, getattr(view, "snapshot", None)
            )
            if held is not None:
                with ctrl.store.session() as s:
                    job = repo.get_job(s, job_id)
                    if job.reason != held:
                        repo.update_fields(s, job, now=ctrl.clock.now(), reason=held)
                continue  # the attempt stays unsent; a later pass sends it
        await submit(ctrl, job_id, cluster, request)


def note_pool(
    ctrl: Controller,
    pools: dict[tuple[str, str], PoolView],
    cluster: str,
    partition: str | None,
    spec: JobSpec,
) -> None:
    """Count a job just sent to a pool, so the next placement sees its demand
    and the pool step runs in this pass."""
    key = (cluster, partition or "")
    view = pools.get(key)
    if view is not None:
        pools[key] = replace(view, queued_cpus=view.queued_cpus + spec.cpus)
    ctrl.pools.dirty = True


def note_queued(
    views: dict[str, object],
    cluster: str,
    job: JobRow,
    spec: JobSpec,
    partition: str | None,
    now: float,
) -> None:
    """Count a job just placed in the cluster's view, so the next placement sees it."""
    view = views.get(cluster)
    snap = getattr(view, "snapshot", None)
    if view is None or snap is None:
        return
    entry = SnapshotJob(
        native_id=f"placed-{job.id}",
        partition=partition or "",
        cpus=spec.cpus,
        nodes=spec.node_count,
        time_limit_s=spec.time_limit_s or 3600,
        submit_time=now,
        gpus=spec.total_gpus,
    )
    entry = speeds.shorten(entry, getattr(view, "speed", {}).get("*", 1.0))
    views[cluster] = replace(view, snapshot=replace(snap, pending=(*snap.pending, entry)))  # type: ignore[type-var]
