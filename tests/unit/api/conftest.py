"""A real HTTP server (uvicorn in a thread) over fake clusters, and SDK clients."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from computenet.api.app import create_app
from computenet.client import Client
from computenet.config import ClusterConfig, PartitionConfig, Settings
from computenet.core.runtime import Runtime

TOKEN = "cn_test_admin_token"


def _configs() -> list[ClusterConfig]:
    return [
        ClusterConfig(
            name="alpha",
            kind="fake",
            partitions=[
                PartitionConfig(
                    name="cpu",
                    nodes=2,
                    cores=4,
                    default=True,
                    max_time_s=7200,
                    price_per_core_hour=0.04,
                )
            ],
        ),
        ClusterConfig(
            name="beta",
            kind="fake",
            partitions=[
                PartitionConfig(
                    name="cheap",
                    nodes=1,
                    cores=4,
                    default=True,
                    speed=0.5,
                    price_per_core_hour=0.01,
                )
            ],
        ),
    ]


class LiveServer:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        sock = socket.socket()
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
            if time.monotonic() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.01)

    def client(self, token: str = TOKEN) -> Client:
        return Client(self.url, token)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    settings = Settings(
        data_dir=tmp_path / "data",
        state_dir=tmp_path / "state",
        clusters=_configs(),
        token=TOKEN,
        user="admin",
        controller_interval_s=0.05,
        max_script_bytes=64 * 1024,
        max_bulk_jobs=5000,
    )
    server = LiveServer(Runtime(settings))
    yield server
    server.stop()


@pytest.fixture
def admin(live: LiveServer) -> Iterator[Client]:
    with live.client() as c:
        yield c


@pytest.fixture
def alice(live: LiveServer, admin: Client) -> Iterator[Client]:
    token = admin.post("/users", {"name": "alice", "project": "chem"})["token"]
    with live.client(token) as c:
        yield c


@pytest.fixture
def bob(live: LiveServer, admin: Client) -> Iterator[Client]:
    token = admin.post("/users", {"name": "bob", "project": "phys"})["token"]
    with live.client(token) as c:
        yield c
