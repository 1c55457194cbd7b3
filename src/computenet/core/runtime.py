"""Runtime: settings, store, cluster adapters and the controller of one server."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from computenet.clock import Clock, SystemClock
from computenet.config import ClusterConfig, Settings
from computenet.errors import ConfigError
from computenet.store.db import Store
from computenet.store.users import ensure_user, new_token

if TYPE_CHECKING:
    from computenet.clusters.base import ClusterAdapter


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

    async def start(self) -> None:
        for adapter in self.adapters.values():
            await adapter.start()
        self.controller.start()

    async def stop(self) -> None:
        await self.controller.stop()
        for adapter in self.adapters.values():
            await adapter.close()
        self.store.close()
