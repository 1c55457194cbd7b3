"""The controller: a reconcile loop that moves every live job one step on.

Each step is idempotent. A submission is tagged ``cn-<job>-<attempt>``; the
attempt row is written (without a native id) before the cluster is asked,
so after a crash the controller first asks the cluster whether that tag
exists (``find``) and submits only if it does not: no job is lost and none
runs twice. A job may have several live copies (``--hedge``, failover):
``core.hedge`` keeps the first that starts, ``core.failover`` moves jobs off
clusters that went down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections import defaultdict
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from computenet.clock import Clock
from computenet.config import Settings
from computenet.core.cluster_state import ClusterStates
from computenet.core.dependencies import dependency_status
from computenet.core.service import accounting_guard, embedded_fit
from computenet.errors import ClusterError, ComputeNetError, ConflictError
from computenet.model import AttemptRequest, AttemptStatus, JobSpec, JobState, SnapshotJob
from computenet.store import jobs as repo
from computenet.store import leases
from computenet.store.db import Store
from computenet.store.tables import AttemptRow, JobRow

if TYPE_CHECKING:
    from computenet.clusters.base import ClusterAdapter

log = logging.getLogger("computenet.controller")

LIVE = [
    JobState.PENDING,
    JobState.STAGING_IN,
    JobState.QUEUED,
    JobState.RUNNING,
    JobState.STAGING_OUT,
]
MAX_ATTEMPTS = 3
LEASE_TTL_S = 15.0
MIN_GAP_S = 0.02
BATCH = 500  # jobs placed per pass, so one huge bulk submission does not stall the API


def tag_for(job_id: int, attempt: int) -> str:
    return f"cn-{job_id}-{attempt}"


def _node_losses(s: object, job_id: int) -> int:
    """Attempts of this job that ended because nodes were lost under them."""
    from sqlalchemy.orm import Session

    assert isinstance(s, Session)
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


class Controller:
    def __init__(
        self, store: Store, adapters: dict[str, ClusterAdapter], settings: Settings, clock: Clock
    ) -> None:
        self.store = store
        self.adapters = adapters
        self.settings = settings
        self.clock = clock
        self.clusters = ClusterStates(adapters, clock)
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._cancel_sent: set[tuple[str, str]] = set()
        #: held for a whole pass; adding or removing a cluster waits for it
        self.lock = asyncio.Lock()
        self.passes = 0
        self.leader = False
        self._lease_renew_at = 0.0
        self._guard = accounting_guard()

    # ----- lifecycle -----------------------------------------------------
    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="controller")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            leases.release(self.store, "controller", self.holder)

    def wake(self) -> None:
        """Ask for a pass soon; safe from any thread."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            self._wake.clear()
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:  # the loop must survive any single bad pass
                log.exception("controller pass failed")
            # A short floor between passes: a burst of submissions shares one pass.
            await asyncio.sleep(MIN_GAP_S)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.settings.controller_interval_s)

    # ----- one pass --------------------------------------------------------
    @property
    def holder(self) -> str:
        """This server's name in the controller lease: stable across its restarts."""
        return f"{socket.gethostname()}:{self.settings.state_dir}"

    async def step(self) -> None:
        async with self.lock:
            await self._step()

    def mark_cancel_sent(self, cluster: str, native_id: str) -> None:
        self._cancel_sent.add((cluster, native_id))

    async def _step(self) -> None:
        from computenet.core import failover, hedge

        await self.clusters.refresh()  # every server answers feasibility questions
        now = self.clock.now()
        # Renew only once a third of the lease has passed: one write per few
        # seconds instead of one per pass.
        if not self.leader or now >= self._lease_renew_at:
            if not leases.acquire(
                self.store, "controller", self.holder, now=now, ttl_s=LEASE_TTL_S
            ):
                self.leader = False
                return  # another server runs the controller on this database
            self.leader = True
            self._lease_renew_at = now + LEASE_TTL_S / 3
        await self.clusters.probe()
        await self._handle_cancels()
        await failover.move_off_down(self)
        await self._place_pending()
        await self._poll_active()
        await hedge.confirm_copies(self)
        self.passes += 1

    async def _handle_cancels(self) -> None:
        from computenet.core.hedge import live_copies

        now = self.clock.now()
        with self.store.session() as s:
            rows = list(
                s.scalars(
                    select(JobRow).where(
                        JobRow.cancel_requested.is_(True), JobRow.state.in_([x.value for x in LIVE])
                    )
                )
            )
            todo: list[tuple[str, str]] = []
            for job in rows:
                copies = live_copies(s, job.id)
                if job.state == "PENDING" and not any(a.native_id for a in copies):
                    # Nothing confirmed at any cluster: cancel now, and by tag
                    # in case a submission got through unconfirmed.
                    todo.extend((a.cluster, a.tag) for a in copies)
                    for a in copies:
                        a.state, a.end_time, a.reason = "CANCELLED", now, "cancelled"
                    repo.transition(
                        s, job, JobState.CANCELLED, now=now, reason="cancelled", end_time=now
                    )
                    continue
                for a in copies:
                    ident = a.native_id or a.tag
                    if (a.cluster, ident) not in self._cancel_sent:
                        todo.append((a.cluster, ident))
        for cluster, ident in todo:
            adapter = self.adapters.get(cluster)
            if adapter is None or self.clusters.is_down(cluster):
                continue
            try:
                native = (await adapter.find(ident)) if ident.startswith("cn-") else ident
                if native is not None:
                    await adapter.cancel(native)
                    self._cancel_sent.add((cluster, native))
            except ClusterError as exc:
                self.clusters.failed(cluster, exc)

    async def _place_pending(self) -> None:
        with self.store.session() as s:
            pending = repo.list_jobs(
                s, states=[JobState.PENDING.value], limit=BATCH, not_reason=repo.HELD
            )
            pending = [j for j in pending if not j.cancel_requested]
            if not pending:
                return
            ready = self._ready(s, pending)
        if not ready:
            return
        views = await self.clusters.views(with_snapshots=True)
        for job_id in ready:
            try:
                await self._advance_pending(job_id, views)
            except ConflictError:
                continue  # someone changed it (cancel); the next pass sees the new state
            await asyncio.sleep(0)

    def _ready(self, s: object, pending: list[JobRow]) -> list[int]:
        """Ids of pending jobs whose dependencies and array limits allow a start."""
        from sqlalchemy.orm import Session

        assert isinstance(s, Session)
        now = self.clock.now()
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
                        deps[ident] = self._dependency_rows(s, ident, job.owner)
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
            if self._guard is not None:
                hold = self._guard.hold_reason(s, job, spec)
                if hold is not None:
                    if job.reason != hold:
                        repo.update_fields(s, job, now=now, reason=hold)
                    continue
            ready.append(job.id)
        return ready

    @staticmethod
    def _dependency_rows(s: object, ident: str, owner: str) -> list[JobRow]:
        from sqlalchemy.orm import Session

        assert isinstance(s, Session)
        if "_" in ident:
            array_id, task = ident.split("_", 1)
            return list(
                s.scalars(
                    select(JobRow).where(
                        JobRow.array_job_id == int(array_id), JobRow.array_task_id == int(task)
                    )
                )
            )
        job = s.get(JobRow, int(ident))
        if job is None:
            return []
        if job.array_job_id == job.id:
            return list(s.scalars(select(JobRow).where(JobRow.array_job_id == job.id)))
        return [job]

    async def _advance_pending(self, job_id: int, views: dict[str, object]) -> None:
        from computenet.core import failover, hedge
        from computenet.network import ClusterView, place

        now = self.clock.now()
        with self.store.session() as s:
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
            if resume and attempt is not None and self.clusters.is_down(attempt.cluster):
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
                if self._guard is not None:
                    left = self._guard.budget_left(s, job.project)
                    if left is not None:
                        usable = [replace(v, budget_left=left) for v in usable]
                policy = spec.policy or self.settings.default_policy
                placement = place(spec, usable, now=now, policy=policy)
                if placement.chosen is None and failover.avoid_clusters(attempt):
                    # Only the cluster that failed it can run it: better there than nowhere.
                    everyone = [v for v in views.values() if isinstance(v, ClusterView)]
                    usable = [v for v in everyone if embedded_fit(spec, v.info)[1] is None]
                    placement = place(spec, usable, now=now, policy=policy)
                if placement.chosen is None:
                    reason = (
                        "Resources"
                        if not placement.reason
                        else f"Placement: {placement.reason}"[:500]
                    )
                    if job.reason != reason:
                        repo.update_fields(
                            s, job, now=now, reason=reason, placement=placement.to_dict()
                        )
                    return
                picks = hedge.pick_copies(placement.candidates, placement.chosen, spec.hedge or 1)
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
                            tag=tag_for(job.id, number),
                            native_id=None,
                            state="PENDING",
                            reason="; ".join(x for x in (moved, note) if x) or None,
                            submit_time=now,
                            predicted_start=cand.predicted_start,
                            predicted_end=cand.predicted_end,
                        )
                    )
                    copies.append((number, cand.cluster, cand.partition))
                    self._note_queued(views, cand.cluster, job, spec, cand.partition, now)
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
            base = JobSpec.from_dict(job.spec)
            requests = []
            for number, cluster, partition in copies:
                cspec = base
                if cluster != job.cluster and cluster in views:
                    cspec = embedded_fit(spec, views[cluster].info)[0] or spec  # type: ignore[attr-defined]
                requests.append(
                    (
                        cluster,
                        AttemptRequest(
                            tag=tag_for(job.id, number),
                            job_id=str(job.id),
                            attempt=number,
                            spec=cspec,
                            partition=partition,
                            owner=job.owner,
                            array_job_id=(
                                str(job.array_job_id) if job.array_job_id is not None else None
                            ),
                            array_task_id=job.array_task_id,
                        ),
                    )
                )
        for cluster, request in requests:
            await self._submit(job_id, cluster, request)

    def _note_queued(
        self,
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
            native_id=f"cn-{job.id}",
            partition=partition or "",
            cpus=spec.cpus,
            nodes=spec.node_count,
            time_limit_s=spec.time_limit_s or 3600,
            submit_time=now,
            gpus=spec.total_gpus,
        )
        views[cluster] = replace(view, snapshot=replace(snap, pending=(*snap.pending, entry)))  # type: ignore[type-var]

    async def submit_copy(self, job_id: int, attempt_id: int) -> None:
        """Submit (or find) one written attempt, e.g. a hedge copy after a crash."""
        with self.store.session() as s:
            a = s.get(AttemptRow, attempt_id)
            job = repo.get_job(s, job_id)
            if a is None or a.native_id is not None or a.state != "PENDING":
                return
            cluster = a.cluster
            request = AttemptRequest(
                tag=a.tag,
                job_id=str(job.id),
                attempt=a.number,
                spec=JobSpec.from_dict(job.spec),
                partition=a.partition,
                owner=job.owner,
                array_job_id=str(job.array_job_id) if job.array_job_id is not None else None,
                array_task_id=job.array_task_id,
            )
        await self._submit(job_id, cluster, request)

    @staticmethod
    def _attempt(s: object, job_id: int, number: int) -> AttemptRow | None:
        from sqlalchemy.orm import Session

        assert isinstance(s, Session)
        return s.scalar(
            select(AttemptRow).where(AttemptRow.job_id == job_id, AttemptRow.number == number)
        )

    async def _submit(self, job_id: int, cluster: str, request: AttemptRequest) -> None:
        from computenet.core.hedge import is_moved, live_copies

        adapter = self.adapters.get(cluster)
        if adapter is None:
            return  # removed meanwhile; the attempt is resolved with its cluster
        now = self.clock.now()
        try:
            native = await adapter.find(request.tag)
            if native is None:
                native = await adapter.submit(request)
        except ClusterError as exc:
            self.clusters.failed(cluster, exc)
            with self.store.session() as s:
                job = repo.get_job(s, job_id)
                attempt = self._attempt(s, job_id, request.attempt)
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
                    if other.native_id is not None and job.state == JobState.PENDING.value:
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
        self.clusters.succeeded(cluster)
        with self.store.session() as s:
            job = repo.get_job(s, job_id)
            attempt = self._attempt(s, job_id, request.attempt)
            if attempt is None:
                return
            attempt.native_id = native
            if attempt.state == "PENDING":
                attempt.state = JobState.QUEUED.value
            if job.attempt_count == request.attempt and job.state == JobState.PENDING.value:
                repo.transition(
                    s, job, JobState.QUEUED, now=now, reason=None, attempt=request.attempt
                )

    async def _poll_active(self) -> None:
        from computenet.core import hedge

        with self.store.session() as s:
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
            by_cluster[cluster].append((attempt_id, native, job_id))
        found: dict[int, dict[int, AttemptStatus]] = defaultdict(dict)  # job -> attempt -> status
        for cluster, items in by_cluster.items():
            adapter = self.adapters.get(cluster)
            if adapter is None or self.clusters.is_down(cluster):
                continue
            try:
                statuses = await adapter.status(list(dict.fromkeys(n for _, n, _ in items)))
            except ClusterError as exc:
                self.clusters.failed(cluster, exc)
                continue
            self.clusters.succeeded(cluster)
            for attempt_id, native, job_id in items:
                status = statuses.get(native)
                if status is not None:
                    found[job_id][attempt_id] = status
        for job_id, statuses in found.items():
            todo: list[tuple[int, str]] = []
            with self.store.session() as s:
                job = repo.get_job(s, job_id)
                current = repo.latest_attempt(s, job)
                extra = current is None or any(a != current.id for a in statuses)
                several = extra or len(hedge.live_copies(s, job_id)) > 1
            if several:
                todo = await hedge.resolve(self, job_id, statuses)
            with self.store.session() as s:
                job = repo.get_job(s, job_id)
                current = repo.latest_attempt(s, job)
                mine = None if current is None else statuses.get(current.id)
                cluster = None if current is None else current.cluster
            if mine is not None and cluster is not None:
                await self._apply_status(cluster, job_id, mine)
            if todo:
                await hedge.cancel_copies(self, todo)
            if several:
                with self.store.session() as s:
                    ended = JobState(repo.get_job(s, job_id).state).terminal
                if ended:  # the job just ended: its other copies go too
                    await hedge.cancel_copies(self, await hedge.resolve(self, job_id, {}))

    async def _apply_status(self, cluster: str, job_id: int, status: AttemptStatus) -> None:
        now = self.clock.now()
        state = status.state
        usage = None
        if state.terminal:
            adapter = self.adapters.get(cluster)
            with contextlib.suppress(ComputeNetError):
                if adapter is not None:
                    usage = (await adapter.usage([status.native_id])).get(status.native_id)
        with self.store.session() as s:
            job = repo.get_job(s, job_id)
            attempt = repo.latest_attempt(s, job)
            if (
                attempt is None
                or attempt.native_id != status.native_id
                or attempt.cluster != cluster
            ):
                return  # an older attempt; its job moved on
            if attempt.state == state.value and not state.terminal:
                return
            attempt.state = state.value
            if not (attempt.reason or "").startswith(("REQUEUED_FAILOVER", "hedge copy")):
                attempt.reason = status.reason  # a move's reason is worth more than Slurm's
            attempt.start_time = status.start_time or attempt.start_time
            attempt.node_list = status.node_list or attempt.node_list
            if state.terminal:
                attempt.end_time = status.end_time or now
                attempt.exit_code = status.exit_code
                if usage is not None:
                    from dataclasses import asdict

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
                and _node_losses(s, job.id) < MAX_ATTEMPTS
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
                self.wake()
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
