"""SshTransport: run cluster commands on a login node over one reused SSH connection.

Every argv element is quoted with ``shlex.join`` before it reaches the remote
shell, and environment values travel as ``env NAME=VALUE`` arguments (also
quoted), so no user value is ever interpreted by that shell. Host keys are
always checked (``known_hosts``; asyncssh's default file when not given).

Retries: connecting is retried with exponential backoff. A command whose
connection drops midway is retried only when ``idempotent`` (squeue, sacct,
scancel); ``sbatch`` is not, since it may have been accepted: the caller gets
``ClusterUnavailable`` and asks the cluster (``find(tag)``) instead.
"""

from __future__ import annotations

import asyncio
import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from computenet.clusters.transport import CompletedCommand, check_env_names
from computenet.errors import ClusterError, ClusterUnavailable, ConfigError


@dataclass(frozen=True)
class SshTarget:
    user: str | None
    host: str
    port: int = 22

    @classmethod
    def parse(cls, text: str) -> SshTarget:
        """``[USER@]HOST[:PORT]`` as in the cluster configuration."""
        user, _, rest = text.rpartition("@")
        host, sep, port = rest.rpartition(":") if ":" in rest else (rest, "", "")
        if not host or (sep and not port.isdigit()):
            raise ConfigError(f"bad ssh target {text!r}: want USER@HOST[:PORT]")
        return cls(user or None, host, int(port) if port else 22)


def remote_command(argv: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    """The one string sent to the remote shell: every element quoted."""
    check_env_names(env or {})
    prefix = ["env", *(f"{k}={v}" for k, v in (env or {}).items())] if env else []
    return shlex.join([*prefix, *argv])


class SshTransport:
    def __init__(
        self,
        target: SshTarget | str,
        *,
        key_path: str | None = None,
        known_hosts: str | None = None,
        base_env: Mapping[str, str] | None = None,
        connect_timeout_s: float = 10.0,
        retries: int = 3,
        backoff_s: float = 0.5,
    ) -> None:
        self.target = SshTarget.parse(target) if isinstance(target, str) else target
        self.key_path = key_path
        self.known_hosts = known_hosts
        self.base_env = dict(base_env or {})
        self.connect_timeout_s = connect_timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self._conn: Any = None
        self._sftp: Any = None
        self._lock = asyncio.Lock()
        #: how many connections were opened (the first and every reconnect)
        self.connects = 0

    def __repr__(self) -> str:
        t = self.target
        return f"SshTransport({t.user + '@' if t.user else ''}{t.host}:{t.port})"

    async def _connection(self) -> Any:
        import asyncssh

        async with self._lock:
            if self._conn is not None and not self._conn.is_closed():
                return self._conn
            self._conn, self._sftp = None, None
            kwargs: dict[str, Any] = {
                "port": self.target.port,
                "connect_timeout": self.connect_timeout_s,
                "keepalive_interval": 15,
            }
            if self.target.user:
                kwargs["username"] = self.target.user
            if self.key_path:
                kwargs["client_keys"] = [self.key_path]
            if self.known_hosts:
                kwargs["known_hosts"] = self.known_hosts
            last: Exception | None = None
            for attempt in range(self.retries + 1):
                if attempt:
                    await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
                try:
                    self._conn = await asyncssh.connect(self.target.host, **kwargs)
                    self.connects += 1
                    return self._conn
                except asyncssh.HostKeyNotVerifiable as exc:
                    raise ClusterError(f"{self!r}: {self._host_key_problem(exc)}") from exc
                except asyncssh.PermissionDenied as exc:
                    raise ClusterError(f"{self!r}: login refused: {exc}") from exc
                except (OSError, TimeoutError, asyncssh.Error) as exc:
                    last = exc
            raise ClusterUnavailable(
                f"{self!r}: cannot connect after {self.retries + 1} tries: {last}"
            ) from last

    def _host_key_problem(self, exc: Exception) -> str:
        """Why the login node's key was refused: changed (known_hosts holds
        another key for it) or never seen. Neither is retried."""
        import asyncssh

        where = self.known_hosts or "~/.ssh/known_hosts"
        try:
            known = asyncssh.read_known_hosts(os.path.expanduser(where))
            keys = known.match(self.target.host, self.target.host, self.target.port)[0]
        except (OSError, ValueError, asyncssh.Error):
            keys = []
        if keys:
            return (
                f"host key changed: the key it presented is not the one {where} holds "
                "for it (a reinstalled login node, or another host answering); "
                f"connection refused. Check the new key, then replace the entry: {exc}"
            )
        return f"host key not trusted: {where} has no key for it: {exc}"

    def _drop(self, conn: Any) -> None:
        if self._conn is conn:
            self._conn, self._sftp = None, None
        conn.abort()

    async def run(
        self,
        argv: Sequence[str],
        *,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        timeout_s: float = 60.0,
        idempotent: bool = True,
    ) -> CompletedCommand:
        import asyncssh

        command = remote_command(argv, {**self.base_env, **(env or {})})
        tries = self.retries + 1 if idempotent else 1
        last: Exception | None = None
        for attempt in range(tries):
            if attempt:
                await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
            conn = await self._connection()
            try:
                result = await conn.run(
                    command, input=input, encoding=None, check=False, timeout=timeout_s
                )
            except asyncssh.TimeoutError as exc:
                raise ClusterUnavailable(
                    f"{self!r}: {argv[0]} did not answer within {timeout_s:g} s"
                ) from exc
            except (OSError, asyncssh.Error) as exc:
                self._drop(conn)
                last = exc
                continue
            if result.exit_status is None:  # the channel closed without a status
                self._drop(conn)
                last = ClusterUnavailable(f"connection lost during {argv[0]}")
                continue
            if result.exit_status == 127 and b"not found" in (result.stderr or b""):
                raise ClusterError(f"{self!r}: {argv[0]}: command not found")
            return CompletedCommand(result.exit_status, result.stdout or b"", result.stderr or b"")
        what = "may or may not have run" if not idempotent else "failed"
        raise ClusterUnavailable(f"{self!r}: connection lost; {argv[0]} {what}: {last}") from last

    async def read_file(self, path: str, offset: int = 0, limit: int = 1 << 20) -> bytes:
        import asyncssh

        for attempt in range(self.retries + 1):
            conn = await self._connection()
            try:
                if self._sftp is None:
                    self._sftp = await conn.start_sftp_client()
                async with self._sftp.open(path, "rb") as f:
                    await f.seek(offset)
                    data = await f.read(limit)
                    return bytes(data)
            except asyncssh.SFTPNoSuchFile:
                return b""
            except asyncssh.SFTPError as exc:
                raise ClusterError(f"{self!r}: cannot read {path}: {exc.reason}") from exc
            except (OSError, asyncssh.Error) as exc:
                self._drop(conn)
                if attempt == self.retries:
                    raise ClusterUnavailable(f"{self!r}: cannot read {path}: {exc}") from exc
                await asyncio.sleep(self.backoff_s * 2**attempt)
        raise AssertionError("unreachable")

    async def close(self) -> None:
        conn, self._conn, self._sftp = self._conn, None, None
        if conn is not None:
            conn.close()
            await conn.wait_closed()
