"""The local provider for a Slurm cluster on this machine: the slurmd of
each of the pool's ``State=CLOUD`` nodes (Debian's MULTIPLE_SLURMD build,
one slurmd per node name, as ``scripts/dev-slurm`` runs its static nodes).

slurmctld asks for a node by running its ResumeProgram (``cnet pool
resume``), which hands the hostlist to the server; the server waits the
boot delay and starts ``slurmd -b`` (``-b``: report the node as booted now,
or slurmctld keeps waiting for a reboot it never sees). Suspending stops the
slurmd by its PID file, after checking the PID is that node's slurmd.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from computenet.clusters.pools.base import BOOTING, FAILED, RUNNING, NodeProvider, ProviderNode
from computenet.errors import ClusterError, ConfigError

if TYPE_CHECKING:
    from computenet.config import ClusterConfig, PoolConfig

log = logging.getLogger("computenet.pools")
SLURMD = "/usr/sbin/slurmd"
STOP_WAIT_S = 10.0


def read_conf(path: Path) -> dict[str, str]:
    """The ``Key=Value`` lines of a slurm.conf (keys lower-cased; first wins)."""
    out: dict[str, str] = {}
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        key, sep, value = line.partition("=")
        if sep and " " not in key.strip():
            out.setdefault(key.strip().lower(), value.strip())
    return out


class SlurmdNodes(NodeProvider):
    kind = "local"

    def __init__(self, pool: PoolConfig, slurm_conf: Path, *, slurmd: str = SLURMD) -> None:
        self.pool = pool
        self.slurm_conf = slurm_conf
        self.slurmd = slurmd
        conf = read_conf(slurm_conf)
        self._pidfile = conf.get("slurmdpidfile", "/var/run/slurmd-%n.pid")
        self._spool = conf.get("slurmdspooldir", "/var/spool/slurmd/%n")
        self._boots: dict[str, asyncio.Task[None]] = {}
        self._failed: dict[str, str] = {}

    @classmethod
    def for_cluster(cls, pool: PoolConfig, cluster: ClusterConfig) -> SlurmdNodes:
        if cluster.ssh or not cluster.slurm_conf:
            raise ConfigError(
                f"pool {pool.name}: the local provider starts slurmd on this machine; "
                f"cluster {cluster.name} needs a local slurm_conf (and no ssh)"
            )
        return cls(pool, Path(cluster.slurm_conf))

    def _path(self, template: str, name: str) -> Path:
        return Path(template.replace("%n", name).replace("%h", name))

    def _pid(self, name: str) -> int | None:
        """The PID of this node's slurmd, if it runs (a reused PID does not count)."""
        try:
            pid = int(self._path(self._pidfile, name).read_text().split()[0])
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            return None
        words = [a.decode(errors="replace") for a in argv]
        if not words or not Path(words[0]).name.startswith("slurmd") or name not in words:
            return None
        return pid

    async def create(self, names: Sequence[str]) -> list[ProviderNode]:
        out = []
        for name in names:
            self._failed.pop(name, None)
            if self._pid(name) is not None:
                out.append(ProviderNode(name, RUNNING))
                continue
            if name not in self._boots:
                self._boots[name] = asyncio.create_task(self._boot(name), name=f"boot {name}")
            out.append(ProviderNode(name, BOOTING))
        return out

    async def _boot(self, name: str) -> None:
        try:
            await asyncio.sleep(self.pool.boot_delay_s)
            self._path(self._spool, name).mkdir(parents=True, exist_ok=True)
            argv = [self.slurmd, "-b", "-f", str(self.slurm_conf), "-N", name]
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                env=dict(os.environ, SLURM_CONF=str(self.slurm_conf)),
                start_new_session=True,
            )
            _, err = await proc.communicate()  # slurmd forks into the background
            if proc.returncode != 0:
                why = err.decode(errors="replace").strip()[-300:] or f"exit {proc.returncode}"
                self._failed[name] = f"slurmd did not start: {why}"
                log.warning("pool %s: node %s: %s", self.pool.name, name, self._failed[name])
        except OSError as exc:
            self._failed[name] = f"cannot start slurmd: {exc.strerror}"
            log.warning("pool %s: node %s: %s", self.pool.name, name, self._failed[name])
        finally:
            self._boots.pop(name, None)
            if self.on_change is not None:
                self.on_change()  # a slurmd registers with slurmctld within milliseconds

    async def delete(self, names: Sequence[str]) -> None:
        for name in names:
            self._failed.pop(name, None)
            task = self._boots.pop(name, None)
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            pid = self._pid(name)
            if pid is None:
                continue
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_WAIT_S
            while self._pid(name) is not None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if self._pid(name) is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            if self._pid(name) is not None:
                raise ClusterError(f"pool {self.pool.name}: slurmd of {name} does not stop")

    async def list(self) -> list[ProviderNode]:
        from computenet.shims.hostlist import expand

        out = []
        for name in expand(self.pool.nodes or "", limit=10_000):
            if name in self._boots:
                out.append(ProviderNode(name, BOOTING))
            elif name in self._failed:
                out.append(ProviderNode(name, FAILED, error=self._failed[name]))
            elif self._pid(name) is not None:
                out.append(ProviderNode(name, RUNNING))
        return out

    async def close(self) -> None:
        for task in list(self._boots.values()):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._boots.clear()
