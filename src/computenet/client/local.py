"""Find the server to talk to, starting a local one in the background if needed.

The local server's pid, url, Unix socket and log live under the user's
state dir; its token is the 0600 file under the data dir.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2

from computenet import runners
from computenet.config import Settings, load_settings
from computenet.errors import AuthError, ServerError

START_TIMEOUT_S = 30.0


def read_server_file(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def healthy(url: str) -> bool:
    try:
        verify = url.startswith("https://")
        return httpx2.get(url + "/healthz", timeout=2.0, verify=verify).status_code == 200
    except httpx2.HTTPError:
        return False


def listening(path: str) -> bool:
    """Whether a server accepts connections on the Unix socket at ``path``
    (a connect, about 0.1 ms, instead of an HTTP health check)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        return False
    finally:
        sock.close()
    return True


def answering(info: dict[str, Any]) -> bool:
    path = info.get("socket")
    return listening(path) if path else healthy(info["url"])


def local_status(settings: Settings) -> dict[str, Any] | None:
    info = read_server_file(settings.server_file)
    if info is None or not runners.alive(int(info.get("pid", 0))):
        return None
    return info


def start_local(settings: Settings) -> dict[str, Any]:
    """Start the local server unless it runs; return its server-file record."""
    info = local_status(settings)
    if info is not None and answering(info):
        return info
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    log_path = settings.state_dir / "server.log"
    with contextlib.suppress(FileNotFoundError):
        settings.server_file.unlink()
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "computenet.api.serve"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
            raise ServerError(
                "the local server failed to start: "
                + (" | ".join(tail) or f"exit {proc.returncode}")
                + f" (log: {log_path})"
            )
        info = read_server_file(settings.server_file)
        if info is not None and info.get("pid") == proc.pid and healthy(info["url"]):
            info["log"] = str(log_path)
            return info
        time.sleep(0.05)
    raise ServerError(
        f"the local server did not start within {START_TIMEOUT_S:.0f} s (log: {log_path})"
    )


def stop_local(settings: Settings, timeout_s: float = 10.0) -> bool:
    info = local_status(settings)
    if info is None:
        return False
    pid = int(info["pid"])
    os.kill(pid, 15)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and runners.alive(pid):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(0.05)
    if runners.alive(pid):
        os.kill(pid, 9)
    with contextlib.suppress(FileNotFoundError):
        settings.server_file.unlink()
    return True


@dataclass(frozen=True)
class ServerAddress:
    url: str
    token: str
    socket: str | None = None  # the local server's Unix socket, when it has one


def resolve_address(*, start: bool = True, settings: Settings | None = None) -> ServerAddress:
    """The server named by settings (CN_SERVER_URL), else the local one,
    started in the background if ``start`` and it is not running."""
    settings = settings or load_settings()
    if settings.server_url:
        if not settings.token:
            raise AuthError("CN_SERVER_URL is set but CN_TOKEN is not")
        return ServerAddress(settings.server_url, settings.token)
    if start:
        info = start_local(settings)
    else:
        info = local_status(settings) or {}
        if not info:
            raise ServerError("no local server is running (start it with: cnet server start)")
    token = settings.token or settings.token_file.read_text().strip()
    path = info.get("socket")
    return ServerAddress(str(info["url"]), token, path if isinstance(path, str) else None)


def resolve_server(*, start: bool = True, settings: Settings | None = None) -> tuple[str, str]:
    address = resolve_address(start=start, settings=settings)
    return address.url, address.token
