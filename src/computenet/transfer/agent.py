"""Running the site agent: state, certificate, first token, info file, server."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from computenet.errors import ConfigError
from computenet.transfer import tls, tokens

DEFAULT_TOKEN_TTL_S = 365 * 86400


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise ConfigError(f"bad --listen {text!r}: expected HOST:PORT")
    return host.strip("[]") or "127.0.0.1", int(port)


def write_info(path: Path, info: dict[str, str]) -> None:
    """Write the info file with mode 0600 from the start (it holds a token)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(info, fh)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _bind(host: str, port: int) -> tuple[socket.socket, str]:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # accepted connections inherit it: a reply's headers and body leave in separate
    # writes, and Nagle would hold the body back for the peer's delayed ACK (~40 ms)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    url_host = f"[{host}]" if ":" in host else host
    return sock, f"{url_host}:{sock.getsockname()[1]}"


def prepare(
    root: Path,
    listen: str,
    info_file: Path,
    state_dir: Path | None = None,
    token_ttl_s: float = DEFAULT_TOKEN_TTL_S,
    data_listen: str | None = None,
    bulk_listen: str | None = None,
) -> tuple[list[socket.socket], Path, Path, bytes]:
    """Bind the sockets (port 0 picks one), make the certificate and the first token.

    The sockets: the control listener (TLS), the bulk listener (TLS, chunk and
    batch bytes; ``bulk_listen``, by default any port on the control host; its URL
    goes to the info file as ``bulk_url``) and, with ``data_listen``, the plain
    listener for integrity-only data (``data_url``)."""
    if not root.is_dir():
        raise ConfigError(f"agent root {root} is not a directory")
    host, port = parse_listen(listen)
    bulk_host, bulk_port = parse_listen(bulk_listen) if bulk_listen else (host, 0)
    state = state_dir or info_file.with_name(info_file.name + ".state")
    cert, key = tls.ensure_certificate(state, host)
    secret = tokens.load_secret(state)
    sock, where = _bind(host, port)
    bulk_sock, bulk_where = _bind(bulk_host, bulk_port)
    token = tokens.mint(secret, expires_at=time.time() + token_ttl_s, scope="rw")
    info = {
        "url": f"https://{where}",
        "bulk_url": f"https://{bulk_where}",
        "token": token,
        "fingerprint": tls.fingerprint_pem(cert.read_bytes()),
    }
    socks = [sock, bulk_sock]
    if data_listen is not None:
        data_sock, data_where = _bind(*parse_listen(data_listen))
        socks.append(data_sock)
        info["data_url"] = f"http://{data_where}"
    write_info(info_file, info)
    return socks, cert, key, secret


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
MMAP_THRESHOLD_BYTES = 32 * 2**20  # glibc's largest on 64-bit
TRIM_THRESHOLD_BYTES = 256 * 2**20


def keep_freed_memory() -> bool:
    """Let freed chunk buffers be reused instead of handed back to the kernel.

    Every chunk arrives as 8 MiB of pieces that are freed once written. By
    default glibc maps buffers that large afresh and trims its heap after each
    free, so every received byte lands in a newly faulted, zeroed page: that was
    2.6-3.0 s of the agent's system time per GiB against 0.9 s with this, and
    the agent then keeps a few tens of MiB. False where there is no glibc.
    """
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
        and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    )


def serve(
    root: Path,
    listen: str,
    info_file: Path,
    state_dir: Path | None = None,
    data_listen: str | None = None,
    bulk_listen: str | None = None,
) -> None:
    """Run the agent in the foreground until interrupted: the control listener
    (Starlette on uvicorn) in the main thread, the data listeners (``agent_data``)
    in threads of their own."""
    import uvicorn

    from computenet.transfer import agent_data
    from computenet.transfer.agent_app import AgentState, build_app

    keep_freed_memory()

    socks, cert, key, secret = prepare(
        root, listen, info_file, state_dir, data_listen=data_listen, bulk_listen=bulk_listen
    )
    state = AgentState(root, secret)
    servers = [agent_data.DataServer(socks[1], state.local, secret, tls.server_context(cert, key))]
    if len(socks) > 2:
        servers.append(agent_data.DataServer(socks[2], state.local, secret, None))
    agent_data.start(servers)
    config = uvicorn.Config(
        build_app(root, secret, state=state),
        ssl_certfile=str(cert),
        ssl_keyfile=str(key),
        log_level="warning",
        access_log=False,
        # uvloop and httptools when installed (C event loop and parser), else asyncio/h11
        loop="auto",
        http="auto",
        h11_max_incomplete_event_size=1 << 20,
    )
    try:
        uvicorn.Server(config).run(sockets=socks[:1])
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
