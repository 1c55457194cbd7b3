"""Schemathesis throws generated requests at every operation of the live
OpenAPI schema: none may answer with a server error, with a valid token or
with a wrong one. Run through its command line, which is its stable face."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from computenet.config import ClusterConfig, PartitionConfig, Settings
from computenet.core.runtime import Runtime
from tests.support.live import TOKEN, LiveServer

pytestmark = pytest.mark.integration


def _live_server(root: Path) -> LiveServer:
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
    return live


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = _live_server(tmp_path_factory.mktemp("fuzz"))
    yield live
    live.stop()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server no earlier fuzzing has changed: the one-call phases may revoke
    the very token the chains need, or leave nothing to link from."""
    live = _live_server(tmp_path / "fresh")
    yield live
    live.stop()


def _schemathesis() -> list[str]:
    exe = shutil.which("schemathesis", path=os.path.dirname(sys.executable)) or shutil.which(
        "schemathesis"
    )
    if exe is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[dev]')")
    return [exe]


@pytest.mark.parametrize("token", [TOKEN, "cn_wrong_token"])
def test_no_operation_answers_with_a_server_error(
    server: LiveServer, token: str, tmp_path: Path
) -> None:
    proc = subprocess.run(
        [
            *_schemathesis(),
            "run",
            server.url + "/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "15",
            "--header",
            f"Authorization: Bearer {token}",
            "--report-dir",
            str(tmp_path),
            "--seed",
            "1",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_stateful_sequences_never_answer_with_a_server_error(
    fresh_server: LiveServer, tmp_path: Path
) -> None:
    """Chains of calls along the links schemathesis infers between operations
    (an id one answers, fed to the next), beyond the one-call phases above."""
    proc = subprocess.run(
        [
            *_schemathesis(),
            "run",
            fresh_server.url + "/openapi.json",
            "--phases",
            "stateful",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "300",
            "--header",
            f"Authorization: Bearer {TOKEN}",
            "--seed",
            "1",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    links = re.search(r"API Links:\s+(\d+) covered / (\d+) selected", proc.stdout)
    assert links is not None and int(links.group(2)) > 0, proc.stdout[-2000:]
    assert int(links.group(1)) > 0  # at least one chain was followed
