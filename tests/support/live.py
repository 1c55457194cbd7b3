"""A real computenet server (uvicorn in a thread) over a runtime, for tests."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

from computenet.config import ClusterConfig, Settings

TOKEN = "cn_test_admin_token"


def live_settings(root: Path, clusters: list[ClusterConfig], **extra: Any) -> Settings:
    """A test server's settings: its files under ``root``, the admin token
    ``TOKEN``, a fast controller pass, these clusters; ``extra`` adds or
    overrides settings."""
    defaults: dict[str, Any] = {
        "data_dir": root / "data",
        "state_dir": root / "state",
        "token": TOKEN,
        "user": "admin",
        "controller_interval_s": 0.1,
    }
    return Settings(**{**defaults, **extra}, clusters=clusters)


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
