"""Several copies of one job at once, and which one is kept.

A job can have more than one live attempt: ``--hedge K`` submits it to the K
best clusters together, and a failover leaves the old copy behind on a
cluster that stopped answering. The job follows one of them, its *current*
attempt (``jobs.attempt_count`` holds that attempt's number; new attempts
take the highest number + 1, so every copy has its own tag and ``find(tag)``
still works after a crash). The rules, applied whenever copies answer:

- the copy that started first is kept; the job switches to it if it was not
  the current one, and every other copy is cancelled;
- a *moved* copy (reason ``moved: ...``: its job went elsewhere) is
  cancelled when its cluster answers, unless it started first;
- when the job has ended or its cancel was asked for, every other copy is
  cancelled.

A copy that had started when it was cancelled wasted its cores until then:
the core-seconds go on the cancelled attempt's reason and add up in the
job's placement (``wasted_core_s``, shown by ``cnet why`` and ``cnet show``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from computenet.errors import ClusterError, ComputeNetError
from computenet.model import AttemptStatus, Candidate, JobSpec, JobState
from computenet.store import jobs as repo
from computenet.store.tables import AttemptRow, JobRow

if TYPE_CHECKING:
    from computenet.core.controller import Controller

LIVE_ATTEMPT = ("PENDING", "QUEUED", "RUNNING")
MOVED = "moved: "


def next_number(s: Session, job_id: int) -> int:
    """The number for a new attempt: above every attempt the job ever had."""
    top = s.scalar(select(func.max(AttemptRow.number)).where(AttemptRow.job_id == job_id))
    return int(top or 0) + 1


def live_copies(s: Session, job_id: int) -> list[AttemptRow]:
    return list(
        s.scalars(
            select(AttemptRow)
            .where(AttemptRow.job_id == job_id, AttemptRow.state.in_(LIVE_ATTEMPT))
            .order_by(AttemptRow.number)
        )
    )


def is_moved(attempt: AttemptRow) -> bool:
    return (attempt.reason or "").startswith(MOVED)


def pick_copies(
    placement_candidates: Sequence[Candidate], chosen: str, k: int, partition: str | None = None
) -> list[Candidate]:
    """The chosen candidate (on the chosen partition, when given), then the
    next best feasible ones on other clusters (by score, then name), ``k`` at most."""
    feasible = [c for c in placement_candidates if c.feasible]
    first = next(
        (c for c in feasible if c.cluster == chosen and c.partition == partition),
        next(c for c in feasible if c.cluster == chosen),
    )
    rest = sorted(
        (c for c in feasible if c.cluster != chosen),
        key=lambda c: (c.score if c.score is not None else float("inf"), c.cluster),
    )
    out, seen = [first], {chosen}
    for c in rest:
        if len(out) >= k:
            break
        if c.cluster not in seen:
            out.append(c)
            seen.add(c.cluster)
    return out


def _started_at(attempt: AttemptRow, status: AttemptStatus | None, now: float) -> float | None:
    """When this copy started (by its fresh status, else its row), None if not yet."""
    if status is not None:
        if status.start_time is not None:
            return status.start_time
        return (attempt.start_time or now) if status.state == JobState.RUNNING else None
    if attempt.start_time is not None:
        return attempt.start_time
    return attempt.submit_time if attempt.state == "RUNNING" else None


def add_waste(job: JobRow, core_s: float) -> dict[str, Any]:
    """The job's placement with ``core_s`` more wasted core-seconds."""
    placement = dict(job.placement or {})
    before = placement.get("wasted_core_s") or 0.0
    assert isinstance(before, int | float)
    placement["wasted_core_s"] = round(float(before) + core_s, 3)
    base = placement.setdefault("broker_reason", placement.get("reason") or "")
    placement["reason"] = (
        f"{base}; copies cancelled after another started wasted "
        f"{placement['wasted_core_s']:.0f} core-s"
    )
    return placement


async def resolve(
    ctrl: Controller, job_id: int, found: Mapping[int, AttemptStatus]
) -> list[tuple[int, str]]:
    """Apply the keep-the-first-started rules to one job whose copies answered
    (``found`` maps attempt row ids to their status). Returns the copies to
    cancel as (attempt id, why); the caller cancels them with ``cancel_copies``."""
    now = ctrl.clock.now()
    with ctrl.store.session() as s:
        job = repo.get_job(s, job_id)
        copies = live_copies(s, job_id)
        current = next((a for a in copies if a.number == job.attempt_count), None)
        others = [a for a in copies if a is not current]
        if not others:
            return []
        finished = (
            JobState(job.state).terminal
            or job.state == JobState.STAGING_OUT.value
            or job.cancel_requested
        )
        started: dict[int, float] = {}
        for a in copies:
            t = _started_at(a, found.get(a.id), now)
            if t is not None:
                started[a.id] = t
        winner = None
        if not finished and started:
            winner = min(
                (a for a in copies if a.id in started), key=lambda a: (started[a.id], a.number)
            )
        kept = current if winner is None else winner
        for a in copies:  # the kept attempt's own status is the controller's to apply
            st = found.get(a.id)
            if st is not None and a is not kept:
                a.state = st.state.value
                a.start_time = st.start_time or a.start_time
                if st.state.terminal:
                    a.end_time, a.exit_code = st.end_time or now, st.exit_code
        if winner is not None and winner is not current:
            reason = f"attempt {winner.number} on {winner.cluster} started first"
            repo.update_fields(
                s,
                job,
                now=now,
                attempt_count=winner.number,
                cluster=winner.cluster,
                partition=winner.partition,
                reason=f"kept {reason}"[:500],
            )
        todo: list[tuple[int, str]] = []
        for a in copies:
            if a is winner or (a is current and winner is None):
                continue
            if a.state not in LIVE_ATTEMPT:
                continue
            if finished:
                todo.append((a.id, f"job {job.state.lower()}"))
            elif winner is not None:
                todo.append((a.id, f"attempt {winner.number} on {winner.cluster} started first"))
            elif is_moved(a):
                todo.append((a.id, (a.reason or "").removeprefix(MOVED).split(";")[0]))
        return todo


