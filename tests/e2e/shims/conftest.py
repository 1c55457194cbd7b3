"""A private computenet server (default embedded clusters) and the shims
installed in a directory first on PATH, shared by a test module."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CNET = [sys.executable, "-m", "computenet.cli.main"]


@dataclass(frozen=True)
class Net:
    """Where the shims live and the environment that reaches the server."""

    bin: Path
    env: dict[str, str]

    def run(
        self,
        *argv: str,
        input: str | None = None,
        cwd: Path | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(argv),
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            cwd=cwd,
            timeout=timeout,
        )


def _private_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CN_", "SLURM_", "SBATCH_"))}
    env["HOME"] = str(home)
    for var, sub in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_STATE_HOME", ".local/state"),
    ):
        env[var] = str(home / sub)
    return env


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, dict[str, str]]]:
    """A local server of its own: (url, token, the environment it was started in)."""
    home = tmp_path_factory.mktemp("server-home")
    env = _private_env(home)
    started = subprocess.run(
        [*CNET, "server", "start", "--json"], env=env, capture_output=True, text=True, timeout=60
    )
    assert started.returncode == 0, started.stderr
    info = json.loads(started.stdout)
    token = (home / ".local/share/computenet/token").read_text().strip()
    try:
        yield info["url"], token, env
    finally:
        subprocess.run([*CNET, "server", "stop"], env=env, capture_output=True, timeout=60)


@pytest.fixture
def net(
    server: tuple[str, str, dict[str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Net:
    """Shims installed in a fresh directory, first on PATH, talking to the
    module's server (also set in this process, for in-process clients)."""
    url, token, server_env = server
    bin_dir = tmp_path / "bin"
    installed = subprocess.run(
        [*CNET, "shims", "install", str(bin_dir)],
        env=server_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert installed.returncode == 0, installed.stderr
    env = _private_env(Path(os.environ["HOME"]))
    env.update(
        {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "CN_SERVER_URL": url,
            "CN_TOKEN": token,
            "USER": server_env.get("USER", "local"),
        }
    )
    for key in ("PATH", "CN_SERVER_URL", "CN_TOKEN"):
        monkeypatch.setenv(key, env[key])
    return Net(bin_dir, env)
