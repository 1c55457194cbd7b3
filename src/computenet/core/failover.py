"""Moving jobs off clusters that failed them.

- A cluster goes DOWN: each job still QUEUED there (not started, as far as
  we last saw) goes back to PENDING with reason ``REQUEUED_FAILOVER: cluster
  X down`` when another cluster could run it, and is placed again as a new
  attempt. The old copy is marked ``moved: ...`` and cancelled there once
  the cluster answers, unless it started first (see ``core.hedge``).
- A node fails under a job (NODE_FAIL, PREEMPTED): the controller requeues
  it and the next placement prefers another cluster.
- A cluster is removed with ``--force``: its jobs are cancelled there and
  requeued elsewhere.

Each move is a new attempt whose reason says why, and a job event.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from computenet.core.hedge import LIVE_ATTEMPT, MOVED, cancel_copies, live_copies
from computenet.core.service import embedded_fit
from computenet.errors import ConflictError
from computenet.model import ClusterHealth, JobSpec, JobState
from computenet.network import ClusterView, feasible
from computenet.store import jobs as repo
from computenet.store.tables import AttemptRow, JobRow

if TYPE_CHECKING:
    from computenet.core.controller import Controller

FAILOVER = "REQUEUED_FAILOVER"
#: the reason prefix of an attempt lost with its cluster (``core.lost_clusters``)
LOST = "lost: "
_NODE_LOSS = ("NODE_FAIL", "PREEMPTED")


def move_reason(previous: AttemptRow | None) -> str | None:
    """The reason of an attempt that replaces ``previous``, if it was a move."""
    if previous is None:
        return None
    if (previous.reason or "").startswith(MOVED):
        why = (previous.reason or "").removeprefix(MOVED).split(";")[0]
        return f"{FAILOVER}: {why}"
    if (previous.reason or "").startswith(LOST):
        return f"{FAILOVER}: {(previous.reason or '').split(';')[0]}"
    if previous.state in _NODE_LOSS:
        return f"{FAILOVER}: {previous.state} on {previous.cluster}"
    return None


def avoid_clusters(previous: AttemptRow | None) -> frozenset[str]:
    """Clusters the next placement should avoid when another can run the job."""
    if previous is not None and previous.state in _NODE_LOSS:
        return frozenset({previous.cluster})
    return frozenset()


def runnable_elsewhere(spec: JobSpec, views: list[ClusterView]) -> bool:
    usable = [v for v in views if embedded_fit(spec, v.info)[1] is None]
    return any(c.feasible for c in feasible(spec, usable))


def views_up(ctrl: Controller) -> list[ClusterView]:
    """What the broker needs to tell where else a job could run: every cluster
    not DOWN, without snapshots."""
    return [
        ClusterView(info=st.info, snapshot=None, health=st.health)
        for st in ctrl.clusters.status.values()
        if st.info is not None and st.health != ClusterHealth.DOWN
    ]


def current_attempts(s: Session, *where: Any) -> list[Row[JobRow, AttemptRow]]:
    """Jobs with their current attempt matching ``where``, at most 1,000 a pass."""
    query = (
        select(JobRow, AttemptRow)
        .join(
            AttemptRow,
            (AttemptRow.job_id == JobRow.id) & (AttemptRow.number == JobRow.attempt_count),
        )
        .where(*where)
        .limit(1000)
    )
    return list(s.execute(query))


async def move_off_down(ctrl: Controller) -> int:
    """Send jobs queued on DOWN clusters back to placement; returns how many moved."""
    status = ctrl.clusters.status
    down = [n for n, st in status.items() if st.health == ClusterHealth.DOWN]
    if not down:
        return 0
    views = views_up(ctrl)
    now = ctrl.clock.now()
    moved = 0
    with ctrl.store.session() as s:
        rows = current_attempts(
            s,
            JobRow.state == JobState.QUEUED.value,
            JobRow.cancel_requested.is_(False),
            AttemptRow.state == JobState.QUEUED.value,
            AttemptRow.cluster.in_(down),
        )
        for job, attempt in rows:
            cluster = attempt.cluster
            why = f"cluster {cluster} down"
            other = next(
                (
                    a
                    for a in live_copies(s, job.id)
                    if a.id != attempt.id
                    and a.native_id is not None
                    and a.state == JobState.QUEUED.value
                    and not (a.reason or "").startswith(MOVED)
                    and a.cluster not in down
                ),
                None,
            )
            if other is not None:  # a hedged job: follow a copy that is still reachable
                attempt.reason = f"{MOVED}{why}; cancel there when it answers"
                repo.update_fields(
                    s,
                    job,
                    now=now,
                    attempt_count=other.number,
                    cluster=other.cluster,
                    partition=other.partition,
                    reason=f"{FAILOVER}: {why}; following attempt {other.number}",
                )
                moved += 1
                continue
            if not runnable_elsewhere(JobSpec.from_dict(job.spec), views):
                reason = f"{why}; no other cluster can run it: waiting for {cluster}"
                if job.reason != reason:
                    repo.update_fields(s, job, now=now, reason=reason)
                continue
            attempt.reason = f"{MOVED}{why}; cancel there when it answers"
            repo.transition(
                s,
                job,
                JobState.PENDING,
                now=now,
                reason=f"{FAILOVER}: {why}",
                attempt=attempt.number,
            )
            moved += 1
    if moved:
        ctrl.wake()
    return moved


async def requeue_off_cluster(ctrl: Controller, name: str, *, force: bool) -> list[int]:
    """Before a cluster is removed: its live jobs, requeued elsewhere when
    ``force`` (their copies there cancelled), else a ``ConflictError``."""
    with ctrl.store.session() as s:
        rows = list(
            s.execute(
                select(AttemptRow.id, AttemptRow.job_id, JobRow.state)
                .join(JobRow, JobRow.id == AttemptRow.job_id)
                .where(AttemptRow.cluster == name, AttemptRow.state.in_(LIVE_ATTEMPT))
            )
        )
    live_jobs = sorted({job_id for _, job_id, state in rows if not JobState(state).terminal})
    if live_jobs and not force:
        shown = ", ".join(str(j) for j in live_jobs[:10]) + (" ..." if len(live_jobs) > 10 else "")
        raise ConflictError(
            f"cluster {name} has {len(live_jobs)} live job(s) ({shown}); wait for them, "
            "cancel them, or remove with --force to requeue them on other clusters",
            jobs=live_jobs,
        )
    why = f"cluster {name} removed"
    await cancel_copies(ctrl, [(attempt_id, why) for attempt_id, _, _ in rows])
    now = ctrl.clock.now()
    with ctrl.store.session() as s:
        for attempt_id, job_id, _ in rows:
            attempt = s.get(AttemptRow, attempt_id)
            if attempt is None:
                continue
            if attempt.state in LIVE_ATTEMPT:  # the cluster did not answer: let it go
                attempt.state, attempt.end_time = JobState.CANCELLED.value, now
                attempt.reason = f"{why} while it was not answering; the copy there may remain"
            rest = (attempt.reason or "").removeprefix(f"cancelled: {why}").lstrip("; ")
            attempt.reason = (f"{MOVED}{why}" + (f"; {rest}" if rest else ""))[:500]
            job = repo.get_job(s, job_id)
            if job.attempt_count != attempt.number or JobState(job.state).terminal:
                continue
            if job.cancel_requested:
                repo.transition(
                    s, job, JobState.CANCELLED, now=now, reason="cancelled", end_time=now
                )
            else:
                repo.transition(
                    s,
                    job,
                    JobState.PENDING,
                    now=now,
                    reason=f"{FAILOVER}: {why}",
                    attempt=attempt.number,
                    start_time=None,
                )
    return live_jobs


def placement_carry(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """A new placement that keeps the job's waste so far."""
    if old and old.get("wasted_core_s"):
        new = dict(new, wasted_core_s=old["wasted_core_s"])
    return new


def views_without(views: dict[str, Any], avoid: frozenset[str]) -> dict[str, Any]:
    """The views with the avoided clusters marked DOWN for this decision."""
    if not avoid:
        return views
    return {
        n: (replace(v, health=ClusterHealth.DOWN) if n in avoid else v) for n, v in views.items()
    }
