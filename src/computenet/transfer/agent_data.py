"""The agent's data listeners: chunk and batch bytes served by threads, not an event loop.

Each connection has its own thread and a blocking socket. On the TLS (bulk)
listener ``SSL_read`` and ``SSL_write`` decrypt and encrypt with the GIL
released, BLAKE3 hashes a chunk with the GIL released and ``pwritev`` writes
it, so the streams of one copy can use every core at once, where one event
loop decrypted every stream on a single core. Each connection reads bodies
into one buffer it keeps (and hands on when it closes), so received bytes do
not land in freshly faulted pages. The work runs in the connection's own
thread: the routes call the local endpoint's synchronous methods, with no hop
to a pool.

Served here: ``ROUTES`` (bytes in and out, no control call) and
``/v1/health``, with the same tokens and scopes as the control listener (the
plain listener takes data tokens only), the same confined ``LocalEndpoint``
(its path rules, its check of every chunk on arrival and its manifest) and
the same ``MAX_BODY_BYTES``. Parts are begun, verified and finished over the
control listener (Starlette); their chunks arrive here.
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from computenet.errors import ComputeNetError, LimitError, NotFoundError, SpecError
from computenet.transfer import batch, tokens
from computenet.transfer.chunks import DEFAULT_CHUNK_BYTES
from computenet.transfer.local import LocalEndpoint

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 256 * 2**20
#: each connection reads bodies up to this size into one buffer it keeps, and
#: hands it on when it closes (each copy opens new connections), up to a few
KEPT_BUFFER_BYTES = DEFAULT_CHUNK_BYTES
MAX_SPARE_BUFFERS = 6
#: a connection idle this long is dropped (the client reconnects on its next chunk)
IDLE_TIMEOUT_S = 300.0

Query = dict[str, str]
#: a route: (local endpoint, query, body) -> (content type, reply bytes)
Route = Callable[[LocalEndpoint, Query, memoryview], tuple[str, bytes]]


def _q(query: Query, key: str) -> str:
    value = query.get(key)
    if value is None:
        raise SpecError(f"missing query parameter {key!r}")
    return value


def _qi(query: Query, key: str) -> int:
    try:
        return int(_q(query, key))
    except ValueError as exc:
        raise SpecError(f"query parameter {key!r} must be an integer") from exc


JSON_TRUE = ("application/json", b"true")


def _chunk(local: LocalEndpoint, query: Query, body: memoryview) -> tuple[str, bytes]:
    local._write_chunk(
        _q(query, "path"),
        _qi(query, "index"),
        _qi(query, "offset"),
        [body],
        _q(query, "digest"),
        query.get("z") == "1",
    )
    return JSON_TRUE


def _batch(local: LocalEndpoint, query: Query, body: memoryview) -> tuple[str, bytes]:
    local._write_frame(bytes(body), query.get("digest", ""), query.get("z") == "1")
    return JSON_TRUE


def _read(local: LocalEndpoint, query: Query, body: memoryview) -> tuple[str, bytes]:
    length = min(_qi(query, "length"), MAX_BODY_BYTES)
    return "application/octet-stream", local._read(_q(query, "path"), _qi(query, "offset"), length)


def _read_batch(local: LocalEndpoint, query: Query, body: memoryview) -> tuple[str, bytes]:
    try:
        paths = json.loads(bytes(body))
    except ValueError as exc:
        raise SpecError(f"read-batch expects a JSON list of paths: {exc}") from exc
    if not isinstance(paths, list):
        raise SpecError("read-batch expects a JSON list of paths")
    blobs = local._read_batch([str(p) for p in paths])
    return "application/octet-stream", batch.pack_blobs(blobs)


#: (method, path) -> (route, needs a write scope)
ROUTES: dict[tuple[str, str], tuple[Route, bool]] = {
    ("PUT", "/v1/chunk"): (_chunk, True),
    ("POST", "/v1/batch"): (_batch, True),
    ("GET", "/v1/read"): (_read, False),
    ("POST", "/v1/read-batch"): (_read_batch, False),
}


class DataServer(ThreadingHTTPServer):
    """One data listener on an already bound socket: TLS when ``tls`` is given,
    else plain HTTP that takes data tokens only (integrity-only copies)."""

    daemon_threads = True
    block_on_close = False

    def __init__(
        self,
        sock: socket.socket,
        local: LocalEndpoint,
        secret: bytes,
        tls: ssl.SSLContext | None,
    ) -> None:
        super().__init__(sock.getsockname()[:2], DataHandler, bind_and_activate=False)
        self.socket.close()
        self.socket = sock
        self.server_address = sock.getsockname()
        self.local, self.secret, self.tls = local, secret, tls
        #: body buffers of closed connections, for the next ones (pages faulted in already)
        self.spare: list[bytearray] = []
        sock.listen(128)

    def get_request(self) -> tuple[Any, Any]:
        conn, addr = self.socket.accept()
        if self.tls is not None:
            # the handshake runs on the first read, in the connection's own thread
            conn = self.tls.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        return conn, addr

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A peer that goes away or times out mid-request is not the agent's error;
        anything else is logged with its traceback."""
        if isinstance(sys.exc_info()[1], OSError):  # ConnectionError, SSLError, TimeoutError
            return
        log.exception("data request from %s failed", client_address)


class DataHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_TIMEOUT_S
    server: DataServer
    _buf: bytearray | None = None

    def log_message(self, format: str, *args: Any) -> None:
        """No access log (the control listener keeps none either)."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        if url.path == "/v1/health" and method == "GET":
            self._reply(200, "application/json", b'{"ok": true, "service": "computenet-agent"}')
            return
        try:
            length = self._length()
        except ComputeNetError as exc:
            self.close_connection = True  # the body is not read: the stream is out of step
            self._error(exc)
            return
        try:
            found = ROUTES.get((method, url.path))
            if found is None:
                raise NotFoundError(f"no route {method} {url.path} on the agent's data listener")
            route, write = found
            tokens.check(
                self.server.secret,
                self.headers.get("authorization", "").removeprefix("Bearer ").strip(),
                now=time.time(),
                need_write=write,
                data_listener=self.server.tls is None,
            )
        except ComputeNetError as exc:
            self._body(length)  # read and dropped, so the connection stays usable
            self._error(exc)
            return
        try:
            try:
                query = dict(parse_qsl(url.query))
                ctype, reply = route(self.server.local, query, self._body(length))
            except (KeyError, TypeError, ValueError) as exc:  # a malformed batch header
                raise SpecError(f"malformed request: {exc!r}") from exc
        except ComputeNetError as exc:
            self._error(exc)
            return
        self._reply(200, ctype, reply)

    def _length(self) -> int:
        if self.headers.get("transfer-encoding"):
            raise SpecError("the agent's data listener needs a body with a Content-Length")
        try:
            length = int(self.headers.get("content-length") or 0)
        except ValueError as exc:
            raise SpecError("bad Content-Length") from exc
        if length < 0:
            raise SpecError("bad Content-Length")
        if length > MAX_BODY_BYTES:
            raise LimitError(f"request body of {length} bytes is over {MAX_BODY_BYTES}")
        return length

    def finish(self) -> None:
        super().finish()
        if self._buf is not None and len(self.server.spare) < MAX_SPARE_BUFFERS:
            self.server.spare.append(self._buf)
        self._buf = None

    def _body(self, length: int) -> memoryview:
        """The body, read into this connection's buffer (valid until the next request);
        a body larger than a kept buffer gets one of its own."""
        if length > KEPT_BUFFER_BYTES:
            buf = bytearray(length)
        else:
            if self._buf is None:
                try:
                    self._buf = self.server.spare.pop()
                except IndexError:
                    self._buf = bytearray(KEPT_BUFFER_BYTES)
            buf = self._buf
        view = memoryview(buf)[:length]
        got = 0
        while got < length:
            n = self.rfile.readinto(view[got:])
            if not n:
                raise ConnectionError("peer closed the connection inside a request body")
            got += n
        return view

    def _error(self, exc: ComputeNetError) -> None:
        self._reply(exc.http_status, "application/json", json.dumps(exc.to_dict()).encode())

    def _reply(self, status: int, ctype: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        if self.close_connection:
            self.send_header("connection", "close")
        self.end_headers()
        self.wfile.write(body)


def start(servers: list[DataServer]) -> list[threading.Thread]:
    """Serve each listener from a thread of its own (each connection gets another)."""
    threads = [
        threading.Thread(target=s.serve_forever, name="cnet-agent-data", daemon=True)
        for s in servers
    ]
    for t in threads:
        t.start()
    return threads
