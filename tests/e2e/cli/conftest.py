"""A private local server, reached through the real ``cnet`` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

Cnet = Callable[..., subprocess.CompletedProcess[str]]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CN_")}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        XDG_STATE_HOME=str(home / ".local/state"),
        COLUMNS="200",
    )
    return env


@pytest.fixture(scope="module")
def cnet_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("cnet-home")
    yield home
    subprocess.run(
        [sys.executable, "-m", "computenet.cli.main", "server", "stop"],
        env=_env(home),
        capture_output=True,
        timeout=60,
    )


@pytest.fixture
def cnet(cnet_home: Path) -> Cnet:
    """Run ``cnet ARGS`` as a user would, in the module's private home."""

    def run(
        *args: str, input: str | None = None, timeout: float = 120, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "computenet.cli.main", *args],
            env=_env(cnet_home),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=cwd or cnet_home,
        )

    return run


def as_json(proc: subprocess.CompletedProcess[str]) -> dict:  # type: ignore[type-arg]
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]
