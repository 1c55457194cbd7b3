"""The cloud provider: a pool's nodes as instances, through Apache libcloud.

One driver per pool (``cloud.driver``: any libcloud compute provider name,
``ec2``, ``gce``, ``azure_arm``, ``digitalocean``, ...). Instances are
named after the pool's nodes, so ``list`` and ``delete`` find them by name
after a restart. libcloud is synchronous: its calls run in a worker thread.
Its errors become ``ClusterError`` (transient for network trouble and rate
limits, not for refused credentials), with messages that never carry the
credentials.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from computenet.clusters.pools import credentials
from computenet.clusters.pools.base import BOOTING, FAILED, RUNNING, NodeProvider, ProviderNode
from computenet.errors import ClusterError, ConfigError

if TYPE_CHECKING:
    from computenet.config import CloudConfig, PoolConfig

log = logging.getLogger("computenet.pools")
T = TypeVar("T")
#: loggers that may write request URLs or bodies, where some clouds carry the key
_HTTP_LOGGERS = ("urllib3.connectionpool", "requests_mock.adapter", "libcloud")


class _Redact(logging.Filter):
    """Replace the credentials in any record of the HTTP loggers."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if any(s in text for s in self.secrets):
            for s in self.secrets:
                text = text.replace(s, "***")
            record.msg, record.args = text, ()
        return True


#: libcloud's NodeState values, as a pool sees them
_STATES = {
    "running": RUNNING,
    "pending": BOOTING,
    "starting": BOOTING,
    "rebooting": BOOTING,
    "reconfiguring": BOOTING,
    "error": FAILED,
    "terminated": FAILED,
    "stopped": FAILED,
    "suspended": FAILED,
    "paused": FAILED,
}


def _state(node: Any) -> str:
    value = getattr(node.state, "value", node.state)
    return _STATES.get(str(value).lower(), BOOTING)


class LibcloudNodes(NodeProvider):
    kind = "libcloud"

    def __init__(
        self, pool: PoolConfig, cloud: CloudConfig, driver: Any, secrets: Sequence[str] = ()
    ) -> None:
        self.pool = pool
        self.cloud = cloud
        self.driver = driver
        self._secrets = tuple(s for s in secrets if s)
        self._redact = _Redact(self._secrets)
        for name in _HTTP_LOGGERS:
            logging.getLogger(name).addFilter(self._redact)

    async def close(self) -> None:
        for name in _HTTP_LOGGERS:
            logging.getLogger(name).removeFilter(self._redact)

    @classmethod
    def from_config(cls, pool: PoolConfig) -> LibcloudNodes:
        """Build the driver; ``ConfigError`` for an unknown driver or missing credentials."""
        from libcloud.compute.providers import get_driver

        cloud = pool.cloud
        if cloud is None:
            raise ConfigError(f"pool {pool.name}: provider libcloud needs a [cloud] table")
        creds = credentials.load(cloud.credentials_file, cloud.key_env, cloud.secret_env)
        try:
            factory = get_driver(cloud.driver)
        except AttributeError:
            raise ConfigError(
                f"pool {pool.name}: libcloud has no compute driver {cloud.driver!r}"
            ) from None
        args = [creds.key] + ([creds.secret] if creds.secret is not None else [])
        try:
            driver = factory(*args, **cloud.driver_options)
        except Exception as exc:  # a driver refusing its arguments; never show them
            raise ConfigError(
                f"pool {pool.name}: the {cloud.driver} driver refused its settings "
                f"({type(exc).__name__}); check driver_options and the {creds}"
            ) from None
        return cls(pool, cloud, driver, [creds.key, creds.secret or ""])

    async def _call(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(fn)
        except Exception as exc:
            error = _translate(self.pool.name, what, exc)
            for secret in self._secrets:  # a provider may echo a token back
                error.message = error.message.replace(secret, "***")
            error.args = (error.message,)
            raise error from None

    def _mine(self, node: Any) -> bool:
        return str(node.name) in set(self._names())

    def _names(self) -> list[str]:
        from computenet.shims.hostlist import expand

        if self.pool.nodes:
            return expand(self.pool.nodes, limit=10_000)
        count = self.pool.max_nodes or 0
        return [f"{self.pool.name}-{i}" for i in range(1, count + 1)]

    async def create(self, names: Sequence[str]) -> list[ProviderNode]:
        from libcloud.compute.base import NodeImage, NodeLocation, NodeSize

        d, c = self.driver, self.cloud
        size = NodeSize(c.size, c.size, 0, 0, 0, 0.0, d)
        image = NodeImage(c.image, c.image, d)
        location = NodeLocation(c.location, c.location, "", d) if c.location else None
        out = []
        for name in names:
            kwargs: dict[str, Any] = {"name": name, "size": size, "image": image}
            if location is not None:
                kwargs["location"] = location
            node = await self._call("create_node", _bind(d.create_node, kwargs))
            out.append(ProviderNode(name, _state(node), str(node.id), _address(node)))
            log.info("pool %s: asked %s for node %s (%s)", self.pool.name, c.driver, name, node.id)
        return out

    async def list(self) -> list[ProviderNode]:
        nodes = await self._call("list_nodes", self.driver.list_nodes)
        return [
            ProviderNode(str(n.name), _state(n), str(n.id), _address(n))
            for n in nodes
            if self._mine(n)
        ]

    async def delete(self, names: Sequence[str]) -> None:
        wanted = set(names)
        nodes = await self._call("list_nodes", self.driver.list_nodes)
        for node in nodes:
            if str(node.name) in wanted and self._mine(node):
                await self._call("destroy_node", _bind(self.driver.destroy_node, {"node": node}))
                log.info("pool %s: released node %s (%s)", self.pool.name, node.name, node.id)


def _bind(fn: Callable[..., Any], kwargs: dict[str, Any]) -> Callable[[], Any]:
    return lambda: fn(**kwargs)


def _address(node: Any) -> str | None:
    ips = list(getattr(node, "private_ips", None) or []) + list(
        getattr(node, "public_ips", None) or []
    )
    return str(ips[0]) if ips else None


def _translate(pool: str, what: str, exc: Exception) -> ClusterError:
    """A libcloud error as ours; only its class and the provider's own message."""
    from libcloud.common.exceptions import RateLimitReachedError
    from libcloud.common.types import InvalidCredsError, ServiceUnavailableError

    if isinstance(exc, InvalidCredsError):
        return ClusterError(f"pool {pool}: {what}: the cloud refused the credentials")
    if isinstance(exc, RateLimitReachedError | ServiceUnavailableError | OSError | TimeoutError):
        return ClusterError(f"pool {pool}: {what}: {type(exc).__name__}", transient=True)
    message = str(getattr(exc, "value", "") or exc)[:300]
    return ClusterError(f"pool {pool}: {what}: {type(exc).__name__}: {message}")
