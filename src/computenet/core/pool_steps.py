"""The controller's pool step, and slurmctld's resume and suspend requests.

Every pass (at most every ``STEP_S`` per pool, at once after a placement on
a pool): the pool's nodes in the store follow what the provider and the
cluster's snapshot say (booting -> up, idle since when, failed, gone); then
for a pool of an embedded cluster the controller carries out
``network.bursting.plan``: grow for queued work, release nodes idle past
their time, fail nodes not up within the resume timeout (they are released,
the pool grows no more for one resume timeout, and the jobs waiting on it
are placed again). On Slurm, slurmctld's power saving decides growth and
release (``resume``/``suspend`` below); the step only keeps the books.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from computenet.core.pools import PoolState, add_event, live_rows
from computenet.errors import ClusterError, NotFoundError
from computenet.model import JobState, Snapshot
from computenet.network.bursting import BOOTING, UP, plan
from computenet.network.feasibility import fmt_duration
from computenet.store import jobs as repo
from computenet.store.tables import AttemptRow, JobRow
from computenet.store.tables_pools import PoolNodeRow

if TYPE_CHECKING:
    from computenet.core.controller import Controller

log = logging.getLogger("computenet.pools")
STEP_S = 1.0
WARN_EVERY_S = 600.0
_GONE = ("powered_down", "powering_down", "down")
_SLURM_UP = ("idle", "mixed", "allocated")


async def step(ctrl: Controller, *, force: bool = False) -> None:
    mgr = ctrl.pools
    if not mgr:
        return
    now = ctrl.clock.now()
    due = [st for st in mgr.pools.values() if force or mgr.dirty or now - st.last_step >= STEP_S]
    mgr.dirty = False
    for cluster in sorted({st.cluster.name for st in due}):
        adapter = ctrl.adapters.get(cluster)
        if adapter is None or ctrl.clusters.is_down(cluster):
            continue
        try:
            snapshot = await adapter.snapshot()
        except ClusterError as exc:
            ctrl.clusters.failed(cluster, exc, probe=True)
            continue
        for st in due:
            if st.cluster.name != cluster or st.provider is None:
                continue
            st.last_step = now
            try:
                await _sync(ctrl, st, snapshot, now)
                if st.cluster.kind != "slurm":
                    await _carry_out(ctrl, st, snapshot, now)
            except ClusterError as exc:
                log.warning("pool %s: %s", st.name, exc.message)
                with ctrl.store.session() as s:
                    add_event(s, now, st, "error", exc.message)


async def _sync(ctrl: Controller, st: PoolState, snapshot: Snapshot, now: float) -> None:
    assert st.provider is not None
    held = {n.name: n for n in await st.provider.list()}
    seen = {n.name: n for n in snapshot.nodes}
    slurm = st.cluster.kind == "slurm"
    failed: list[str] = []
    with ctrl.store.session() as s:
        for row in live_rows(s, st.name):
            got, snap = held.get(row.name), seen.get(row.name)
            if row.state == BOOTING:
                if got is not None and got.state == "failed":
                    _end(row, "failed", now, got.error or "the provider gave up on it")
                    add_event(s, now, st, "failed", f"node {row.name}: {row.end_reason}", row.name)
                    failed.append(row.name)
                    continue
                up = (
                    snap is not None and snap.state in _SLURM_UP
                    if slurm
                    else (got is not None and got.state == "running")
                )
                if up:
                    row.state, row.up_at = UP, now
                    boot = fmt_duration(now - row.requested_at)
                    add_event(s, now, st, "up", f"node {row.name} is up after {boot}", row.name)
            elif row.state == UP:
                # On Slurm the suspend request releases a node; a node powered
                # down whose slurmd is gone too was released without one.
                gone = got is None
                if slurm:
                    gone = gone and (snap is None or snap.state in _GONE)
                if gone:
                    _end(row, "released", now, "the node went away")
                    add_event(s, now, st, "release", f"node {row.name} went away", row.name)
                    continue
            if row.state == UP and snap is not None:
                if snap.cpus_alloc == 0 and snap.gpus_alloc == 0:
                    row.idle_since = row.idle_since or now
                else:
                    row.idle_since = None
    if failed:
        _block(st, now, f"node {', '.join(failed)} failed to boot")
        await _requeue(ctrl, st, f"pool {st.name}: node {', '.join(failed)} failed to boot")


def _end(row: PoolNodeRow, state: str, now: float, why: str) -> None:
    row.state, row.released_at, row.end_reason, row.idle_since = state, now, why[:500], None


def _block(st: PoolState, now: float, why: str) -> None:
    st.blocked_until = now + st.config.resume_timeout_s
    st.blocked_why = why


async def _carry_out(ctrl: Controller, st: PoolState, snapshot: Snapshot, now: float) -> None:
    assert st.provider is not None
    mgr = ctrl.pools
    with ctrl.store.session() as s:
        view = mgr.view(s, st, snapshot)
    p = plan(view, view.queued_cpus, now, mgr.caps())
    if p.failed:
        await st.provider.delete(p.failed)
        with ctrl.store.session() as s:
            for row in live_rows(s, st.name):
                if row.name in p.failed:
                    why = f"not up within {fmt_duration(st.config.resume_timeout_s)}"
                    _end(row, "failed", now, why)
                    add_event(s, now, st, "failed", f"node {row.name} {why}; released", row.name)
        _block(st, now, f"node {', '.join(p.failed)} did not boot in time")
        await _requeue(ctrl, st, f"pool {st.name}: node {', '.join(p.failed)} did not boot")
        return  # the next pass plans again without them
    if p.grow:
        with ctrl.store.session() as s:
            taken = {r.name for r in live_rows(s, st.name)}
            names = [n for n in st.names if n not in taken][: p.grow]
            for name in names:
                s.add(_row(st, name, now, p.reason))
            add_event(
                s, now, st, "grow", f"grows {len(names)} node(s): {p.reason}", None, nodes=names
            )
            if p.warning and now - st.warned_at >= WARN_EVERY_S:
                st.warned_at = now
                add_event(s, now, st, "warning", p.warning)
        try:
            await st.provider.create(names)
        except ClusterError as exc:
            with ctrl.store.session() as s:
                for row in live_rows(s, st.name):
                    if row.name in names and row.state == BOOTING:
                        _end(row, "failed", now, f"the provider refused: {exc.message}")
                add_event(s, now, st, "failed", f"the provider refused to grow: {exc.message}")
            _block(st, now, exc.message)
    if p.release:
        for name in p.release:
            try:
                await st.provider.delete([name])
            except ClusterError as exc:  # a job took the node meanwhile: keep it
                log.info("pool %s: keeps %s: %s", st.name, name, exc.message)
                continue
            with ctrl.store.session() as s:
                for row in live_rows(s, st.name):
                    if row.name == name:
                        idle = fmt_duration(now - (row.idle_since or now))
                        _end(row, "released", now, f"idle for {idle}")
                        add_event(
                            s,
                            now,
                            st,
                            "release",
                            f"node {name} released after {idle} idle",
                            name,
                            cost=round(row.cost(now), 6),
                        )


def _row(st: PoolState, name: str, now: float, reason: str) -> PoolNodeRow:
    return PoolNodeRow(
        pool=st.name,
        cluster=st.cluster.name,
        name=name,
        state=BOOTING,
        price_per_node_hour=st.config.price_per_node_hour,
        requested_at=now,
        reason=reason[:500],
    )


async def _requeue(ctrl: Controller, st: PoolState, why: str) -> list[int]:
    """Jobs queued on the pool's partition and not started: back to placement."""
    from computenet.core.failover import FAILOVER
    from computenet.core.hedge import MOVED, cancel_copies

    now = ctrl.clock.now()
    moved: list[tuple[int, str]] = []
    jobs = []
    with ctrl.store.session() as s:
        rows = s.execute(
            select(JobRow, AttemptRow)
            .join(
                AttemptRow,
                (AttemptRow.job_id == JobRow.id) & (AttemptRow.number == JobRow.attempt_count),
            )
            .where(
                JobRow.state == JobState.QUEUED.value,
                JobRow.cancel_requested.is_(False),
                AttemptRow.state == JobState.QUEUED.value,
                AttemptRow.cluster == st.cluster.name,
                AttemptRow.partition == st.config.partition,
            )
        )
        for job, attempt in rows:
            attempt.reason = f"{MOVED}{why}; cancel there"[:500]
            repo.transition(
                s,
                job,
                JobState.PENDING,
                now=now,
                reason=f"{FAILOVER}: {why}"[:500],
                attempt=attempt.number,
            )
            moved.append((attempt.id, why))
            jobs.append(job.id)
        if jobs:
            add_event(s, now, st, "requeue", f"{len(jobs)} job(s) placed again: {why}", jobs=jobs)
    await cancel_copies(ctrl, moved)
    if jobs:
        ctrl.wake()
    return jobs


