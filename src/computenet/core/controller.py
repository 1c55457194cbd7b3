"""The controller: a reconcile loop that moves every live job one step on.

Each step is idempotent. A submission is tagged (``core.tags``); the
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
from typing import TYPE_CHECKING

from sqlalchemy import select

from computenet.clock import Clock
from computenet.config import Settings
from computenet.core import (
    app_figures,
    failover,
    hedge,
    lost_clusters,
    placing,
    polling,
    pool_steps,
    speeds,
    submission,
    tags,
)
from computenet.core.cluster_state import ClusterStates
from computenet.core.pools import PoolManager
from computenet.core.service import accounting_guard
from computenet.core.staging_steps import StagingTasks
from computenet.core.tags import is_tag, tag_for
from computenet.core.tenancy import Tenancy
from computenet.errors import ClusterError, StoreError
from computenet.model import JobState
from computenet.model.tenancy import ClusterIdentity
from computenet.network.app_speed import AppSpeedModel
from computenet.network.speed import SpeedModel
from computenet.store import jobs as repo
from computenet.store import leases
from computenet.store.db import Store
from computenet.store.tables import JobRow

if TYPE_CHECKING:
    from computenet.clusters.base import ClusterAdapter

__all__ = ["Controller", "tag_for"]

log = logging.getLogger("computenet.controller")

LIVE = [
    JobState.PENDING,
    JobState.STAGING_IN,
    JobState.QUEUED,
    JobState.RUNNING,
    JobState.STAGING_OUT,
]
LEASE_TTL_S = 15.0
MIN_GAP_S = 0.02


class Controller:
    def __init__(
        self,
        store: Store,
        adapters: dict[str, ClusterAdapter],
        settings: Settings,
        clock: Clock,
        *,
        network_id: str | None = None,
        tenancy: Tenancy | None = None,
    ) -> None:
        self.store = store
        #: this database's network id, part of every attempt tag
        self.network_id = network_id or tags.network_id(store, now=clock.now())
        self.adapters = adapters
        self.settings = settings
        self.clock = clock
        self.clusters = ClusterStates(adapters, clock)
        self.clusters.home = settings.home_cluster
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._cancel_sent: set[tuple[str, str]] = set()
        #: held for a whole pass; adding or removing a cluster waits for it
        self.lock = asyncio.Lock()
        self.passes = 0
        self.leader = False
        self._lease_renew_at = 0.0
        self.guard = accounting_guard()
        #: run time per requested time, per app and cluster, learned from completed attempts
        self.speed = SpeedModel()
        speeds.warm(self.speed, store)
        #: catalogue applications' measured speeds, from their performance figures
        self.app_speed = AppSpeedModel()
        app_figures.warm(self.app_speed, store)
        self._figures_caught_up = False
        #: background copies of jobs' inputs and outputs, one per job
        self.staging = StagingTasks(self)
        #: projects' allowed clusters and partitions, and who submits for each
        self.tenancy = tenancy or Tenancy(
            store, clock, lambda: settings.clusters, ttl_s=settings.auth_cache_ttl_s
        )
        self._identities_seen: dict[str, tuple[ClusterIdentity, ...]] = {}
        #: node pools of the configured clusters (core.pools, core.pool_steps)
        self.pools = PoolManager(self, settings.clusters)

    # ----- lifecycle -----------------------------------------------------
    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._pools_started = False
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="controller")

    async def stop(self) -> None:
        await self.staging.stop()
        await self.pools.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            try:
                leases.release(self.store, "controller", self.holder)
            except StoreError as exc:  # it expires by itself; a stop must not fail on it
                log.warning("controller lease not released: %s", exc.message)

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
            except StoreError as exc:  # the store logs the outage once; no traceback per pass
                log.debug("controller pass skipped: %s", exc.message)
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

    def tag_for(self, job_id: int, attempt: int) -> str:
        """The tag of a job's attempt in this network."""
        return tag_for(self.network_id, job_id, attempt)

    def mark_cancel_sent(self, cluster: str, native_id: str) -> None:
        self._cancel_sent.add((cluster, native_id))

    async def _step(self) -> None:
        await self.clusters.refresh()  # every server answers feasibility questions
        now = self.clock.now()
        # Renew only once a third of the lease has passed: one write per few
        # seconds instead of one per pass.
        if not self.leader or now >= self._lease_renew_at:
            try:
                held = leases.acquire(
                    self.store, "controller", self.holder, now=now, ttl_s=LEASE_TTL_S
                )
            except StoreError:
                self.leader = False  # unrenewed: another server may hold it when the store returns
                raise
            if not held:
                self.leader = False
                return  # another server runs the controller on this database
            self.leader = True
            self._lease_renew_at = now + LEASE_TTL_S / 3
        await self.clusters.probe()
        self.sync_identities()
        if self.pools and not getattr(self, "_pools_started", False):
            await self.pools.start()  # after the adapters: providers attach to them
            self._pools_started = True
        await self._handle_cancels()
        self.staging.resume()
        await failover.move_off_down(self)
        await lost_clusters.requeue_lost(self)
        await lost_clusters.settle_lost(self)
        await placing.place_pending(self)
        await pool_steps.step(self)
        await polling.poll_active(self)
        await hedge.confirm_copies(self)
        if not self._figures_caught_up:  # once per start: figures a stop left unread
            self._figures_caught_up = True
            await app_figures.catch_up(self, now)
        self.passes += 1

    def sync_identities(self, *, force: bool = False) -> None:
        """Give each adapter its cluster's identities when they changed (read
        through the tenancy cache, so at most once per its TTL)."""
        if force:
            self.tenancy.forget_project()
        by_cluster: dict[str, list[ClusterIdentity]] = {}
        for identity in self.tenancy.identities():
            by_cluster.setdefault(identity.cluster, []).append(identity)
        for name, adapter in list(self.adapters.items()):
            mine = tuple(by_cluster.get(name, ()))
            if self._identities_seen.get(name) != mine:
                adapter.use_identities(mine)
                self._identities_seen[name] = mine

    async def _handle_cancels(self) -> None:
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
            asked: set[tuple[str, str]] = set()
            for job in rows:
                copies = hedge.live_copies(s, job.id)
                if job.state in ("PENDING", "STAGING_IN") and not any(a.native_id for a in copies):
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
                    asked.add((a.cluster, ident))
                    if (a.cluster, ident) not in self._cancel_sent:
                        todo.append((a.cluster, ident))
        # Forget cancels of copies that are no longer live and asked to stop:
        # without this the set grows by one entry per cancel for the server's
        # life. A forgotten copy that is asked again is cancelled again, which
        # every cluster takes as a no-op.
        self._cancel_sent &= asked
        for cluster, ident in todo:
            adapter = self.adapters.get(cluster)
            if adapter is None or self.clusters.is_down(cluster):
                continue
            try:
                native = (await adapter.find(ident)) if is_tag(ident) else ident
                if native is not None:
                    await adapter.cancel(native)
                    self._cancel_sent.add((cluster, native))
            except ClusterError as exc:
                self.clusters.failed(cluster, exc)

    async def submit_copy(self, job_id: int, attempt_id: int) -> None:
        """Submit (or find) one written attempt, e.g. a hedge copy after a crash."""
        await submission.submit_copy(self, job_id, attempt_id)
