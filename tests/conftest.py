"""Shared fixtures: every test gets its own HOME, config, data and state dirs."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.clusters import fake_configs
from tests.support.live import LiveServer
from tests.support.postgres import private_postgres
from tests.support.runtime import fake_runtime


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """No test reads or writes the real user's computenet files or server."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for var, sub in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
    ):
        monkeypatch.setenv(var, str(home / sub))
    for var in list(os.environ):
        if var.startswith("CN_"):
            monkeypatch.delenv(var)
    return home


# ----- a real PostgreSQL server, started once per session when a test asks ---------------


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of a private PostgreSQL server (its own dir, port and socket), stopped at the end.

    Skips when the server binaries are absent, except in CI, where that is a failure.
    """
    with private_postgres() as server:
        yield server.server_url


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A fresh, empty database on the session's PostgreSQL server."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{postgres_server}/{name}"


# ----- a real computenet server (uvicorn in a thread) over a runtime ----------------------


@pytest.fixture
def make_live_server() -> Iterator[Callable[[Any], LiveServer]]:
    """Start servers for runtimes; all are stopped at the end of the test."""
    started: list[LiveServer] = []

    def make(settings: Any) -> LiveServer:
        from computenet.core.runtime import Runtime

        server = LiveServer(Runtime(settings))
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


# ----- fake clusters and a runtime over them, driven pass by pass -------------------------


@pytest.fixture
def fake_cluster_configs() -> list[Any]:
    """The two fake clusters of ``tests.support.clusters``; override per directory."""
    return fake_configs()


@pytest.fixture
def clock() -> Any:
    from computenet.clock import FakeClock

    return FakeClock(1_800_000_000.0)


@pytest.fixture
async def runtime(
    tmp_path: Path, clock: Any, fake_cluster_configs: list[Any]
) -> AsyncIterator[Any]:
    """A runtime over fake clusters on the fake clock; tests call
    ``runtime.controller.step()`` themselves."""
    async with fake_runtime(tmp_path, clock, fake_cluster_configs) as rt:
        yield rt
