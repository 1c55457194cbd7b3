"""The server's Unix socket for local clients, and how clients find it."""

from __future__ import annotations

import socket
from pathlib import Path

from computenet.api.serve import _unix_socket
from computenet.client.local import answering, listening


def test_unix_socket_is_private_and_replaces_a_stale_file(tmp_path: Path) -> None:
    path = tmp_path / "server.sock"
    path.write_text("left over from a crash")
    usock, where = _unix_socket(path)
    assert usock is not None and where == str(path)
    try:
        assert path.stat().st_mode & 0o777 == 0o600
        assert not listening(where)  # bound, not yet accepting
        usock.listen()
        assert listening(where)
    finally:
        usock.close()


def test_no_socket_where_the_path_is_too_long(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 120)
    assert _unix_socket(deep / "server.sock") == (None, None)


def test_answering_falls_back_to_the_url_without_a_socket() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    assert not answering({"url": f"http://127.0.0.1:{port}"})
    assert not answering({"url": "http://127.0.0.1:1", "socket": "/nonexistent/server.sock"})
