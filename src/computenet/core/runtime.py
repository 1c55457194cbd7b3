"""Runtime: settings, store, cluster adapters and the controller of one server."""

from __future__ import annotations

import importlib
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from computenet.clock import Clock, SystemClock
from computenet.config import ClusterConfig, Settings
from computenet.errors import ConfigError
from computenet.store.db import Store
from computenet.store.users import ensure_user, new_token

if TYPE_CHECKING:
    from computenet.clusters.base import ClusterAdapter


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

        return EmbeddedCluster(config, settings.state_dir / "clusters" / config.name, clock)
    if config.kind == "slurm":
        from computenet.clusters.slurm import SlurmCluster

        return SlurmCluster(config)
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
        self.store = Store(settings.effective_database_url)
        self.store.migrate()
        token = settings.token or read_or_create_token(settings.token_file)
        with self.store.session() as s:
            ensure_user(
                s,
                settings.user,
                token,
                now=self.clock.now(),
                is_admin=True,
                project=settings.project,
            )
        self.adapters: dict[str, ClusterAdapter] = (
            adapters
            if adapters is not None
            else {c.name: make_adapter(c, settings, self.clock) for c in settings.clusters}
        )
        from computenet.core.controller import Controller

        self.controller = Controller(self.store, self.adapters, settings, self.clock)
        self.services: list[Service] = [make(self) for make in _optional_services()]

    async def start(self) -> None:
        for adapter in self.adapters.values():
            await adapter.start()
        self.controller.start()
        for service in self.services:
            await service.start()

    async def stop(self) -> None:
        for service in reversed(self.services):
            await service.stop()
        await self.controller.stop()
        for adapter in self.adapters.values():
            await adapter.close()
        self.store.close()
