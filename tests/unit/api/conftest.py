"""A real HTTP server (uvicorn in a thread) over fake clusters, and SDK clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from computenet.client import Client
from computenet.config import Settings

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
