"""Run a computenet server: ``python -m computenet.api.serve``.

Binds first (port 0 picks a free port), then writes the server file
(url, pid, port, log) that ``cnet`` reads to find it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import sys

from computenet.config import load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="computenet server")
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--server-file", default=None)
    args = parser.parse_args(argv)

    import uvicorn

    from computenet.api.app import create_app
    from computenet.core.runtime import Runtime

    settings = load_settings()
    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
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
    tmp = server_file + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(
            {
                "url": url,
                "pid": os.getpid(),
                "port": port,
                "host": host,
                "database": settings.effective_database_url,
            },
            fh,
        )
    os.replace(tmp, server_file)
    config = uvicorn.Config(
        create_app(runtime),
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=3,
    )
    server = uvicorn.Server(config)
    print(f"computenet server on {url} (pid {os.getpid()})", file=sys.stderr, flush=True)
    asyncio.run(server.serve(sockets=[sock]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
