"""The site agent's control listener: a thin map from requests onto a confined
LocalEndpoint.

Starlette on uvicorn rather than FastAPI: bodies are small JSON or raw bytes,
so request models and OpenAPI buy nothing, and a lean app keeps start-up time
low. Chunks and batches normally go to the bulk listener (``agent_data``); the
data routes stay here for clients that know no ``bulk_url``. Every route but
``/v1/health`` needs a bearer token (signed, with expiry and scope; see ``tokens``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from computenet.errors import ComputeNetError, LimitError, SpecError
from computenet.transfer import batch, tokens
from computenet.transfer.agent_data import MAX_BODY_BYTES
from computenet.transfer.endpoint import PartIdent
from computenet.transfer.local import LocalEndpoint

MAX_TOKEN_TTL_S = 7 * 86400
Handler = Callable[[Request], Awaitable[Response]]


class AgentState:
    def __init__(self, root: Path, secret: bytes) -> None:
        self.local = LocalEndpoint(root, name="agent")
        self.secret = secret
        self.pulls: dict[str, dict[str, Any]] = {}


def _error(exc: ComputeNetError) -> JSONResponse:
    return JSONResponse(exc.to_dict(), status_code=exc.http_status)


def _q(request: Request, key: str) -> str:
    value = request.query_params.get(key)
    if value is None:
        raise SpecError(f"missing query parameter {key!r}")
    return value


def _qi(request: Request, key: str) -> int:
    try:
        return int(_q(request, key))
    except ValueError as exc:
        raise SpecError(f"query parameter {key!r} must be an integer") from exc


async def _body(request: Request) -> bytes:
    length = int(request.headers.get("content-length") or 0)
    if length > MAX_BODY_BYTES:
        raise LimitError(f"request body of {length} bytes is over {MAX_BODY_BYTES}")
    return await request.body()


async def _pieces(request: Request) -> list[bytes]:
    """The body as the server received it, unjoined: a chunk is hashed and written
    piece by piece (``pwritev``), which saves a copy of every byte."""
    out: list[bytes] = []
    total = 0
    async for piece in request.stream():
        total += len(piece)
        if total > MAX_BODY_BYTES:
            raise LimitError(f"request body is over {MAX_BODY_BYTES} bytes")
        if piece:
            out.append(piece)
    return out


def build_app(root: Path, secret: bytes, *, state: AgentState | None = None) -> Starlette:
    """The agent's app on its control listener (TLS). It also answers the data routes,
    for clients that predate the bulk listener (``agent_data``)."""
    state = state or AgentState(root, secret)
    local, secret = state.local, state.secret

    def route(path: str, methods: list[str], write: bool = False) -> Callable[[Handler], Route]:
        def wrap(fn: Handler) -> Route:
            async def endpoint(request: Request) -> Response:
                try:
                    auth = request.headers.get("authorization", "")
                    token = auth.removeprefix("Bearer ").strip()
                    tokens.check(
                        secret,
                        token,
                        now=time.time(),
                        need_write=write,
                    )
                    return await fn(request)
                except ComputeNetError as exc:
                    return _error(exc)

            return Route(path, endpoint, methods=methods)

        return wrap

    @route("/v1/stat", ["GET"])
    async def stat(request: Request) -> Response:
        st = await local.stat(_q(request, "path"))
        return JSONResponse(dataclasses.asdict(st) if st else None)

    @route("/v1/walk", ["GET"])
    async def walk(request: Request) -> Response:
        entries = await local.walk(_q(request, "path"))
        rows = [[e.rel, e.size, e.mtime_ns, e.mode, e.is_dir] for e in entries]
        return JSONResponse(rows)

    @route("/v1/read", ["GET"])
    async def read(request: Request) -> Response:
        data = await local.read(
            _q(request, "path"), _qi(request, "offset"), min(_qi(request, "length"), MAX_BODY_BYTES)
        )
        return Response(data, media_type="application/octet-stream")

    @route("/v1/read-batch", ["POST"])
    async def read_batch(request: Request) -> Response:
        paths = json.loads(await _body(request))
        blobs = await local.read_batch([str(p) for p in paths])
        return Response(batch.pack_blobs(blobs), media_type="application/octet-stream")

    @route("/v1/hash", ["GET"])
    async def hash_chunks(request: Request) -> Response:
        digests = await local.hash_chunks(
            _q(request, "path"),
            _qi(request, "chunk_size"),
            part=request.query_params.get("part") == "1",
        )
        return JSONResponse(digests)

    @route("/v1/mkdirs", ["POST"], write=True)
    async def mkdirs(request: Request) -> Response:
        """``?path=P`` for one directory, or a JSON list of paths as the body for many."""
        if "path" in request.query_params:
            await local.mkdirs(_q(request, "path"))
        else:
            paths = json.loads(await _body(request) or b"[]")
            if not isinstance(paths, list):
                raise SpecError("mkdirs expects a JSON list of paths")
            await local.mkdirs_many([str(p) for p in paths])
        return JSONResponse(True)

    @route("/v1/begin", ["POST"], write=True)
    async def begin(request: Request) -> Response:
        ident = PartIdent(**json.loads(await _body(request)))
        done = await local.begin(_q(request, "path"), ident)
        return JSONResponse({str(k): v for k, v in done.items()})

    @route("/v1/chunk", ["PUT"], write=True)
    async def chunk(request: Request) -> Response:
        await local.write_chunk(
            _q(request, "path"),
            _qi(request, "index"),
            _qi(request, "offset"),
            await _pieces(request),
            _q(request, "digest"),
            compressed=request.query_params.get("z") == "1",
        )
        return JSONResponse(True)

    @route("/v1/verify", ["POST"], write=True)
    async def verify(request: Request) -> Response:
        digests = [str(d) for d in json.loads(await _body(request))]
        bad = await local.verify(_q(request, "path"), _qi(request, "chunk_size"), digests)
        return JSONResponse(bad)

    @route("/v1/finish", ["POST"], write=True)
    async def finish(request: Request) -> Response:
        await local.finish(_q(request, "path"), _qi(request, "mode"), _qi(request, "mtime_ns"))
        return JSONResponse(True)

    @route("/v1/abort", ["POST"], write=True)
    async def abort(request: Request) -> Response:
        await local.abort(_q(request, "path"))
        return JSONResponse(True)

    @route("/v1/batch", ["POST"], write=True)
    async def write_batch(request: Request) -> Response:
        await local.write_frame(
            await _body(request),
            request.query_params.get("digest", ""),
            compressed=request.query_params.get("z") == "1",
        )
        return JSONResponse(True)

    @route("/v1/tokens", ["POST"], write=True)
    async def mint(request: Request) -> Response:
        req = json.loads(await _body(request) or b"{}")
        ttl_s = min(float(req.get("ttl_s", 3600)), MAX_TOKEN_TTL_S)
        scope = str(req.get("scope", "r"))
        if scope not in tokens.SCOPES:  # "d": only for a listener the agent runs
            raise SpecError(f"unknown scope {scope!r}")
        expires_at = time.time() + ttl_s
        return JSONResponse(
            {
                "token": tokens.mint(secret, expires_at=expires_at, scope=scope),
                "expires_at": expires_at,
            }
        )

    @route("/v1/pull", ["POST"], write=True)
    async def pull(request: Request) -> Response:
        from computenet.transfer.pull import start_pull

        req = json.loads(await _body(request))
        pull_id = uuid.uuid4().hex
        state.pulls[pull_id] = {"state": "running", "bytes_done": 0}
        task = asyncio.get_running_loop().create_task(start_pull(local, req, state.pulls[pull_id]))
        state.pulls[pull_id]["_task"] = task
        return JSONResponse({"id": pull_id})

    @route("/v1/pull/{pull_id}", ["GET"])
    async def pull_status(request: Request) -> Response:
        status = state.pulls.get(request.path_params["pull_id"])
        if status is None:
            return JSONResponse({"code": "not_found", "message": "no such pull"}, 404)
        return JSONResponse({k: v for k, v in status.items() if not k.startswith("_")})

    async def health(_request: Request) -> Response:
        return JSONResponse({"ok": True, "service": "computenet-agent"})

    routes = [
        stat,
        walk,
        read,
        read_batch,
        hash_chunks,
        mkdirs,
        begin,
        chunk,
        verify,
        finish,
        abort,
        write_batch,
        mint,
        pull,
        pull_status,
        Route("/v1/health", health),
    ]
    return Starlette(routes=routes)