# ----- a node powered up before its job is sent ---------------------------------------
async def hold_for_node(
    ctrl: Controller, cluster: str, partition: str | None, snapshot: Snapshot | None
) -> str | None:
    """Why a job placed on a pool of a Slurm cluster is not sent yet, or None.

    slurmctld (22.05) starts a batch job on a node it resumed for that job only
    on a later periodic pass, tens of seconds after the node is up; a job sent
    to a node already idle starts in its next scheduling pass (once a second).
    So when the broker grows a pool for a job, the controller starts the
    node's boot with the provider (the boot delay counts from this decision)
    and powers the node up in Slurm (``scontrol update state=power_up``:
    slurmctld later runs its ResumeProgram, which finds the node already
    booting), keeps the job until Slurm reports the node idle, and sends it
    then. While a node of the pool is up the job goes at once; a node not up
    within the resume timeout no longer holds anything back, and the job goes
    to Slurm's own power-up path. Jobs sent to the partition from outside
    computenet always take that path.
    """
    st = next(
        (
            p
            for p in ctrl.pools.for_cluster(cluster)
            if p.config.partition == partition and p.cluster.kind == "slurm"
        ),
        None,
    )
    adapter = ctrl.adapters.get(cluster)
    power_up = getattr(adapter, "power_up", None)
    if st is None or st.provider is None or snapshot is None or power_up is None:
        return None
    now = ctrl.clock.now()
    seen = {n.name: n for n in snapshot.nodes}
    with ctrl.store.session() as s:
        rows = live_rows(s, st.name)
        if any(seen.get(r.name) is not None and seen[r.name].state in _SLURM_UP for r in rows):
            return None  # a node is up: Slurm places the job at once
        booting = [
            r.name
            for r in rows
            if r.state == BOOTING and now - r.requested_at < st.config.resume_timeout_s
        ]
        if booting:
            return f"waiting for pool node {', '.join(booting)} to power up"
        if rows or ctrl.pools.caps().room(st.config.price_per_node_hour) == 0:
            return None
        taken = {r.name for r in rows}
        free = [
            n
            for n in st.names
            if n not in taken and (seen.get(n) is None or seen[n].state == "powered_down")
        ]
        if not free:
            # a node still powering down is powered up only once it is down
            down = [n for n in st.names if n not in taken and seen.get(n) is not None]
            if any(seen[n].state == "powering_down" for n in down):
                return "waiting for a pool node to finish powering down"
            return None
        name = free[0]
        s.add(_row(st, name, now, "powered up by computenet for a job placed on the pool"))
        msg = f"grows 1 node(s): powers {name} up for a job, sent there once it is idle"
        add_event(s, now, st, "grow", msg, None, nodes=[name])
    # The boot delay starts at the decision, not after scontrol answers; the
    # node's slurmd starts only once it has passed, and slurmctld has long
    # marked the node powering up by then (its ResumeProgram then finds the
    # node already booting).
    await st.provider.create([name])
    try:
        await power_up([name])
    except ClusterError as exc:
        await st.provider.delete([name])
        with ctrl.store.session() as s:
            for row in live_rows(s, st.name):
                if row.name == name and row.state == BOOTING:
                    _end(row, "failed", now, f"slurmctld refused to power it up: {exc.message}")
            add_event(s, now, st, "error", f"cannot power {name} up: {exc.message}", name)
        return None
    ctrl.pools.dirty = True
    return f"waiting for pool node {name} to power up"


