"""The server's periodic heap trim: it runs while the server serves, stops
with it, and a 0 interval turns it off."""

from __future__ import annotations

import asyncio
import platform
import socket
import threading

import pytest
import uvicorn
from fastapi import FastAPI

from computenet.api.heap_trim import HeapTrimmer, glibc_trim
from computenet.api.serve import _Server
from computenet.config import Settings


class CountingTrim:
    def __init__(self) -> None:
        self.calls = 0
        self.threads: set[int] = set()
        self.called = asyncio.Event()
        self.loop = asyncio.get_running_loop()

    def __call__(self) -> int:
        self.calls += 1
        self.threads.add(threading.get_ident())
        self.loop.call_soon_threadsafe(self.called.set)
        return 1


async def test_trims_every_interval_off_the_event_loop() -> None:
    trim = CountingTrim()
    trimmer = HeapTrimmer(0.01, trim)
    task = trimmer.start()
    assert task is not None
    while trim.calls < 3:
        trim.called.clear()
        await asyncio.wait_for(trim.called.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert trimmer.runs >= 3
    assert threading.get_ident() not in trim.threads


async def test_zero_interval_or_no_glibc_starts_nothing() -> None:
    trim = CountingTrim()
    assert HeapTrimmer(0, trim).start() is None
    assert HeapTrimmer(5, None).start() is None
    with pytest.raises(ValueError, match="must be >= 0"):
        HeapTrimmer(-1, trim)


def test_setting_defaults_on_and_refuses_a_negative_interval() -> None:
    assert Settings().heap_trim_interval_s == 5.0
    with pytest.raises(ValueError, match="heap_trim_interval_s"):
        Settings(heap_trim_interval_s=-1)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_glibc_trim_calls_malloc_trim() -> None:
    trim = glibc_trim()
    assert trim is not None
    blocks = [bytearray(64 << 10) for _ in range(2000)]  # 128 MiB, then freed
    del blocks
    assert trim() in (0, 1)


async def test_server_runs_the_trimmer_while_serving_and_stops_it() -> None:
    trim = CountingTrim()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(FastAPI(), log_level="warning", lifespan="off")
    server = _Server(config, None, HeapTrimmer(0.01, trim))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    await asyncio.wait_for(trim.called.wait(), 10)
    assert server._trim_task is not None and not server._trim_task.done()
    server.should_exit = True
    await asyncio.wait_for(serving, 10)
    assert server._trim_task.cancelled()
    sock.close()
