"""Runtime: settings, store, cluster adapters and the controller of one server.

Clusters come from the configuration file and from the ``clusters`` table
(added through the API, ``source="api"``); both are loaded at start. Adding
or removing a cluster while the server runs changes the one adapters mapping
that the controller, the API and telemetry share.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from computenet.clock import Clock, SystemClock
from computenet.config import ClusterConfig, Settings
from computenet.errors import (
    ClusterError,
    ClusterUnavailable,
    ComputeNetError,
    ConfigError,
    ConflictError,
    NotFoundError,
)
from computenet.model import ClusterHealth
from computenet.store.db import Store
from computenet.store.tables import ClusterRow
from computenet.store.users import ensure_local_user, new_token

log = logging.getLogger("computenet.runtime")

#: How long starting one cluster (daemons, an SSH login) may take before it counts as DOWN.
CLUSTER_START_TIMEOUT_S = 20.0

if TYPE_CHECKING:
    from computenet.clusters.base import ClusterAdapter
    from computenet.containers.builds import ImageBuilds
    from computenet.core.transfer_runs import TransferRuns


class Service(Protocol):
    """A background part of the server (telemetry collection, accounting)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


#: Modules that may provide ``make_service(runtime) -> Service``; absent ones are skipped.
SERVICE_MODULES = ("computenet.telemetry.service", "computenet.accounting.service")


def _optional_services() -> list[Callable[[Runtime], Service]]:
    makers = []
    for name in SERVICE_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and name.startswith(exc.name):
                continue
            raise
        makers.append(module.make_service)
    return makers


def make_adapter(config: ClusterConfig, settings: Settings, clock: Clock) -> ClusterAdapter:
    """Build the adapter for a cluster; backends are imported only when used."""
    if config.kind == "embedded":
        from computenet.clusters.embedded import EmbeddedCluster

        return EmbeddedCluster(
            config,
            settings.state_dir / "clusters" / config.name,
            clock,
            image_root=settings.image_root(config.site),
            mount_roots=tuple(settings.container_mount_roots),
        )
    if config.kind == "slurm":
        from computenet.clusters.slurm import SlurmCluster

        return SlurmCluster(
            config,
            image_root=settings.image_root(config.site),
            mount_roots=tuple(settings.container_mount_roots),
        )
    if config.kind == "fake":
        from computenet.clusters.fake import FakeCluster

        return FakeCluster(config.to_info(), clock)
    raise ConfigError(f"cluster {config.name}: unknown kind {config.kind!r}")


def read_or_create_token(path: Path) -> str:
    """The local user's token, in a 0600 file made on first use."""
    if path.exists():
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            path.chmod(0o600)
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    token = new_token()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    return token