# ----- slurmctld's ResumeProgram and SuspendProgram ------------------------------------
def _by_pool(
    ctrl: Controller, cluster: str, names: list[str]
) -> tuple[dict[str, list[str]], list[str]]:
    pools = ctrl.pools.for_cluster(cluster)
    if not pools:
        raise NotFoundError(f"cluster {cluster} has no pools")
    found: dict[str, list[str]] = {}
    unknown = []
    for name in names:
        st = next((p for p in pools if name in p.names), None)
        if st is None:
            unknown.append(name)
        else:
            found.setdefault(st.name, []).append(name)
    return found, unknown


async def resume(ctrl: Controller, cluster: str, names: list[str]) -> dict[str, Any]:
    """slurmctld wants these nodes up: start them (within the hard cap)."""
    found, unknown = _by_pool(ctrl, cluster, names)
    now = ctrl.clock.now()
    out: dict[str, Any] = {"resumed": [], "refused": [], "unknown": unknown}
    for pool, wanted in found.items():
        st = ctrl.pools.get(pool)
        if st.provider is None:
            out["refused"] += wanted
            continue
        room = ctrl.pools.caps().room(st.config.price_per_node_hour)
        with ctrl.store.session() as s:
            live = {r.name for r in live_rows(s, st.name)}
            new = [n for n in wanted if n not in live]
            take = new if room is None else new[:room]
            refused = [n for n in new if n not in take]
            for name in take:
                s.add(_row(st, name, now, "slurmctld resumed it for queued work"))
            if take:
                add_event(
                    s, now, st, "resume", f"slurmctld asks for {', '.join(take)}", None, nodes=take
                )
            if refused:
                add_event(
                    s,
                    now,
                    st,
                    "refused",
                    f"{', '.join(refused)} not started: the network's hard cap on pool "
                    f"spending is reached",
                    None,
                    nodes=refused,
                )
        if take:
            await st.provider.create(take)
        out["resumed"] += take + [n for n in wanted if n in live]
        out["refused"] += refused
    ctrl.pools.dirty = True
    return out


async def suspend(ctrl: Controller, cluster: str, names: list[str]) -> dict[str, Any]:
    """slurmctld powers these nodes down (idle past SuspendTime, or a failed resume)."""
    found, unknown = _by_pool(ctrl, cluster, names)
    now = ctrl.clock.now()
    out: dict[str, Any] = {"suspended": [], "unknown": unknown}
    for pool, wanted in found.items():
        st = ctrl.pools.get(pool)
        if st.provider is not None:
            await st.provider.delete(wanted)
        with ctrl.store.session() as s:
            for row in live_rows(s, st.name):
                if row.name not in wanted:
                    continue
                if row.state == BOOTING:
                    _end(row, "failed", now, "slurmctld gave up waiting for it (ResumeTimeout)")
                    add_event(s, now, st, "failed", f"node {row.name}: {row.end_reason}", row.name)
                else:
                    _end(row, "released", now, "suspended by slurmctld")
                    add_event(
                        s,
                        now,
                        st,
                        "suspend",
                        f"node {row.name} suspended by slurmctld",
                        row.name,
                        cost=round(row.cost(now), 6),
                    )
        out["suspended"] += wanted
    return out
