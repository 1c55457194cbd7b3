"""Run a computenet server: ``python -m computenet.api.serve``.

Binds first (port 0 picks a free port), then writes the server file
(url, pid, port, log) that ``cnet`` reads to find it.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import os
import socket
import sys
from pathlib import Path

import uvicorn

from computenet.api.heap import tune_malloc
from computenet.config import load_settings

#: how long an idle client connection stays open
KEEP_ALIVE_S = 75


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="computenet server")
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--server-file", default=None)
    args = parser.parse_args(argv)

    from computenet.api.app import create_app
    from computenet.core.runtime import Runtime

    settings = load_settings()
    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Before any thread starts: arenas made before the cap stay.
    tuned = tune_malloc(settings.malloc_arena_max, settings.malloc_mmap_threshold_bytes)
    if tuned:
        logging.getLogger("computenet.api").info("malloc: %s", ", ".join(tuned))
    runtime = Runtime(settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it a response written as
    # headers then body waits out the client's delayed ACK (about 40 ms).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    port = sock.getsockname()[1]
    url = f"http://{host}:{port}"
    server_file = args.server_file or str(settings.server_file)
    os.makedirs(os.path.dirname(server_file), exist_ok=True)
    usock, unix_path = _unix_socket(Path(server_file).with_suffix(".sock"))
    tmp = server_file + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(
            {
                "url": url,
                "pid": os.getpid(),
                "port": port,
                "host": host,
                "database": settings.effective_database_url,
                "socket": unix_path,
            },
            fh,
        )
    os.replace(tmp, server_file)
    config = uvicorn.Config(
        create_app(runtime),
        log_level="debug" if settings.log_level == "debug" else "warning",
        access_log=settings.log_level == "debug",
        lifespan="on",
        timeout_graceful_shutdown=3,
        # Longer than clients keep an idle connection (httpx: 5 s), so a
        # client never sends on one the server is closing that moment:
        # with uvicorn's 5 s, one request in 3,000 of the load mix failed so.
        timeout_keep_alive=KEEP_ALIVE_S,
    )
    server = _Server(config, unix_path)
    print(f"computenet server on {url} (pid {os.getpid()})", file=sys.stderr, flush=True)
    # Server.run picks uvloop when it is installed (asyncio.run would not).
    server.run(sockets=[sock] + ([usock] if usock else []))
    return 0


class _Server(uvicorn.Server):
    """Freezes the start-up heap once serving, and removes the Unix socket on
    shutdown: after a signal, uvicorn re-raises it once shut down, so code
    after ``run`` never runs."""

    def __init__(self, config: uvicorn.Config, unix_path: str | None) -> None:
        super().__init__(config)
        self.unix_path = unix_path

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        # What start-up made (modules, routes, schemas, the ORM's mappers:
        # about 180,000 objects) lives as long as the process. Frozen, the
        # collector's full passes skip it: each was a pause of the whole loop
        # proportional to the heap, the largest latencies under load.
        gc.collect()
        gc.freeze()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets)
        if self.unix_path:
            with contextlib.suppress(OSError):
                os.unlink(self.unix_path)


def _unix_socket(path: Path) -> tuple[socket.socket | None, str | None]:
    """A Unix socket beside the server file for local clients, or none.

    Local clients (``cnet``, the SDK) reach the server through it: a round
    trip through a Unix socket costs a fraction of one through loopback TCP,
    whose every send runs the whole TCP stack. It is mode 0600 and still
    needs the token. Paths longer than the kernel allows (108 bytes) get no
    socket; clients then use the URL.
    """
    if len(os.fsencode(path)) >= 100:
        return None, None
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    usock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        usock.bind(str(path))
    except OSError:
        usock.close()
        return None, None
    finally:
        os.umask(old)
    return usock, str(path)


if __name__ == "__main__":
    sys.exit(main())
