"""A real computenet server (uvicorn in a thread) over a runtime, for tests."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

TOKEN = "cn_test_admin_token"


class LiveServer:
    def __init__(self, runtime: Any) -> None:
        import uvicorn

        from computenet.api.app import create_app

        self.runtime = runtime
        sock = socket.socket()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(runtime), log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.01)

    def client(self, token: str = TOKEN) -> Any:
        from computenet.client import Client

        return Client(self.url, token)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