class Runtime:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        adapters: dict[str, ClusterAdapter] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self._transfer_runs: TransferRuns | None = None
        self._image_builds: ImageBuilds | None = None
        self.store = Store(settings.effective_database_url)
        self.store.migrate()
        self._ensure_local_user()
        self.adapters: dict[str, ClusterAdapter] = (
            adapters
            if adapters is not None
            else {c.name: make_adapter(c, settings, self.clock) for c in settings.clusters}
        )
        #: where each cluster was declared: "config" or "api"
        self.cluster_sources: dict[str, str] = {name: "config" for name in self.adapters}
        self.cluster_configs: dict[str, ClusterConfig] = {c.name: c for c in settings.clusters}
        self._load_api_clusters()
        from computenet.core.tenancy import Tenancy

        #: callers by token, projects' access and identities, cached (core/tenancy.py)
        self.tenancy = Tenancy(
            self.store,
            self.clock,
            lambda: list(self.cluster_configs.values()),
            ttl_s=settings.auth_cache_ttl_s,
            login_max_failures=settings.login_max_failures,
            login_window_s=settings.login_window_s,
        )
        from computenet.core.admission import Admission

        #: a token bucket per user, checked before a route's work (core/admission.py)
        self.admission = Admission(self.clock, settings.request_rate_per_s, settings.request_burst)
        from computenet.core.controller import Controller
        from computenet.core.tags import network_id

        #: this database's network id (made once per database), part of every attempt tag
        self.network_id = network_id(self.store, now=self.clock.now())
        self.controller = Controller(
            self.store,
            self.adapters,
            settings,
            self.clock,
            network_id=self.network_id,
            tenancy=self.tenancy,
        )
        self.controller.clusters.listeners.append(self._save_health)
        self.controller.clusters.preflight = self._preflight
        self.services: list[Service] = [make(self) for make in _optional_services()]

    def _ensure_local_user(self) -> None:
        """The local user: a network admin and manager of the configured
        project, holding the configured token (or the token file's). A token
        file whose token was revoked is replaced by a new one."""
        from computenet.errors import AuthError
        from computenet.store.users import check_token

        settings = self.settings
        for _ in range(2):
            token = settings.token or read_or_create_token(settings.token_file)
            with self.store.session() as s:
                row = ensure_local_user(
                    s, settings.user, token, now=self.clock.now(), project=settings.project
                )
                try:
                    check_token(row, self.clock.now())
                    return
                except AuthError as exc:
                    if settings.token:
                        log.warning("the configured token (CN_TOKEN) cannot be used: %s", exc)
                        return
            log.warning("the local token was revoked or expired; writing a new one")
            settings.token_file.unlink(missing_ok=True)

    def identities_changed(self) -> None:
        """Identities were set or removed here: forget cached access, tell the adapters."""
        self.tenancy.forget_project()
        self.controller.sync_identities(force=True)

    # ----- clusters added at run time -------------------------------------------
    def _load_api_clusters(self) -> None:
        from sqlalchemy import select

        with self.store.session() as s:
            rows = list(s.scalars(select(ClusterRow).where(ClusterRow.source == "api")))
        for row in rows:
            if row.name in self.adapters:
                log.warning("cluster %s is in the configuration file; API copy ignored", row.name)
                continue
            try:
                config = ClusterConfig.model_validate(row.config)
                self.adapters[row.name] = make_adapter(config, self.settings, self.clock)
            except (ComputeNetError, ValueError) as exc:
                log.error("cluster %s from the database cannot be built: %s", row.name, exc)
                continue
            self.cluster_sources[row.name] = "api"
            self.cluster_configs[row.name] = config

    def _save_health(self, name: str, health: ClusterHealth, reason: str | None) -> None:
        """Keep an API cluster's row in step with its health (shown after restarts too)."""
        with self.store.session() as s:
            row = s.get(ClusterRow, name)
            if row is not None:
                row.health, row.health_reason = health.value, reason
                row.updated_at = self.clock.now()

    def _preflight(self, name: str) -> str | None:
        """Why a cluster cannot be asked now. Slurm's commands wait a minute
        for a missing slurm.conf; say so at once instead."""
        config = self.cluster_configs.get(name)
        if config is None or config.kind != "slurm" or config.ssh or not config.slurm_conf:
            return None
        if not Path(config.slurm_conf).is_file():
            return f"slurm_conf {config.slurm_conf} does not exist"
        return None

    async def _start_adapter(self, name: str) -> None:
        """Start one adapter; a cluster that cannot start is DOWN, not a failed server."""
        adapter = self.adapters[name]
        why = self._preflight(name)
        if why is not None:
            self.controller.clusters.failed(name, ClusterError(f"{name}: {why}"), probe=True)
            return
        try:
            await asyncio.wait_for(adapter.start(), CLUSTER_START_TIMEOUT_S)
        except TimeoutError:
            error: ClusterError = ClusterUnavailable(
                f"{name}: no answer within {CLUSTER_START_TIMEOUT_S:g} s"
            )
        except ClusterError as exc:
            error = exc
        except ComputeNetError as exc:
            error = ClusterError(f"{name}: {exc.message}")
        else:
            return
        log.warning("cluster %s did not start: %s", name, error)
        self.controller.clusters.failed(name, error, probe=True)

    async def add_cluster(self, config: ClusterConfig) -> None:
        """Add a cluster while the server runs, and remember it in the database.

        Raises ``ConflictError`` if the name is taken. A cluster that cannot be
        reached is still added: it shows DOWN with the reason until it answers.
        """
        if config.name in self.adapters:
            source = self.cluster_sources.get(config.name, "config")
            where = "the configuration file" if source == "config" else "an earlier add"
            raise ConflictError(f"cluster {config.name} already exists (from {where})")
        adapter = make_adapter(config, self.settings, self.clock)
        now = self.clock.now()
        with self.store.session() as s:
            s.add(
                ClusterRow(
                    name=config.name,
                    kind=config.kind,
                    config=config.model_dump(mode="json"),
                    source="api",
                    health="UP",
                    failures=0,
                    retry_at=0.0,
                    updated_at=now,
                )
            )
        async with self.controller.lock:
            self.adapters[config.name] = adapter
            self.cluster_sources[config.name] = "api"
            self.cluster_configs[config.name] = config
        await self._start_adapter(config.name)
        try:
            await asyncio.wait_for(self.controller.clusters.refresh(), CLUSTER_START_TIMEOUT_S)
        except TimeoutError:
            late = f"{config.name}: no answer within {CLUSTER_START_TIMEOUT_S:g} s"
            self.controller.clusters.failed(config.name, ClusterUnavailable(late), probe=True)
        self.controller.wake()

    async def remove_cluster(self, name: str, *, force: bool = False) -> dict[str, Any]:
        """Remove an API-added cluster. Raises ``NotFoundError`` for an unknown
        name and ``ConflictError`` for a configured one or while it has live
        jobs (``force`` cancels those there and requeues them elsewhere)."""
        from computenet.core.failover import requeue_off_cluster

        if name not in self.adapters:
            raise NotFoundError(f"no cluster named {name!r}")
        if self.cluster_sources.get(name) != "api":
            raise ConflictError(
                f"cluster {name} comes from the configuration file; remove it there "
                "and restart the server"
            )
        async with self.controller.lock:
            moved = await requeue_off_cluster(self.controller, name, force=force)
            adapter = self.adapters.pop(name)
            self.cluster_sources.pop(name, None)
            self.cluster_configs.pop(name, None)
            self.controller.clusters.forget(name)
            with self.store.session() as s:
                row = s.get(ClusterRow, name)
                if row is not None:
                    s.delete(row)
        try:
            await adapter.close()
        except ComputeNetError as exc:
            log.warning("closing cluster %s: %s", name, exc)
        self.controller.wake()
        return {"name": name, "requeued": moved}

    @property
    def transfer_runs(self) -> TransferRuns:
        """The copies this server carries out (made on first use)."""
        if self._transfer_runs is None:
            from computenet.core.transfer_runs import TransferRuns

            self._transfer_runs = TransferRuns(self.store)
        return self._transfer_runs

    @property
    def image_builds(self) -> ImageBuilds:
        """The image builds this server runs, in its build thread (made on first use)."""
        if self._image_builds is None:
            from computenet.containers.builds import ImageBuilds

            self._image_builds = ImageBuilds()
        return self._image_builds

    async def start(self) -> None:
        await asyncio.gather(*(self._start_adapter(name) for name in list(self.adapters)))
        self.controller.start()
        await asyncio.to_thread(self.transfer_runs.recover)
        for service in self.services:
            await service.start()

    async def stop(self) -> None:
        for service in reversed(self.services):
            await service.stop()
        await self.controller.stop()
        if self._transfer_runs is not None:
            await asyncio.to_thread(self._transfer_runs.shutdown)
        if self._image_builds is not None:
            await asyncio.to_thread(self._image_builds.shutdown)
        for adapter in self.adapters.values():
            await adapter.close()
        self.store.close()
