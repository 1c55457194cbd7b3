"""A free loopback TCP port for a private test daemon."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nothing listens on now (the daemon binds it a moment later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
