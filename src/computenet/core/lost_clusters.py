"""Jobs running on a cluster that stopped answering.

While a cluster is DOWN, a job that was RUNNING there at the last look is
left where it is: its state is unknown, and a second copy elsewhere could run
it twice. When the cluster answers again, polling takes the job's true end
state from it (squeue, then sacct or the jobcomp log).

A cluster DOWN for longer than ``lost_cluster_grace_s`` is *lost*. Each job
running there (when another cluster could run it) gets Slurm's NODE_FAIL
treatment: its attempt ends NODE_FAIL with the reason ``lost: ...`` and the
job goes back to PENDING (``REQUEUED_FAILOVER: cluster X lost ...``), to be
placed as a new attempt; the third lost attempt ends the job NODE_FAIL. A job
whose cancel was asked for ends CANCELLED instead.

A lost attempt may still be running when its cluster comes back. Until then
its reason ends in ``ASK_ON_RETURN``; once the cluster answers, the copy there
is cancelled if it still lives (so the job never runs twice) and the reason
records what the cluster said had become of it.

The grace counts from when this server saw the cluster go DOWN: a restart
starts the count again, so a requeue may come late but never early.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select

from computenet.core.failover import (
    FAILOVER,
    LOST,
    current_attempts,
    runnable_elsewhere,
    views_up,
)
from computenet.errors import ClusterError
from computenet.model import ClusterHealth, JobSpec, JobState
from computenet.store import jobs as repo
from computenet.store.tables import AttemptRow, JobRow

if TYPE_CHECKING:
    from computenet.core.controller import Controller

log = logging.getLogger("computenet.controller")

ASK_ON_RETURN = "; ask the cluster when it answers"


def lost_clusters(ctrl: Controller) -> dict[str, float]:
    """Clusters DOWN for longer than the grace, with how long each has been down."""
    now = ctrl.clock.now()
    grace = ctrl.settings.lost_cluster_grace_s
    out: dict[str, float] = {}
    for name, st in ctrl.clusters.status.items():
        if st.health == ClusterHealth.DOWN and now - st.state.since >= grace:
            out[name] = now - st.state.since
    return out


async def requeue_lost(ctrl: Controller) -> int:
    """Requeue the running jobs of lost clusters; returns how many moved or ended."""
    from computenet.core.polling import MAX_ATTEMPTS, node_losses

    lost = lost_clusters(ctrl)
    if not lost:
        return 0
    views = views_up(ctrl)
    now = ctrl.clock.now()
    changed = 0
    with ctrl.store.session() as s:
        rows = current_attempts(
            s,
            JobRow.state == JobState.RUNNING.value,
            AttemptRow.state == JobState.RUNNING.value,
            AttemptRow.cluster.in_(list(lost)),
        )
        for job, attempt in rows:
            cluster = attempt.cluster
            why = f"cluster {cluster} not answering for {lost[cluster]:.0f} s"
            if not job.cancel_requested and not runnable_elsewhere(
                JobSpec.from_dict(job.spec), views
            ):
                reason = f"{why}; no other cluster can run it: waiting for {cluster}"
                if job.reason != reason:
                    repo.update_fields(s, job, now=now, reason=reason)
                continue
            attempt.state, attempt.end_time = JobState.NODE_FAIL.value, now
            attempt.reason = f"{LOST}{why}{ASK_ON_RETURN}"
            s.flush()
            if job.cancel_requested:
                to, reason = JobState.CANCELLED, f"cancelled; {LOST}{why}"
            elif node_losses(s, job.id) >= MAX_ATTEMPTS:
                to, reason = JobState.NODE_FAIL, f"{LOST}{why}; {MAX_ATTEMPTS} attempts lost"
            else:
                to, reason = JobState.PENDING, f"{FAILOVER}: {LOST}{why}"
            # an ended job gets its end time; a requeued one starts afresh
            times = {"start_time": None} if to is JobState.PENDING else {"end_time": now}
            repo.transition(s, job, to, now=now, attempt=attempt.number, reason=reason, **times)
            log.warning("job %s: %s", job.id, why)
            changed += 1
    if changed:
        ctrl.wake()
    return changed


async def settle_lost(ctrl: Controller) -> int:
    """Ask clusters that answer again about their lost attempts: cancel a copy
    that still lives, record what became of each. Returns how many were settled."""
    with ctrl.store.session() as s:
        rows = list(
            s.execute(
                select(AttemptRow.id, AttemptRow.cluster, AttemptRow.native_id).where(
                    AttemptRow.state == JobState.NODE_FAIL.value,
                    AttemptRow.reason.like(f"{LOST}%{ASK_ON_RETURN}"),
                )
            )
        )
    by_cluster: dict[str, list[tuple[int, str | None]]] = {}
    for attempt_id, cluster, native in rows:
        by_cluster.setdefault(cluster, []).append((attempt_id, native))
    settled = 0
    for cluster, items in by_cluster.items():
        adapter = ctrl.adapters.get(cluster)
        if adapter is None:
            said = {a: "its cluster was removed" for a, _ in items}
        elif ctrl.clusters.health(cluster) == ClusterHealth.DOWN:
            continue
        else:
            try:
                said = await _ask(ctrl, cluster, items)
            except ClusterError as exc:
                ctrl.clusters.failed(cluster, exc)
                continue
            ctrl.clusters.succeeded(cluster)
        with ctrl.store.session() as s:
            for attempt_id, outcome in said.items():
                a = s.get(AttemptRow, attempt_id)
                if a is None or not (a.reason or "").endswith(ASK_ON_RETURN):
                    continue
                a.reason = f"{(a.reason or '').removesuffix(ASK_ON_RETURN)}; {outcome}"[:500]
                settled += 1
    return settled


async def _ask(
    ctrl: Controller, cluster: str, items: list[tuple[int, str | None]]
) -> dict[int, str]:
    adapter = ctrl.adapters[cluster]
    natives = [n for _, n in items if n is not None]
    answers = await adapter.status(natives) if natives else {}
    out: dict[int, str] = {}
    for attempt_id, native in items:
        status = answers.get(native) if native is not None else None
        if status is None:
            out[attempt_id] = f"{cluster} answered again with no record of it"
        elif status.state.terminal:
            out[attempt_id] = f"{cluster} answered again: it had ended {status.state.value}"
        else:
            assert native is not None
            await adapter.cancel(native)
            ctrl.mark_cancel_sent(cluster, native)
            out[attempt_id] = (
                f"{cluster} answered again: it was still {status.state.value}, cancelled there"
            )
    return out
