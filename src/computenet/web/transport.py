"""An SDK transport into the server's own ASGI app, for the portal's pages.

A page handler runs in a worker thread; its SDK calls go through the whole
app (middleware, authorisation, routes) on the event loop without a socket,
so a page costs its API calls and no loopback round trips.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any

import anyio.from_thread
import anyio.to_thread
import httpx2
from starlette.types import ASGIApp

#: runs a coroutine function on the app's event loop from this thread
Runner = Callable[..., Any]


class AppTransport(httpx2.BaseTransport):
    """Send each request to ``app`` as if from ``client`` (the browser's
    address, so the server's login limit counts the right caller). Only usable
    from a thread started by anyio, which page handlers (plain ``def``) are,
    unless ``run`` says how to reach the loop (a test's blocking portal)."""

    def __init__(
        self, app: ASGIApp, client: tuple[str, int], run: Runner = anyio.from_thread.run
    ) -> None:
        self._asgi = httpx2.ASGITransport(app=app, client=client)
        self._run = run

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response: httpx2.Response = self._run(self._send, request)
        return response

    async def _send(self, request: httpx2.Request) -> httpx2.Response:
        if not isinstance(request.stream, httpx2.AsyncByteStream):
            # a body given as chunks (an upload) is read from this thread's
            # iterator chunk by chunk, off the loop, never whole
            request.stream = _FromThread(request.stream)
        response = await self._asgi.handle_async_request(request)
        content = await response.aread()
        return httpx2.Response(response.status_code, headers=response.headers, content=content)


class _FromThread(httpx2.AsyncByteStream):
    """A synchronous body's chunks, each read in a worker thread."""

    def __init__(self, stream: httpx2.SyncByteStream | Iterable[bytes]) -> None:
        self._chunks = iter(stream)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (chunk := await anyio.to_thread.run_sync(next, self._chunks, None)) is not None:
            yield chunk
