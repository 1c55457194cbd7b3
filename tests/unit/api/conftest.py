"""A real HTTP server (uvicorn in a thread) over fake clusters, and SDK clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from computenet.client import Client
from computenet.clock import FakeClock
from computenet.config import Settings
from tests.support.clusters import fake_configs
from tests.support.live import LiveServer

TOKEN = "cn_test_admin_token"


@pytest.fixture
def live(
    tmp_path: Path, make_live_server: Callable[[Any], Any], fake_cluster_configs: list[Any]
) -> Any:
    settings = Settings(
        data_dir=tmp_path / "data",
        state_dir=tmp_path / "state",
        clusters=fake_cluster_configs,
        token=TOKEN,
        user="admin",
        controller_interval_s=0.05,
        max_script_bytes=64 * 1024,
        max_bulk_jobs=5000,
    )
    return make_live_server(settings)


@pytest.fixture
def admin(live: Any) -> Iterator[Client]:
    with live.client(TOKEN) as c:
        yield c


@pytest.fixture
def alice(live: Any, admin: Client) -> Iterator[Client]:
    token = admin.post("/users", {"name": "alice", "project": "chem"})["token"]
    with live.client(token) as c:
        yield c


@pytest.fixture
def bob(live: Any, admin: Client) -> Iterator[Client]:
    token = admin.post("/users", {"name": "bob", "project": "phys"})["token"]
    with live.client(token) as c:
        yield c


@dataclass
class ClockedServer:
    """A live server whose runtime reads a fake clock (tokens expire when told)."""

    server: Any
    clock: FakeClock

    @property
    def url(self) -> str:
        return str(self.server.url)

    def client(self, token: str | None = TOKEN) -> Client:
        return Client(self.server.url, token)


def clocked_settings(root: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": root / "data",
        "state_dir": root / "state",
        "clusters": fake_configs(),
        "token": TOKEN,
        "user": "admin",
        "controller_interval_s": 0.05,
    }
    return Settings(**{**values, **overrides})


@pytest.fixture
def clocked(tmp_path: Path) -> Iterator[ClockedServer]:
    from computenet.core.runtime import Runtime

    clock = FakeClock(1_800_000_000.0)
    server = LiveServer(Runtime(clocked_settings(tmp_path), clock=clock))
    try:
        yield ClockedServer(server, clock)
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its lowest cost here: the production parameters take 0.2 s a
    hash on this machine (test_password_hash_parameters checks those)."""
    from argon2 import PasswordHasher

    from computenet.store import users

    monkeypatch.setattr(users, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    users._dummy_hash.cache_clear()
