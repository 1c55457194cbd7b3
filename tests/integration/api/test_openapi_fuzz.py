"""Schemathesis throws generated requests at every operation of the OpenAPI
schema: none may answer with a server error, with or without a valid token."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from tests.support.live import TOKEN, LiveServer

from computenet.config import Settings
from computenet.core.runtime import Runtime

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from computenet.config import ClusterConfig, PartitionConfig

    root: Path = tmp_path_factory.mktemp("fuzz")
    clusters = [
        ClusterConfig(
            name="alpha",
            kind="fake",
            partitions=[PartitionConfig(name="cpu", nodes=2, cores=4, default=True)],
        )
    ]
    live = LiveServer(
        Runtime(
            Settings(
                data_dir=root / "d",
                state_dir=root / "s",
                clusters=clusters,
                token=TOKEN,
                user="admin",
                max_script_bytes=4096,
                max_bulk_jobs=50,
            )
        )
    )
    yield live
    live.stop()


@pytest.fixture(scope="module")
def api_schema(server: LiveServer) -> Any:
    return schemathesis.openapi.from_url(server.url + "/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: Any, server: LiveServer) -> None:
    for headers in ({"Authorization": f"Bearer {TOKEN}"}, {"Authorization": "Bearer nope"}):
        response = case.call(base_url=server.url, headers=headers)
        case.validate_response(response, checks=[not_a_server_error])
