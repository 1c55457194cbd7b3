"""Helpers for transfer tests: files, a fault-injecting endpoint, a live agent."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from computenet.transfer.endpoint import Endpoint
from computenet.transfer.local import LocalEndpoint

KIB = 1024
MIB = 1024 * KIB


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def make_file(path: Path, size: int, seed: int = 0) -> bytes:
    data = (seed.to_bytes(4, "big") + os.urandom(4096)) * (size // 4100 + 1)
    data = data[:size]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


class FaultyEndpoint(Endpoint):
    """A LocalEndpoint with hooks: ``before_write(index, data) -> data`` may raise or
    change the bytes (a fault on the wire), ``after_read(path, offset)`` may change
    the source."""

    remote = True

    def __init__(
        self,
        inner: LocalEndpoint,
        before_write: Callable[[int, bytes], bytes] | None = None,
        after_read: Callable[[str, int], None] | None = None,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.before_write = before_write
        self.after_read = after_read
        self.chunk_writes = 0

    async def stat(self, path: str) -> Any:
        return await self.inner.stat(path)

    async def walk(self, path: str) -> Any:
        return await self.inner.walk(path)

    async def read(self, path: str, offset: int, length: int) -> bytes:
        data = await self.inner.read(path, offset, length)
        if self.after_read:
            self.after_read(path, offset)
        return data

    async def read_batch(self, paths: list[str]) -> list[bytes]:
        return await self.inner.read_batch(paths)

    async def hash_chunks(self, path: str, chunk_size: int, *, part: bool = False) -> list[str]:
        return await self.inner.hash_chunks(path, chunk_size, part=part)

    async def mkdirs(self, path: str) -> None:
        await self.inner.mkdirs(path)

    async def begin(self, path: str, ident: Any) -> dict[int, str]:
        return await self.inner.begin(path, ident)

    async def write_chunk(
        self,
        path: str,
        index: int,
        offset: int,
        data: bytes,
        digest: str,
        *,
        compressed: bool = False,
    ) -> None:
        self.chunk_writes += 1
        if self.before_write:
            data = self.before_write(index, data)
        await self.inner.write_chunk(path, index, offset, data, digest, compressed=compressed)

    async def finish(self, path: str, mode: int, mtime_ns: int) -> None:
        await self.inner.finish(path, mode, mtime_ns)

    async def abort(self, path: str) -> None:
        await self.inner.abort(path)

    async def write_batch(self, items: list[Any], *, compressed: bool = False) -> Any:
        return await self.inner.write_batch(items, compressed=compressed)

    async def close(self) -> None:
        await self.inner.close()


class Agent:
    def __init__(self, root: Path, info_file: Path, proc: subprocess.Popen[bytes]) -> None:
        self.root, self.info_file, self.proc = root, info_file, proc

    @property
    def info(self) -> dict[str, str]:
        return dict(json.loads(self.info_file.read_text()))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


def start_agent(
    root: Path, info_file: Path, listen: str = "127.0.0.1:0", data_listen: str | None = None
) -> Agent:
    info_file.unlink(missing_ok=True)
    code = (
        "import sys; from pathlib import Path; from computenet.transfer.agent import serve;"
        "serve(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), None, *sys.argv[4:])"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(root), listen, str(info_file)]
        + ([data_listen] if data_listen else []),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if info_file.exists():
            url = json.loads(info_file.read_text())["url"]
            host, port = url.removeprefix("https://").rsplit(":", 1)
            import socket

            try:
                socket.create_connection((host, int(port)), timeout=1).close()
                return Agent(root, info_file, proc)
            except OSError:
                pass
        if proc.poll() is not None:
            raise RuntimeError(f"agent died: {proc.stderr.read().decode() if proc.stderr else ''}")
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("agent did not start")
