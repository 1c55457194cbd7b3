"""What the controller knows of each cluster: its description, health and
latest snapshot.

Health follows the broker's pure state machine (``network.health``): UP ->
DEGRADED on a failed call, DOWN after ``down_after`` failed probes, back
through DEGRADED on answers. While a cluster fails, only one failure per
probe slot counts (a pass makes several calls; one bad second must not take
a cluster down), and a DOWN cluster is left alone until its next probe is
due. A cluster that has never answered is DOWN at once: there is nothing to
place on.

The adapters mapping is shared with the runtime: clusters added or removed
at run time appear here on the next call.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from computenet.clock import Clock
from computenet.errors import ClusterError
from computenet.model import ClusterHealth, ClusterInfo
from computenet.network.health import HealthPolicy, HealthState, next_health, probe_due

if TYPE_CHECKING:
    from computenet.clusters.base import ClusterAdapter

log = logging.getLogger("computenet.clusters")

INFO_REFRESH_S = 60.0
HEALTHY_PROBE_S = 15.0  # an idle healthy cluster is asked this often whether it still answers
PROBE_TIMEOUT_S = 30.0  # a probe still unanswered then counts as a failure
PROBE_WAIT_S = 2.0  # a pass waits this long for probes; slower ones finish in the background
#: Faster re-probes than the broker's default: a live server wants a cluster back soon.
CONTROLLER_HEALTH = HealthPolicy(degrade_after=1, down_after=3, base_s=2.0, max_s=60.0)

#: Called with (cluster, health, reason) whenever a cluster's health changes.
HealthListener = Callable[[str, ClusterHealth, "str | None"], None]
#: Why a cluster cannot be asked at all right now (e.g. its slurm.conf is missing), or None.
Preflight = Callable[[str], "str | None"]


@dataclass
class ClusterStatus:
    info: ClusterInfo | None = None
    info_time: float = 0.0
    state: HealthState = field(default_factory=HealthState)
    last_error: str | None = None
    last_ok: float = 0.0  # when it last answered

    @property
    def health(self) -> ClusterHealth:
        return self.state.health

    @property
    def failures(self) -> int:
        return self.state.failures

    @property
    def retry_at(self) -> float:
        return self.state.retry_at


class ClusterStates:
    def __init__(
        self,
        adapters: dict[str, ClusterAdapter],
        clock: Clock,
        policy: HealthPolicy = CONTROLLER_HEALTH,
    ) -> None:
        self.adapters = adapters
        self.clock = clock
        #: the home cluster of the local-first policy (settings.home_cluster)
        self.home: str | None = None
        self.policy = policy
        self._status: dict[str, ClusterStatus] = {name: ClusterStatus() for name in adapters}
        self.listeners: list[HealthListener] = []
        self.preflight: Preflight = lambda _name: None
        self._probing: dict[str, asyncio.Task[None]] = {}
        #: clusters an administrator drained: no new jobs go there (in this
        #: server's memory; a restart or another server does not know it)
        self.drained: set[str] = set()

    @property
    def status(self) -> dict[str, ClusterStatus]:
        """Status per configured cluster (kept in step with the adapters)."""
        for name in self.adapters:
            if name not in self._status:
                self._status[name] = ClusterStatus()
        for name in [n for n in self._status if n not in self.adapters]:
            del self._status[name]
        return self._status

    def _st(self, name: str) -> ClusterStatus:
        return self.status.setdefault(name, ClusterStatus())

    def health(self, name: str) -> ClusterHealth:
        st = self.status.get(name)
        return ClusterHealth.DOWN if st is None else st.health

    def is_down(self, name: str) -> bool:
        """DOWN and not yet due for another probe (calls to it are skipped)."""
        st = self.status.get(name)
        return st is None or (
            st.health == ClusterHealth.DOWN and not probe_due(st.state, self.clock.now())
        )

    def failed(self, name: str, exc: ClusterError, *, probe: bool = False) -> None:
        """A call failed. A refusal (not transient) says the cluster answered,
        unless it came from a probe (``info``/``snapshot``): a cluster that
        cannot describe itself cannot run anything."""
        if name not in self.adapters:
            return
        st = self._st(name)
        st.last_error = str(exc)
        if not exc.transient and not probe:
            return
        now = self.clock.now()
        old = st.state
        if old.failures > 0 and not probe_due(old, now):
            return  # this probe slot already counted a failure
        new = next_health(old, False, now, self.policy)
        if st.info is None and new.health != ClusterHealth.DOWN:
            # Never answered: nothing to place on, say so plainly.
            new = HealthState(
                ClusterHealth.DOWN, max(new.failures, self.policy.down_after), 0, new.retry_at, now
            )
        st.state = new
        if new.health != old.health:
            log.warning("cluster %s %s: %s", name, new.health.value, exc)
            self._notify(name, new.health, st.last_error)

    def succeeded(self, name: str) -> None:
        if name not in self.adapters:
            return
        st = self._st(name)
        st.last_ok = self.clock.now()
        old = st.state
        if old.health == ClusterHealth.UP and old.failures == 0 and st.last_error is None:
            return
        st.state = next_health(old, True, self.clock.now(), self.policy)
        st.last_error = None
        if st.health != old.health:
            log.info("cluster %s is %s again", name, st.health.value)
            self._notify(name, st.health, None)

    def forget(self, name: str) -> None:
        self._status.pop(name, None)

    def _notify(self, name: str, health: ClusterHealth, reason: str | None) -> None:
        for listener in self.listeners:
            try:
                listener(name, health, reason)
            except Exception:  # a listener must not break health tracking
                log.exception("health listener failed for %s", name)

    def _blocked(self, name: str) -> bool:
        """True (and counted as a failed probe) when the preflight says no."""
        why = self.preflight(name)
        if why is not None:
            self.failed(name, ClusterError(f"{name}: {why}"), probe=True)
        return why is not None

    async def refresh(self) -> None:
        """Read each cluster's description when stale. DOWN clusters are left
        to ``probe``, which never holds a pass for long."""
        now = self.clock.now()
        for name, adapter in list(self.adapters.items()):
            st = self._st(name)
            if st.info is not None and now - st.info_time < INFO_REFRESH_S:
                continue
            if st.health == ClusterHealth.DOWN or self._blocked(name):
                continue
            try:
                st.info, st.info_time = await adapter.info(), now
                self.succeeded(name)
            except ClusterError as exc:
                self.failed(name, exc, probe=True)

    def _probe_done(self, name: str, _task: asyncio.Task[None]) -> None:
        self._probing.pop(name, None)

    async def probe(self) -> None:
        """Ask for a snapshot from every failing cluster whose probe is due, and
        from every healthy one not heard from in ``HEALTHY_PROBE_S``: a cluster
        goes DOWN, or comes back, even when no job calls it. Waits at most
        ``PROBE_WAIT_S``; a slow probe goes on in the background."""
        now = self.clock.now()
        started = []
        for name in list(self.adapters):
            st = self._st(name)
            if name in self._probing:
                continue
            if st.health == ClusterHealth.UP and st.failures == 0:
                if now - st.last_ok < HEALTHY_PROBE_S:
                    continue
            elif not probe_due(st.state, now):
                continue
            if self._blocked(name):
                continue
            task = asyncio.create_task(self._probe_one(name), name=f"probe {name}")
            self._probing[name] = task
            task.add_done_callback(functools.partial(self._probe_done, name))
            started.append(task)
        if started:
            await asyncio.wait(started, timeout=PROBE_WAIT_S)

    async def _probe_one(self, name: str) -> None:
        adapter = self.adapters.get(name)
        if adapter is None:
            return
        st = self._st(name)
        try:
            async with asyncio.timeout(PROBE_TIMEOUT_S):
                if st.info is None:
                    st.info, st.info_time = await adapter.info(), self.clock.now()
                await adapter.snapshot()
            self.succeeded(name)
        except TimeoutError:
            self.failed(
                name,
                ClusterError(f"{name}: no answer within {PROBE_TIMEOUT_S:g} s", transient=True),
                probe=True,
            )
        except ClusterError as exc:
            self.failed(name, exc, probe=True)

    def infos(self) -> list[ClusterInfo]:
        return [st.info for st in self.status.values() if st.info is not None]

    async def views(self, *, with_snapshots: bool) -> dict[str, Any]:
        """A broker view per cluster that has described itself. With
        snapshots, a cluster whose snapshot fails (or is not due for a probe)
        counts as DOWN for this decision."""
        from computenet.network import ClusterView

        out: dict[str, Any] = {}
        for name, adapter in list(self.adapters.items()):
            st = self._st(name)
            if st.info is None:
                continue
            snap = None
            health = st.health
            if with_snapshots:
                if self.is_down(name):
                    health = ClusterHealth.DOWN
                else:
                    try:
                        snap = await adapter.snapshot()
                        self.succeeded(name)
                        health = st.health
                    except ClusterError as exc:
                        self.failed(name, exc, probe=True)
                        health = ClusterHealth.DOWN
            out[name] = ClusterView(
                info=st.info,
                snapshot=snap,
                health=health,
                home=name == self.home,
                containers=adapter.features().get("containers"),
                drained=name in self.drained,
            )
        return out

    def describe(self) -> list[dict[str, Any]]:
        rows = []
        for name, st in self.status.items():
            info = st.info
            rows.append(
                {
                    "name": name,
                    "kind": info.kind if info else None,
                    "site": info.site if info else None,
                    "region": info.region if info else None,
                    "scheduler": info.scheduler if info else None,
                    "health": st.health.value,
                    "last_error": st.last_error,
                    "drained": name in self.drained,
                    "features": self.adapters[name].features(),
                    "partitions": [
                        {
                            "name": p.name,
                            "nodes": p.nodes,
                            "cores_per_node": p.node_type.cores,
                            "threads_per_core": p.node_type.threads_per_core,
                            "cpus": p.total_cpus,
                            "mem_per_node_bytes": p.node_type.mem_bytes,
                            "gpus_per_node": p.node_type.gpus,
                            "gpu_model": p.node_type.gpu_model,
                            "speed": p.node_type.speed,
                            "max_time_s": p.max_time_s,
                            "default": p.default,
                            "price_per_core_hour": p.price_per_core_hour,
                            "price_per_gpu_hour": p.price_per_gpu_hour,
                        }
                        for p in (info.partitions if info else ())
                    ],
                }
            )
        return rows