async def cancel_copies(ctrl: Controller, todo: Sequence[tuple[int, str]]) -> None:
    """Cancel copies at their clusters. A copy whose cluster does not answer
    is marked moved and cancelled on a later pass; one that had started adds
    its core-seconds to the job's waste."""
    for attempt_id, why in todo:
        with ctrl.store.session() as s:
            a = s.get(AttemptRow, attempt_id)
            if a is None or a.state not in LIVE_ATTEMPT:
                continue
            cluster, native, tag, started = a.cluster, a.native_id, a.tag, a.start_time
            spec = JobSpec.from_dict(repo.get_job(s, a.job_id).spec)
        adapter = ctrl.adapters.get(cluster)
        usage = None
        if adapter is not None and not ctrl.clusters.is_down(cluster):
            try:
                native = native or await adapter.find(tag)
                if native is not None:
                    await adapter.cancel(native)
                    ctrl.mark_cancel_sent(cluster, native)
                    if started is not None:
                        try:
                            usage = (await adapter.usage([native])).get(native)
                        except ComputeNetError:
                            usage = None
                ctrl.clusters.succeeded(cluster)
                done = True
            except ClusterError as exc:
                ctrl.clusters.failed(cluster, exc)
                done = False
        else:
            done = adapter is None  # a removed cluster: nothing left to ask
        now = ctrl.clock.now()
        with ctrl.store.session() as s:
            a = s.get(AttemptRow, attempt_id)
            if a is None or a.state not in LIVE_ATTEMPT:
                continue
            if not done:
                if not is_moved(a):
                    a.reason = f"{MOVED}{why}; cancel on {cluster} when it answers"[:500]
                continue
            if native is None:
                a.state, a.end_time = JobState.CANCELLED.value, now
                a.reason = f"never reached {cluster}; nothing to cancel ({why})"[:500]
                continue
            wasted = 0.0
            if usage is not None:
                wasted = usage.core_seconds
                a.usage = asdict(usage)
            elif started is not None:
                wasted = max(0.0, now - started) * spec.cpus
            a.state, a.end_time, a.native_id = JobState.CANCELLED.value, now, native
            a.reason = f"cancelled: {why}" + (f"; wasted {wasted:.0f} core-s" if wasted else "")
            if wasted:
                job = repo.get_job(s, a.job_id)
                repo.update_fields(s, job, now=now, placement=add_waste(job, wasted))


async def confirm_copies(ctrl: Controller) -> None:
    """Copies written but never confirmed (a crash, an unreachable cluster)
    that are not the pending job's own next submission: find them by tag.
    A hedge copy still in the race is submitted; any other is cancelled."""
    with ctrl.store.session() as s:
        rows = list(
            s.execute(
                select(AttemptRow.id, AttemptRow.cluster, AttemptRow.job_id)
                .join(JobRow, JobRow.id == AttemptRow.job_id)
                .where(
                    AttemptRow.state == "PENDING",
                    AttemptRow.native_id.is_(None),
                    (AttemptRow.number != JobRow.attempt_count) | (JobRow.state != "PENDING"),
                    JobRow.state != "STAGING_IN",  # its staging task submits them
                )
                .limit(500)
            )
        )
    todo: list[tuple[int, str]] = []
    for attempt_id, cluster, job_id in rows:
        adapter = ctrl.adapters.get(cluster)
        if adapter is None:
            todo.append((attempt_id, f"cluster {cluster} removed"))
            continue
        if ctrl.clusters.is_down(cluster):
            continue
        with ctrl.store.session() as s:
            a = s.get(AttemptRow, attempt_id)
            job = repo.get_job(s, job_id)
            assert a is not None
            racing = (
                not is_moved(a)
                and not job.cancel_requested
                and job.state in ("PENDING", "QUEUED")
                and job.start_time is None
            )
            tag = a.tag
        if racing:
            await ctrl.submit_copy(job_id, attempt_id)
            continue
        try:
            native = await adapter.find(tag)
        except ClusterError as exc:
            ctrl.clusters.failed(cluster, exc)
            continue
        if native is None:
            with ctrl.store.session() as s:
                a = s.get(AttemptRow, attempt_id)
                if a is not None and a.native_id is None and a.state == "PENDING":
                    a.state, a.end_time = JobState.CANCELLED.value, ctrl.clock.now()
                    a.reason = f"never reached {cluster}; nothing to cancel"
            continue
        with ctrl.store.session() as s:
            a = s.get(AttemptRow, attempt_id)
            if a is not None:
                a.native_id = native
        todo.append((attempt_id, "its job moved on"))
    await cancel_copies(ctrl, todo)
