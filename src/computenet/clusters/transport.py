"""How an adapter reaches a cluster's commands: a small transport interface.

A transport runs one program with an argument vector (never a shell string
built from user values) and reads files on the cluster's side. Three
implementations: ``LocalTransport`` (subprocess on this machine),
``SshTransport`` (asyncssh to a login node, in ``ssh_transport``) and
``FakeTransport`` (canned answers for unit tests, like httpx's
``MockTransport``).

Errors: a command that ran and failed is *not* an error here: its
``CompletedCommand`` carries the exit code and stderr for the adapter to
judge. The transport raises ``ClusterUnavailable`` when it could not run the
command or lost it midway (timeout, connection refused or dropped), and
``ClusterError`` when the program does not exist there.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from computenet.errors import ClusterError, ClusterUnavailable

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class CompletedCommand:
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace").strip()


class Transport(Protocol):
    """Runs cluster commands. ``idempotent=False`` (sbatch) forbids a retry
    once the command may have reached the remote side."""

    async def run(
        self,
        argv: Sequence[str],
        *,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        timeout_s: float = 60.0,
        idempotent: bool = True,
    ) -> CompletedCommand: ...

    async def read_file(self, path: str, offset: int = 0, limit: int = 1 << 20) -> bytes:
        """Bytes of a file from ``offset``; empty if it does not exist (yet)."""
        ...

    async def close(self) -> None: ...


def check_env_names(env: Mapping[str, str]) -> None:
    for name in env:
        if not _ENV_NAME.match(name):
            raise ClusterError(f"not a valid environment variable name: {name!r}")


class LocalTransport:
    """Runs commands on this machine with ``base_env`` (e.g. SLURM_CONF) added.

    ``user``: run every command, and read every file, as that Unix account
    (its uid, gid and groups, HOME and USER; needs root), so that a job's
    files are read with its own rights and not the server's.
    """

    def __init__(
        self,
        base_env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        *,
        user: str | None = None,
    ) -> None:
        self.base_env = dict(base_env or {})
        self.cwd = cwd
        self.user = user
        #: what runs a command as ``user``: util-linux's setpriv (uvloop's
        #: subprocesses take no user or group arguments)
        self._as: list[str] = []
        if user is not None:
            import pwd

            try:
                pw = pwd.getpwnam(user)
            except KeyError:
                raise ClusterError(f"no Unix account {user!r} on this machine") from None
            self._as = [
                "setpriv",
                f"--reuid={pw.pw_uid}",
                f"--regid={pw.pw_gid}",
                "--init-groups",
                "--",
            ]
            self.base_env |= {"HOME": pw.pw_dir, "USER": user, "LOGNAME": user}
            if self.cwd is None:
                self.cwd = pw.pw_dir if os.path.isdir(pw.pw_dir) else "/"

    def __repr__(self) -> str:
        return f"LocalTransport(as {self.user})" if self.user else "LocalTransport()"

    async def run(
        self,
        argv: Sequence[str],
        *,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        timeout_s: float = 60.0,
        idempotent: bool = True,
    ) -> CompletedCommand:
        full_env = {**os.environ, **self.base_env, **(env or {})}
        check_env_names(env or {})
        try:
            proc = await asyncio.create_subprocess_exec(
                *self._as,
                *argv,
                stdin=asyncio.subprocess.PIPE if input is not None else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=full_env,
                cwd=self.cwd,
            )
        except FileNotFoundError as exc:
            raise ClusterError(f"{argv[0]}: command not found on this machine") from exc
        except OSError as exc:
            raise ClusterUnavailable(f"cannot run {argv[0]}: {exc}") from exc
        try:
            stdout, stderr = await asyncio.wait_for(proc.communicate(input), timeout_s)
        except TimeoutError as exc:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise ClusterUnavailable(f"{argv[0]} did not answer within {timeout_s:g} s") from exc
        assert proc.returncode is not None
        return CompletedCommand(proc.returncode, stdout, stderr)

    async def read_file(self, path: str, offset: int = 0, limit: int = 1 << 20) -> bytes:
        full = Path(self.cwd or ".") / path
        if self.user is None:
            return await asyncio.to_thread(_read_local, full, offset, limit)
        # As the account: the server (root) must not read what the job could not.
        argv = [
            "dd",
            f"if={full}",
            "iflag=skip_bytes,count_bytes",
            f"skip={offset}",
            f"count={limit}",
            "status=none",
        ]
        done = await self.run(argv)
        if done.returncode != 0:
            if "No such file" in done.err:
                return b""
            raise ClusterError(f"cannot read {full} as {self.user}: {done.err}")
        return done.stdout

    async def close(self) -> None:
        return None


def _read_local(path: Path, offset: int, limit: int) -> bytes:
    try:
        with path.open("rb") as f:
            f.seek(offset)
            return f.read(limit)
    except FileNotFoundError:
        return b""
    except OSError as exc:
        raise ClusterError(f"cannot read {path}: {exc}") from exc


@dataclass(frozen=True)
class Call:
    """One command a ``FakeTransport`` was asked to run."""

    argv: tuple[str, ...]
    input: bytes | None
    env: Mapping[str, str]

    @property
    def program(self) -> str:
        return os.path.basename(self.argv[0])


Handler = Callable[[Call], "CompletedCommand | Awaitable[CompletedCommand]"]


@dataclass
class FakeTransport:
    """Answers commands from ``handler`` (or, by program name, from ``outputs``)
    and files from ``files``; records every call in ``calls``.

    ``outputs`` values may be bytes (stdout, exit 0) or a ``CompletedCommand``.
    Set ``unavailable`` to make every call raise ``ClusterUnavailable``.
    """

    handler: Handler | None = None
    outputs: dict[str, bytes | CompletedCommand] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    unavailable: bool = False

    async def run(
        self,
        argv: Sequence[str],
        *,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        timeout_s: float = 60.0,
        idempotent: bool = True,
    ) -> CompletedCommand:
        check_env_names(env or {})
        call = Call(tuple(argv), input, dict(env or {}))
        self.calls.append(call)
        if self.unavailable:
            raise ClusterUnavailable("fake transport: connection refused")
        if self.handler is not None:
            answer = self.handler(call)
            if not isinstance(answer, CompletedCommand):
                answer = await answer
            return answer
        canned = self.outputs.get(call.program)
        if canned is None:
            return CompletedCommand(127, b"", f"{call.program}: no canned output".encode())
        if isinstance(canned, bytes):
            return CompletedCommand(0, canned, b"")
        return canned

    async def read_file(self, path: str, offset: int = 0, limit: int = 1 << 20) -> bytes:
        if self.unavailable:
            raise ClusterUnavailable("fake transport: connection refused")
        return self.files.get(path, b"")[offset : offset + limit]

    async def close(self) -> None:
        return None

    def programs(self) -> list[str]:
        return [c.program for c in self.calls]
